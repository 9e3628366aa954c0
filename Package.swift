// swift-tools-version:5.9
// basin: train, ensemble and dissect networks fine-tuned from a pre-trained checkpoint.
//
// Data flows one way: BasinHDF5 (the only user of the HDF5 C library) and BasinCore <- BasinData,
// BasinCheckpoint <- BasinRecipes, BasinAnalysis <- basin (CLI).
// BasinPlot draws arrays and knows nothing of training; the CLI connects it to analysis files.
import PackageDescription

let package = Package(
    name: "basin",
    products: [
        .executable(name: "basin", targets: ["basin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Native libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),

        // C runtime settings Swift cannot reach (glibc malloc tuning).
        .target(name: "CRuntime", path: "Sources/CRuntime"),
        // The training core: tensors, layers, models, loss, optimizers, schedules, RNG.
        .target(name: "BasinCore", dependencies: ["CBLAS", "CRuntime"]),
        // The HDF5 layer: values and errors, files, groups, the SHA-256 file seal, atomic writes.
        // Nothing above it calls HDF5 or sees an HDF5 C type.
        .target(name: "BasinHDF5", dependencies: ["CHDF5"]),
        // Data sets: IDX (Fashion-MNIST), class subsets, normalization, augmentation, batching.
        .target(name: "BasinData", dependencies: ["BasinCore", "BasinHDF5", "CZlib"]),
        // Checkpoint I/O: the checkpoint format on HDF5, validation of everything before use.
        .target(name: "BasinCheckpoint", dependencies: ["BasinCore", "BasinHDF5"]),
        // Training recipes: training loops, pre-training, fine-tuning, ensembles.
        .target(name: "BasinRecipes", dependencies: ["BasinCore", "BasinHDF5", "BasinData", "BasinCheckpoint"]),
        // Analysis: interpolation, planes, diversity, ensemble metrics, soups.
        .target(name: "BasinAnalysis", dependencies: ["BasinCore", "BasinHDF5", "BasinData", "BasinCheckpoint"]),
        // Plotting: PNG figures from arrays (cairo + libpng); knows nothing of training.
        .target(name: "BasinPlot", dependencies: ["CPNGShim", "CCairo"]),
        // libpng behind setjmp: PNG errors come back as return codes, never longjmp through Swift.
        .target(name: "CPNGShim", dependencies: ["CPNG"]),
        // The command-line tool.
        .executableTarget(name: "basin", dependencies: [
            "BasinCore", "BasinHDF5", "BasinData", "BasinCheckpoint", "BasinRecipes", "BasinAnalysis", "BasinPlot",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Test support for every test target: tolerance helpers, finite differences, the temporary
        // folder base, the binary runner, small synthetic data and data set files (HDF5 through BasinHDF5).
        .target(name: "TestSupport", dependencies: ["BasinCore", "BasinHDF5", "CZlib"], path: "Tests/TestSupport"),
        .testTarget(name: "BasinCoreTests", dependencies: ["BasinCore", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "BasinDataTests", dependencies: ["BasinData", "BasinCore", "TestSupport"]),
        .testTarget(name: "BasinPlotTests", dependencies: ["BasinPlot"]),
        .testTarget(name: "BasinCheckpointTests", dependencies: ["BasinCheckpoint", "BasinHDF5", "BasinCore", "TestSupport"]),
        .testTarget(name: "BasinRecipesTests", dependencies: ["BasinRecipes", "BasinCheckpoint", "BasinHDF5", "BasinData",
                                                             "BasinCore", "TestSupport"]),
        // Runs the built `basin` binary (BASIN_BIN or .build/release/basin); links nothing of basin
        // but TestSupport, whose writers make its data set files.
        .testTarget(name: "BasinCLITests", dependencies: ["TestSupport"]),
        // `basin plot` end to end: writes tiny results files, runs the binary, decodes the PNGs.
        .testTarget(name: "BasinPlotCLITests", dependencies: ["BasinPlot", "BasinAnalysis", "BasinCheckpoint", "BasinHDF5",
                                                              "BasinCore", "TestSupport"]),
        .testTarget(name: "BasinAnalysisTests", dependencies: ["BasinAnalysis", "BasinCheckpoint", "BasinHDF5", "BasinCore",
                                                               "BasinData", "TestSupport"]),
    ]
)
