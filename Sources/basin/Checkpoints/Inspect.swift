import ArgumentParser
import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation

/// Metadata and per-tensor statistics of a checkpoint.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a checkpoint's metadata and a table of its tensors (shape, dtype, L2 norm, min, max, non-finite count).")

    @Argument(help: "Checkpoint file.") var file: String
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        let inspection = try inspectCheckpoint(path: file)
        guard json else { print(inspection.text); return }
        let m = inspection.metadata
        // JSON has no NaN: statistics of tensors without finite values become null.
        func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        var metadata: [String: Any] = [
            "architecture": m.architecture, "num_classes": m.numClasses, "role": m.role.rawValue, "seed": m.seed,
            "epoch": m.epoch, "step": m.step, "created": m.created, "basin_version": m.basinVersion,
            "metrics": m.metrics.mapValues(number),
        ]
        metadata["config"] = (try? JSONSerialization.jsonObject(with: Data(m.config.utf8), options: [.fragmentsAllowed])) ?? m.config
        if let method = m.method { metadata["method"] = method }
        if let member = m.member { metadata["member"] = member }
        if let parent = m.parent { metadata["parent"] = parent }
        if let sha = m.parentSHA256 { metadata["parent_sha256"] = sha }
        // SHA-256 of each float32 tensor's stored bits: equal digests mean bit-identical values
        // (how a resumed run is compared with an uninterrupted one).
        let checkpoint = try readCheckpoint(path: file, allowNonFinite: true)
        var digests: [String: String] = [:]
        var all = SHA256()
        for p in checkpoint.params {
            digests["params/" + p.path] = bitsDigest(p.tensor)
            all.update(Array(p.path.utf8))
            p.tensor.storage.withUnsafeBytes { all.update(buffer: $0) }
        }
        for b in checkpoint.buffers { digests["buffers/" + b.path] = bitsDigest(b.tensor) }
        for m in checkpoint.optimizer { digests["optimizer/" + m.path] = bitsDigest(m.tensor) }
        let tensors: [[String: Any]] = inspection.tensors.map { t in
            var row: [String: Any] = ["path": t.fullPath, "shape": t.shape, "dtype": t.dtype, "l2": number(t.l2Norm),
                                      "min": number(t.min), "max": number(t.max), "nonfinite": t.nonFiniteCount]
            if let digest = digests[t.fullPath] { row["sha256"] = digest }
            return row
        }
        let object: [String: Any] = ["file": inspection.file, "size": inspection.fileSize, "metadata": metadata,
                                     "tensors": tensors, "params_sha256": all.finalizeHex()]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

func bitsDigest(_ t: Tensor) -> String {
    var hash = SHA256()
    t.storage.withUnsafeBytes { hash.update(buffer: $0) }
    return hash.finalizeHex()
}
