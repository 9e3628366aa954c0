// Per-tensor summaries of a checkpoint, for `basin inspect`.
import BasinCore
import BasinHDF5
import Foundation

/// One stored array: where it is, its shape and type, and statistics over its finite values.
public struct TensorSummary: Equatable, Sendable {
    /// params, buffers, optimizer, state or predictions
    public let section: String
    /// Name inside the section (for predictions `<split>/probs` or `<split>/labels`).
    public let path: String
    public let shape: [Int]
    public let dtype: String
    /// L2 norm, minimum and maximum of the finite values (NaN when there are none).
    public let l2Norm: Double
    public let min: Double
    public let max: Double
    public let nonFiniteCount: Int

    public var fullPath: String { section + "/" + path }

    init(section: String, path: String, shape: [Int], dtype: String, values: [Double]) {
        self.section = section
        self.path = path
        self.shape = shape
        self.dtype = dtype
        var sumSquares = 0.0, low = Double.infinity, high = -Double.infinity, bad = 0
        for v in values {
            guard v.isFinite else { bad += 1; continue }
            sumSquares += v * v
            low = Swift.min(low, v)
            high = Swift.max(high, v)
        }
        let anyFinite = bad < values.count
        l2Norm = anyFinite ? sumSquares.squareRoot() : .nan
        min = anyFinite ? low : .nan
        max = anyFinite ? high : .nan
        nonFiniteCount = bad
    }
}

public struct CheckpointInspection: Equatable, Sendable {
    public let file: String
    public let fileSize: Int
    public let metadata: CheckpointMetadata
    public let tensors: [TensorSummary]

    /// A plain-text report: metadata lines, then one row per tensor.
    public var text: String {
        var lines = ["file \(file) (\(fileSize) bytes)"]
        let m = metadata
        lines.append("architecture \(m.architecture), num_classes \(m.numClasses), role \(m.role.rawValue)"
            + (m.method.map { ", method \($0)" } ?? "") + (m.member.map { ", member \($0)" } ?? ""))
        lines.append("seed \(m.seed), epoch \(m.epoch), step \(m.step), created \(m.created), basin \(m.basinVersion)")
        if let parent = m.parent { lines.append("parent \(parent)" + (m.parentSHA256.map { " sha256 \($0)" } ?? "")) }
        for name in m.metrics.keys.sorted() { lines.append("metric \(name) = \(m.metrics[name] ?? .nan)") }
        lines.append("config \(m.config)")
        let width = tensors.map(\.fullPath.count).max() ?? 4
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: Swift.max(0, n - s.count)) }
        func number(_ x: Double) -> String { String(format: "%.6g", x) }
        lines.append(pad("path", width) + "  " + pad("shape", 18) + pad("dtype", 9)
            + pad("l2", 13) + pad("min", 13) + pad("max", 13) + "nonfinite")
        for t in tensors {
            lines.append(pad(t.fullPath, width) + "  " + pad(shapeText(t.shape), 18) + pad(t.dtype, 9)
                + pad(number(t.l2Norm), 13) + pad(number(t.min), 13) + pad(number(t.max), 13) + String(t.nonFiniteCount))
        }
        return lines.joined(separator: "\n")
    }
}

/// Reads a checkpoint without an expectation, allowing non-finite values (they are what
/// inspection is for), and summarizes every stored array in file order.
public func inspectCheckpoint(path: String) throws -> CheckpointInspection {
    let checkpoint = try readCheckpoint(path: path, expecting: nil, allowNonFinite: true)
    var rows: [TensorSummary] = []
    func floats(_ t: Tensor) -> [Double] { t.storage.map(Double.init) }
    for p in checkpoint.params {
        rows.append(TensorSummary(section: "params", path: p.path, shape: p.tensor.shape, dtype: "float32", values: floats(p.tensor)))
    }
    for b in checkpoint.buffers {
        rows.append(TensorSummary(section: "buffers", path: b.path, shape: b.tensor.shape, dtype: b.dtype.rawValue, values: floats(b.tensor)))
    }
    for m in checkpoint.optimizer {
        rows.append(TensorSummary(section: "optimizer", path: m.path, shape: m.tensor.shape, dtype: "float32", values: floats(m.tensor)))
    }
    for s in checkpoint.state {
        rows.append(TensorSummary(section: "state", path: s.name, shape: s.array.shape,
                                  dtype: s.array.values.elementType.rawValue, values: s.array.values.asDoubles))
    }
    for split in checkpoint.predictions.keys.sorted() {
        guard let p = checkpoint.predictions[split] else { continue }
        rows.append(TensorSummary(section: "predictions", path: split + "/probs", shape: p.probs.shape, dtype: "float32", values: floats(p.probs)))
        rows.append(TensorSummary(section: "predictions", path: split + "/labels", shape: [p.labels.count], dtype: "int64",
                                  values: p.labels.map(Double.init)))
    }
    var info = stat()
    let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
    return CheckpointInspection(file: path, fileSize: size, metadata: checkpoint.metadata, tensors: rows)
}
