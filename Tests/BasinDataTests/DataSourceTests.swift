import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

/// `--dataset PATH`: the format told by what is at the path, both splits loaded, and the
/// normalization of the training split.
final class DataSourceTests: TemporaryFolderTestCase {
    /// Eight 3x32x32 training images whose channels are constant planes of 0 or 255:
    /// channel 0 is 1 in images 0-3, channel 1 in images 0-1, channel 2 in images 0-5.
    /// Per channel (pixels / 255): means 0.5, 0.25, 0.75; variances 0.25, 0.1875, 0.1875.
    func handMadeTrain() -> TinyImages {
        let on: [[Bool]] = (0..<8).map { i in [i < 4, i < 2, i < 6] }
        var pixels: [UInt8] = []
        for image in on { for c in 0..<3 { pixels += [UInt8](repeating: image[c] ? 255 : 0, count: 1024) } }
        return TinyImages(pixels: pixels, labels: (0..<8).map { $0 % 10 }, channels: 3, height: 32, width: 32)
    }

    /// Test images all white: statistics that included them would differ.
    func whiteTest(count: Int) -> TinyImages {
        TinyImages(pixels: [UInt8](repeating: 255, count: count * 3072), labels: (0..<count).map { 9 - $0 % 10 },
                   channels: 3, height: 32, width: 32)
    }

    func testCIFAR10FolderIsDetectedAndNormalizedWithItsTrainingStatistics() throws {
        let folder = path("cifar10")
        try DataFixtures.writeCIFAR10(folder: folder, train: handMadeTrain(), test: whiteTest(count: 3))
        let source = try DataSource.detect(path: folder)
        XCTAssertEqual(source, DataSource(format: .cifar10, path: folder))
        let data = try source.load()
        XCTAssertEqual(data.train.images.shape, [8, 3, 32, 32])
        XCTAssertEqual(data.test.images.shape, [3, 3, 32, 32])
        XCTAssertEqual(data.train.labels, Array(0..<8))
        XCTAssertEqual(data.test.labels, [9, 8, 7])
        // Exact: every sum is a dyadic rational, so double arithmetic rounds only in the square root.
        XCTAssertEqual(data.config.normalization.mean, [0.5, 0.25, 0.75])
        XCTAssertEqual(data.config.normalization.std, [0.5, Float(0.1875.squareRoot()), Float(0.1875.squareRoot())])
        XCTAssertEqual(data.config.inputShape, [3, 32, 32])
        XCTAssertEqual(data.config.numClasses, 10)
        XCTAssertEqual(data.config.format, .cifar10)
        // Image 4 has channels (0, 0, 1); a white test pixel is (1 - mean) / std per channel.
        let plane = 1024
        XCTAssertEqual(data.train.images.storage[4 * 3 * plane], (0 - 0.5) / 0.5)
        XCTAssertEqual(data.train.images.storage[(4 * 3 + 2) * plane], (1 - 0.75) / Float(0.1875.squareRoot()))
        XCTAssertEqual(data.test.images.storage[plane], (1 - 0.25) / Float(0.1875.squareRoot()))
        // A relative path resolves to the same absolute source.
        let relative = try DataSource.detect(path: folder + "/../cifar10")
        XCTAssertEqual(relative.path, folder)
    }

    func testCIFAR100FineByDefaultAndCoarseOnRequest() throws {
        let folder = path("cifar100")
        let images = TinyImages(count: 6, classes: 6, channels: 3, height: 32, width: 32, seed: 1)
        let fine = [5, 17, 42, 99, 0, 63]
        let train = TinyImages(pixels: images.pixels, labels: fine, channels: 3, height: 32, width: 32)
        try DataFixtures.writeCIFAR100(folder: folder, train: train, test: train, coarse: { $0 / 5 })
        let source = try DataSource.detect(path: folder)
        XCTAssertEqual(source.format, .cifar100)
        XCTAssertEqual(source.labels, .fine)
        let data = try source.load()
        XCTAssertEqual(data.train.labels, fine)
        XCTAssertEqual(data.config.numClasses, 100)
        let coarse = try DataSource.detect(path: folder, cifar100Labels: .coarse).load()
        XCTAssertEqual(coarse.train.labels, fine.map { $0 / 5 })
        XCTAssertEqual(coarse.config.numClasses, 20)
        XCTAssertEqual(coarse.config.labels, .coarse)
        // Same pixels, same statistics: the label choice changes nothing else.
        XCTAssertEqual(coarse.config.normalization, data.config.normalization)
    }

