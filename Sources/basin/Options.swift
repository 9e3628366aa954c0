import ArgumentParser
import BasinCore
import BasinData

/// Options every compute command shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for the compute kernels (results are identical for the same count).")
    var threads: Int = 2

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    func apply() { Threads.configure(threads) }
}

/// Where the data comes from.
struct DataOptions: ParsableArguments {
    @Option(help: "Folder with Fashion-MNIST's gzip IDX files.")
    var dataset: String = FashionMNIST.defaultDirectory

    func load(_ split: Split) throws -> Dataset {
        try FashionMNIST.load(split, directory: dataset).normalized(.fashionMNIST)
    }
}

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
