import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// A checkpoint read for analysis: its weights as flat vectors and where it came from.
public struct AnalysisCheckpoint {
    public let path: String
    public let sha256: String
    public let checkpoint: Checkpoint
    public let architecture: Architecture
    public let parameters: [Double]
    public let buffers: [Float]
    public let parameterShapes: [[Int]]
    public let parameterPaths: [String]
    /// The layer that sees the images, as stored in the file.
    public let input: ModelInput

    public var numClasses: Int { checkpoint.metadata.numClasses }

    public init(path: String) throws {
        let (model, checkpoint) = try loadModel(path: path)
        self.path = path
        self.input = ModelInput(model: model)
        self.sha256 = try BasinHDF5.sha256(ofFile: path)
        self.checkpoint = checkpoint
        self.architecture = model.architecture
        self.parameters = model.flatParameters()
        self.buffers = flatBuffers(model)
        self.parameterShapes = model.parameters.map(\.value.shape)
        self.parameterPaths = model.parameters.map(\.path)
    }

    /// The parameters before the classifier head (`head.*`), which fine-tuning replaces.
    public var featureParameters: [Double] {
        var count = 0
        for (path, shape) in zip(parameterPaths, parameterShapes) where !path.hasPrefix("head.") { count += shape.reduce(1, *) }
        return Array(parameters.prefix(count))
    }

    /// Test-split predictions saved in the file, if any.
    public var savedTestPredictions: PredictiveDistribution? {
        guard let p = checkpoint.predictions["test"] else { return nil }
        return try? PredictiveDistribution(probs: p.probs.storage.map(Double.init), labels: p.labels.map { Int($0) },
                                           numClasses: p.probs.shape.last ?? 0)
    }

    /// A fresh model of this checkpoint's architecture and input layer holding its weights.
    public func makeModel() throws -> Model {
        let model = input.model(numClasses: numClasses, imageShape: nil)
        model.setFlatParameters(parameters)
        try setFlatBuffers(model, buffers)
        return model
    }

    /// Nil when the model takes images of `imageShape`; else the one-line error naming this file,
    /// its input layer and `dataName`.
    public func inputError(imageShape: [Int], dataName: String) -> ModelInputError? {
        input.mismatch(imageShape: imageShape, data: dataName).map { ModelInputError(model: "checkpoint \(path)", detail: $0) }
    }

    /// Reads every path; all must share architecture, class count and input layer.
    public static func loadAll(_ paths: [String]) throws -> [AnalysisCheckpoint] {
        let loaded = try paths.map { try AnalysisCheckpoint(path: $0) }
        if let first = loaded.first {
            for c in loaded.dropFirst() where c.architecture != first.architecture || c.numClasses != first.numClasses {
                throw AnalysisError("\(c.path) is \(c.architecture.rawValue) with \(c.numClasses) classes but \(first.path) is "
                                    + "\(first.architecture.rawValue) with \(first.numClasses) classes")
            }
            for c in loaded.dropFirst() where c.input != first.input {
                throw AnalysisError("\(c.path): \(c.input) but \(first.path): \(first.input); their weights cannot be combined")
            }
        }
        return loaded
    }
}

/// The classes, images per class, sampling seed and data set a checkpoint was trained on.
public struct AnalysisTask: Equatable, Sendable, CustomStringConvertible {
    public var classes: [Int]
    public var perClass: Int?
    public var dataSeed: UInt64
    /// The data set recorded in the configuration; nil when it records none (then Fashion-MNIST
    /// in its default folder, unless --dataset says otherwise).
    public var dataset: DatasetConfig?

    public init(classes: [Int] = Array(0..<10), perClass: Int? = nil, dataSeed: UInt64 = 0, dataset: DatasetConfig? = nil) {
        self.classes = classes
        self.perClass = perClass
        self.dataSeed = dataSeed
        self.dataset = dataset
    }

    public var transferTask: TransferTask { TransferTask(classes: classes, perClass: perClass, dataSeed: dataSeed) }

    public var description: String {
        "classes=\(classes.map(String.init).joined(separator: ",")) per_class=\(perClass.map(String.init) ?? "all") data_seed=\(dataSeed)"
    }

    /// The task stored in a checkpoint's config JSON: a `task` object (or the top level) with
    /// `classes`, `per_class`/`perClass`, `data_seed`/`dataSeed` and `dataset`. Nil when the
    /// config says nothing, or when its `dataset` is malformed (`configured` reports that).
    public static func fromConfig(_ json: String) -> AnalysisTask? {
        (try? parse(json)) ?? nil
    }