    func testHDF5Uint8NHWCAndFloat32NCHWReadTheSameImages() throws {
        // 3x5x4 images (not square, not 32x32); the test split has a class the training split lacks.
        let train = TinyImages(count: 6, classes: 3, channels: 3, height: 5, width: 4, seed: 2)
        let testImages = TinyImages(count: 4, classes: 4, channels: 3, height: 5, width: 4, seed: 3)
        try DataFixtures.writeHDF5(path: path("u8.h5"), train: train, test: testImages, float: false, layout: "NHWC")
        try DataFixtures.writeHDF5(path: path("f32.h5"), train: train, test: testImages, float: true, layout: "NCHW")
        let a = try DataSource.detect(path: path("u8.h5")).load()
        let b = try DataSource.detect(path: path("f32.h5")).load()
        XCTAssertEqual(a.config.format, .hdf5)
        XCTAssertEqual(a.train.images.shape, [6, 3, 5, 4])
        XCTAssertEqual(a.test.images.shape, [4, 3, 5, 4])
        XCTAssertEqual(a.config.numClasses, 4, "classes = largest label of either split + 1")
        XCTAssertEqual(a.train.numClasses, 4)
        XCTAssertEqual(a.test.labels, [0, 1, 2, 3])
        // float32 pixel / 255 in float equals the uint8 path's table value: identical bits throughout.
        XCTAssertEqual(a.train.images, b.train.images)
        XCTAssertEqual(a.test.images, b.test.images)
        XCTAssertEqual(a.config.normalization, b.config.normalization)
        XCTAssertEqual(a.config.inputShape, [3, 5, 4])
    }

    func testHDF5Float32StatisticsExact() throws {
        // Two 2-channel 1x2 images: channel 0 holds 0.25 and 0.75, channel 1 holds 0.5 and 1.5 (float32 taken as is).
        let p = path("exact.h5")
        let writer = try HDF5FixtureWriter(path: p)
        for (group, values) in [("train", [Float(0.25), 0.25, 0.5, 0.5, 0.75, 0.75, 1.5, 1.5]), ("test", [Float](repeating: 9, count: 8))] {
            try writer.writeImages(.float32(values), shape: [2, 2, 1, 2], group: group, layout: "NCHW")
            try writer.writeLabels([0, 1], group: group)
        }
        try writer.close()
        let data = try DataSource.detect(path: p).load()
        XCTAssertEqual(data.config.normalization.mean, [0.5, 1])
        XCTAssertEqual(data.config.normalization.std, [0.25, 0.5])
        XCTAssertEqual(data.train.images.storage, [-1, -1, -1, -1, 1, 1, 1, 1])
        XCTAssertEqual(data.test.images.storage[0], (9 - 0.5) / 0.25)
    }

    func testFashionMNISTFolderKeepsItsFixedStatistics() throws {
        let folder = path("fmnist")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (prefix, seed) in [("train", UInt64(1)), ("t10k", UInt64(2))] {
            let pixels = testBytes(3 * 28 * 28, seed: seed)
            _ = try writeGzip(idxBytes(magic: 0x0803, dims: [3, 28, 28], data: pixels), to: "fmnist/\(prefix)-images-idx3-ubyte.gz")
            _ = try writeGzip(idxBytes(magic: 0x0801, dims: [3], data: [0, 4, 9]), to: "fmnist/\(prefix)-labels-idx1-ubyte.gz")
        }
        let source = try DataSource.detect(path: folder)
        XCTAssertEqual(source.format, .fashionMNIST)
        let data = try source.load()
        XCTAssertEqual(data.config.normalization, .fashionMNIST)
        XCTAssertEqual(data.config.normalization.mean, [0.2860])
        XCTAssertEqual(data.config.normalization.std, [0.3530])
        XCTAssertEqual(data.config.inputShape, [1, 28, 28])
        // Exactly what the Fashion-MNIST loader with the fixed statistics gives.
        XCTAssertTrue(data.train == (try FashionMNIST.load(.train, directory: folder).normalized(.fashionMNIST)))
        XCTAssertTrue(try source.load(.test) == (try FashionMNIST.load(.test, directory: folder).normalized(.fashionMNIST)))
    }

    func testWhatIsNotADataSet() throws {
        let missing = path("nowhere")
        assertThrows(.notADataSet(path: missing, found: "no such file or folder"), mentions: [missing, "--dataset"]) {
            try DataSource.detect(path: missing)
        }
        let empty = path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertThrows(.notADataSet(path: empty, found: "a folder without train-images-idx3-ubyte.gz, data_batch_1.bin or train.bin"),
                     mentions: [empty, "CIFAR-10", "HDF5"]) { try DataSource.detect(path: empty) }
        let text = try write(Array("hello".utf8), to: "notes.txt")
        assertThrows(.notADataSet(path: text, found: "a file that is not HDF5"), mentions: [text]) { try DataSource.detect(path: text) }

        // An HDF5 file without the split groups (e.g. the old single-split layout) names the group.
        let single = path("single.h5")
        let train = TinyImages(count: 2, classes: 2, channels: 1, height: 2, width: 2, seed: 4)
        try DataFixtures.writeHDF5(path: single, train: train, test: train, float: false, layout: "NCHW", groups: ["train"])
        let source = try DataSource.detect(path: single)
        assertThrows(.missingGroup(path: single, group: "test"), mentions: [single, "'test'"]) { try source.load() }

        // A CIFAR-10 folder missing one batch names the file.
        let partial = path("partial")
        try DataFixtures.writeCIFAR10(folder: partial, train: handMadeTrain(), test: whiteTest(count: 1))
        try FileManager.default.removeItem(atPath: partial + "/data_batch_3.bin")
        assertThrows(.fileNotFound(path: partial + "/data_batch_3.bin"), mentions: ["data_batch_3.bin"]) {
            try DataSource.detect(path: partial).load()
        }
        assertThrows(.invalidArgument("\(partial): CIFAR-100 labels (coarse) apply to CIFAR-100 only, not to cifar-10 data"),
                     mentions: [partial]) {
            try DataSource.detect(path: partial, cifar100Labels: .coarse)
        }
    }

