import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for the compute kernels (results are identical for the same count).")
    var threads: Int = 2

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    func apply() { Threads.configure(threads) }
}

/// Where the data comes from: one data set, resolved from `--dataset`, else from the data set
/// recorded in the checkpoint a command reads, else Fashion-MNIST's default folder.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Data set: a Fashion-MNIST IDX folder, a CIFAR-10/100 binary folder or an HDF5 file with /train and /test (docs/RECIPES.md). Default: the data set of the checkpoint read, else \(FashionMNIST.defaultDirectory).",
        valueName: "path")) var dataset: String?
    @Option(help: ArgumentHelp("CIFAR-100 labels: fine (100 classes) or coarse (20 superclasses) (default: the checkpoint's, else fine).",
                               valueName: "fine|coarse"))
    var cifar100Labels: CIFAR100Labels?

    /// The data set to use; `recorded` is a checkpoint's (`recordedBy` names it in errors).
    func source(recorded: DatasetConfig? = nil, recordedBy: String? = nil) throws -> DataSource {
        if let dataset { return try DataSource.detect(path: dataset, cifar100Labels: cifar100Labels) }
        guard let recorded else { return try DataSource.detect(path: FashionMNIST.defaultDirectory, cifar100Labels: cifar100Labels) }
        var source = recorded.source
        if let cifar100Labels {
            guard source.format == .cifar100 else {
                throw AnalysisError("--cifar100-labels applies to CIFAR-100, but \(recordedBy ?? "the checkpoint") was trained on the \(source)")
            }
            source.labels = cifar100Labels
        }
        guard FileManager.default.fileExists(atPath: source.path) else {
            throw AnalysisError("\(recordedBy ?? "the checkpoint") was trained on the \(source), which is not there any more: "
                                  + "give --dataset")
        }
        return source
    }

    /// Both splits of the data set, normalized. A recorded data set whose statistics changed
    /// (different files at the same path) is used, with a warning: the model saw other data.
    func load(recorded: DatasetConfig? = nil, recordedBy: String? = nil) throws -> LoadedData {
        let source = try source(recorded: recorded, recordedBy: recordedBy)
        let loaded = try source.load()
        if let recorded, recorded.source == source, recorded != loaded.config {
            reportProgress("warning: the \(source) differs from what \(recordedBy ?? "the checkpoint") recorded "
                           + "(\(recorded.inputShape), \(recorded.numClasses) classes, mean \(recorded.normalization.mean); now "
                           + "\(loaded.config.inputShape), \(loaded.config.numClasses) classes, mean \(loaded.config.normalization.mean))")
        }
        return loaded
    }

    /// One split of the data set, normalized (the benchmark workloads read Fashion-MNIST this way).
    func load(_ split: Split) throws -> Dataset { try source().load(split) }
}

/// The data set recorded in a checkpoint's config (`task.dataset`): nil when it records none,
/// an error naming the file when the record is malformed.
func recordedDataset(_ checkpoint: Checkpoint, path: String) throws -> DatasetConfig? {
    try AnalysisTask.recordedDataset(config: checkpoint.metadata.config, file: path)
}

extension CIFAR100Labels: ExpressibleByArgument {}

extension Architecture: ExpressibleByArgument {}

/// `NAME=PATH` (a file or a folder), as `basin report` inputs and `basin metrics --method` take them.
struct NamedFile: ExpressibleByArgument {
    let name: String, path: String
    init?(argument: String) {
        guard let eq = argument.firstIndex(of: "=") else { return nil }
        name = String(argument[..<eq])
        path = String(argument[argument.index(after: eq)...])
        guard !name.isEmpty, !path.isEmpty, !name.contains(",") else { return nil }
    }
}