    static func parse(_ json: String) throws -> AnalysisTask? {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let task = (object["task"] as? [String: Any]) ?? object
        guard let classes = (task["classes"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), !classes.isEmpty else {
            return nil
        }
        let perClass = ((task["per_class"] ?? task["perClass"]) as? NSNumber)?.intValue
        let seed = ((task["data_seed"] ?? task["dataSeed"]) as? NSNumber)?.uint64Value ?? 0
        var dataset: DatasetConfig?
        if let entry = task["dataset"] {
            dataset = try JSONDecoder().decode(DatasetConfig.self, from: try JSONSerialization.data(withJSONObject: entry))
        }
        return AnalysisTask(classes: classes, perClass: perClass, dataSeed: seed, dataset: dataset)
    }

    /// The data set a config records (nil: none); an error naming `file` when the record is malformed.
    public static func recordedDataset(config: String, file: String) throws -> DatasetConfig? {
        do {
            return try parse(config)?.dataset
        } catch {
            throw AnalysisError("\(file): the data set in its config is malformed (\(decodingSummary(error)))")
        }
    }

    /// The task the configs of `checkpoints` agree on, nil when none records one.
    public static func configured(_ checkpoints: [AnalysisCheckpoint]) throws -> AnalysisTask? {
        var configured: [(String, AnalysisTask)] = []
        for c in checkpoints {
            _ = try recordedDataset(config: c.checkpoint.metadata.config, file: c.path)
            if let task = fromConfig(c.checkpoint.metadata.config) { configured.append((c.path, task)) }
        }
        guard let (path, first) = configured.first else { return nil }
        // No recorded data set means Fashion-MNIST's default folder: old and new files of one run agree.
        func same(_ a: AnalysisTask, _ b: AnalysisTask) -> Bool {
            a.classes == b.classes && a.perClass == b.perClass && a.dataSeed == b.dataSeed
                && (a.dataset ?? .fashionMNIST) == (b.dataset ?? .fashionMNIST)
        }
        for (other, t) in configured.dropFirst() where !same(t, first) {
            let describe = { (t: AnalysisTask) in "\(t) on the \((t.dataset ?? .fashionMNIST).description)" }
            throw AnalysisError("\(other) was trained on \(describe(t)) but \(path) on \(describe(first)); analyse one task at a time")
        }
        return first
    }

    /// The task of a set of checkpoints: explicit choices win, else their configs (which must
    /// agree), else all classes of the data set. The class count must match the checkpoints'.
    public static func resolve(checkpoints: [AnalysisCheckpoint], classes: [Int]?, perClass: Int?, dataSeed: UInt64?,
                               defaultClassCount: Int = 10) throws -> AnalysisTask {
        var task = try configured(checkpoints) ?? AnalysisTask(classes: Array(0..<defaultClassCount))
        if let classes { task.classes = classes }
        if let perClass { task.perClass = perClass }
        if let dataSeed { task.dataSeed = dataSeed }
        if let first = checkpoints.first, first.numClasses != task.classes.count {
            throw AnalysisError("\(first.path) has \(first.numClasses) classes but the task has \(task.classes.count) "
                                + "(\(task)); give --classes")
        }
        return task
    }
}

/// A decoding error in one line: where in the JSON and what, without Swift's nested context dump.
public func decodingSummary(_ error: Error) -> String {
    func at(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return (path.isEmpty ? "" : path + ": ") + context.debugDescription
    }
    switch error as? DecodingError {
    case .dataCorrupted(let context)?: return at(context)
    case .keyNotFound(let key, let context)?: return at(context) + " (missing \(key.stringValue))"
    case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?: return at(context)
    default: return "\(error)".replacingOccurrences(of: "\n", with: " ")
    }
}

/// Writes a CSV table atomically: a header of stable column names, then one row per record.
public func writeCSV(path: String, header: [String], rows: [[String]]) throws {
    var text = header.joined(separator: ",") + "\n"
    for row in rows { text += row.joined(separator: ",") + "\n" }
    try AtomicFile.write(to: path) { temporary in
        guard FileManager.default.createFile(atPath: temporary, contents: text.data(using: .utf8)) else {
            throw FileError(file: temporary, step: "write", detail: "cannot create file")
        }
    }
}

/// A number for CSV and key=value output: full precision, `nan` for NaN, empty for nil.
public func formatNumber(_ v: Double?) -> String {
    guard let v else { return "" }
    if v.isNaN { return "nan" }
    return String(format: "%.9g", v)
}

/// Strings as a JSON array (for path and hash lists in attributes).
public func jsonArray(_ values: [String]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: values)) ?? Data("[]".utf8)
    return String(decoding: data, as: UTF8.self)
}
