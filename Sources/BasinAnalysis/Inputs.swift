import BasinCheckpoint
import BasinCore
import BasinData
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

    public var numClasses: Int { checkpoint.metadata.numClasses }

    public init(path: String) throws {
        let (model, checkpoint) = try loadModel(path: path)
        self.path = path
        self.sha256 = try BasinCheckpoint.sha256(ofFile: path)
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

    /// A fresh model of this checkpoint's architecture holding its weights.
    public func makeModel() throws -> Model {
        let model = Model(architecture, numClasses: numClasses, seed: 0)
        model.setFlatParameters(parameters)
        try setFlatBuffers(model, buffers)
        return model
    }

    /// Reads every path; all must share architecture and class count.
    public static func loadAll(_ paths: [String]) throws -> [AnalysisCheckpoint] {
        let loaded = try paths.map { try AnalysisCheckpoint(path: $0) }
        if let first = loaded.first {
            for c in loaded.dropFirst() where c.architecture != first.architecture || c.numClasses != first.numClasses {
                throw AnalysisError("\(c.path) is \(c.architecture.rawValue) with \(c.numClasses) classes but \(first.path) is "
                                    + "\(first.architecture.rawValue) with \(first.numClasses) classes")
            }
        }
        return loaded
    }
}

/// The classes, images per class and sampling seed a checkpoint was trained on.
public struct AnalysisTask: Equatable, Sendable, CustomStringConvertible {
    public var classes: [Int]
    public var perClass: Int?
    public var dataSeed: UInt64

    public init(classes: [Int] = Array(0..<10), perClass: Int? = nil, dataSeed: UInt64 = 0) {
        self.classes = classes
        self.perClass = perClass
        self.dataSeed = dataSeed
    }

    public var transferTask: TransferTask { TransferTask(classes: classes, perClass: perClass, dataSeed: dataSeed) }

    public var description: String {
        "classes=\(classes.map(String.init).joined(separator: ",")) per_class=\(perClass.map(String.init) ?? "all") data_seed=\(dataSeed)"
    }

    /// The task stored in a checkpoint's config JSON: a `task` object (or the top level) with
    /// `classes`, `per_class`/`perClass` and `data_seed`/`dataSeed`. Nil when the config says nothing.
    public static func fromConfig(_ json: String) -> AnalysisTask? {
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let task = (object["task"] as? [String: Any]) ?? object
        guard let classes = (task["classes"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), !classes.isEmpty else {
            return nil
        }
        let perClass = ((task["per_class"] ?? task["perClass"]) as? NSNumber)?.intValue
        let seed = ((task["data_seed"] ?? task["dataSeed"]) as? NSNumber)?.uint64Value ?? 0
        return AnalysisTask(classes: classes, perClass: perClass, dataSeed: seed)
    }

    /// The task of a set of checkpoints: explicit choices win, else their configs (which must
    /// agree), else all classes of the data set. The class count must match the checkpoints'.
    public static func resolve(checkpoints: [AnalysisCheckpoint], classes: [Int]?, perClass: Int?, dataSeed: UInt64?,
                               defaultClassCount: Int = 10) throws -> AnalysisTask {
        var task: AnalysisTask
        let configured = checkpoints.compactMap { c in fromConfig(c.checkpoint.metadata.config).map { (c.path, $0) } }
        if let (path, first) = configured.first {
            for (other, t) in configured.dropFirst() where t != first {
                throw AnalysisError("\(other) was trained on \(t) but \(path) on \(first); analyse one task at a time")
            }
            task = first
        } else {
            task = AnalysisTask(classes: Array(0..<defaultClassCount))
        }
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