    func testSplitsOfDifferentShapesAndConstantChannels() throws {
        let p = path("shapes.h5")
        try DataFixtures.writeHDF5(path: p, train: TinyImages(count: 2, classes: 2, channels: 1, height: 3, width: 3, seed: 5),
                                   test: TinyImages(count: 2, classes: 2, channels: 1, height: 4, width: 3, seed: 5),
                                   float: false, layout: "NCHW")
        assertThrows(.badShape(path: p, what: "the test images", expected: "[1, 3, 3] as the training images", found: [1, 4, 3]),
                     mentions: [p, "[1, 4, 3]"]) { try DataSource.detect(path: p).load() }
        let flat = path("flat.h5")
        let black = TinyImages(pixels: [UInt8](repeating: 0, count: 8), labels: [0, 1], channels: 1, height: 2, width: 2)
        try DataFixtures.writeHDF5(path: flat, train: black, test: black, float: false, layout: "NCHW")
        assertThrows(.invalidArgument("\(flat): training split: channel 0 has zero or non-finite variance; cannot normalize"),
                     mentions: [flat]) { try DataSource.detect(path: flat).load() }
    }

    /// Training pads the normalized images with each channel's normalized black: the same as
    /// padding the raw image with black and normalizing afterwards (torchvision's order), for
    /// 3-channel images of any size.
    func testAugmentationPadsWithTheDataSetsBlackPerChannel() throws {
        let raw = TinyImages(count: 4, classes: 4, channels: 3, height: 7, width: 5, seed: 6)
        try DataFixtures.writeHDF5(path: path("aug.h5"), train: raw, test: raw, float: false, layout: "NCHW")
        let data = try DataSource.detect(path: path("aug.h5")).load()
        let normalization = data.config.normalization
        XCTAssertEqual(normalization.channels, 3)
        let unnormalized = Tensor(shape: raw.shape, storage: raw.pixels.map { Float($0) / 255 })
        var rng = RandomGenerator(seed: 3)
        let draws = Augmentation(padding: 2, normalization: normalization).draws(count: 4, rng: &rng)
        XCTAssertTrue(draws.contains { $0.top != 2 || $0.left != 2 }, "some draw must shift the image")
        var normalizedThenPadded = Tensor(zeros: [0])
        try Augmentation(padding: 2, normalization: normalization).apply(data.train.images, into: &normalizedThenPadded, draws: draws)
        var paddedThenNormalized = Tensor(zeros: [0])
        try Augmentation(padding: 2, fill: [0, 0, 0]).apply(unnormalized, into: &paddedThenNormalized, draws: draws)
        try normalization.apply(to: &paddedThenNormalized)
        XCTAssertEqual(normalizedThenPadded, paddedThenNormalized)
    }

    func testDatasetConfigRoundTripsAndRefusesImpossibleRecords() throws {
        let config = DatasetConfig(format: .cifar100, path: "/data/c100", labels: .coarse, inputShape: [3, 32, 32], numClasses: 20,
                                   normalization: Normalization(mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3]))
        let json = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(DatasetConfig.self, from: json), config)
        XCTAssertEqual(config.source, DataSource(format: .cifar100, path: "/data/c100", labels: .coarse))
        func decode(_ text: String) throws -> DatasetConfig { try JSONDecoder().decode(DatasetConfig.self, from: Data(text.utf8)) }
        let normalization = #""normalization": {"mean": [0.5], "std": [0.5]}"#
        XCTAssertNoThrow(try decode(#"{"format": "hdf5", "path": "/d.h5", "inputShape": [1, 8, 8], "numClasses": 3, \#(normalization)}"#))
        for bad in [#"{"format": "hdf5", "path": "/d.h5", "inputShape": [8, 8], "numClasses": 3, \#(normalization)}"#,
                    #"{"format": "hdf5", "path": "/d.h5", "inputShape": [1, 0, 8], "numClasses": 3, \#(normalization)}"#,
                    #"{"format": "hdf5", "path": "/d.h5", "inputShape": [3, 8, 8], "numClasses": 3, \#(normalization)}"#,
                    #"{"format": "hdf5", "path": "/d.h5", "inputShape": [1, 8, 8], "numClasses": 0, \#(normalization)}"#,
                    #"{"format": "tfrecord", "path": "/d", "inputShape": [1, 8, 8], "numClasses": 3, \#(normalization)}"#,
                    #"{"format": "hdf5", "path": "/d.h5", "inputShape": [1, 8, 8], "numClasses": 3, "normalization": {"mean": [0.5], "std": [0]}}"#] {
            XCTAssertThrowsError(try decode(bad), bad)
        }
    }
}
