import BasinCheckpoint
import BasinCore
import Foundation
import TestSupport
import XCTest

/// The documented layout, checked with HDF5's own command-line tools rather than our reader.
final class ExternalReaderTests: TemporaryFolderTestCase {
    func testH5lsAndH5dumpSeeDocumentedLayout() throws {
        let tools = ["/usr/bin/h5ls", "/usr/bin/h5dump"]
        for tool in tools where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) not installed (Debian package hdf5-tools)")
        }
        let folder = dir
        let path = folder + "/cnn.h5"
        try makeCheckpoint(ReferenceSpecs.cnn(), withResumeState: true, predictions: true).write(to: path)

        let listing = try runTool("/usr/bin/h5ls", ["-r", path])
        func entry(_ name: String, _ shape: String) -> Bool {
            listing.split(separator: "\n").contains { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return fields.first.map(String.init) == name && line.contains("Dataset " + shape)
            }
        }
        XCTAssertTrue(entry("/params/features.0.weight", "{32, 1, 3, 3}"), listing)
        XCTAssertTrue(entry("/params/head.weight", "{10, 64}"), listing)
        XCTAssertTrue(entry("/buffers/features.1.running_var", "{32}"), listing)
        XCTAssertTrue(entry("/buffers/features.1.num_batches_tracked", "{SCALAR}"), listing)
        XCTAssertTrue(entry("/optimizer/features.10.weight", "{64, 64, 3, 3}"), listing)
        XCTAssertTrue(entry("/state/rng.data_order", "{4}"), listing)
        XCTAssertTrue(entry("/predictions/test/probs", "{5, 10}"), listing)
        XCTAssertTrue(entry("/predictions/test/labels", "{5}"), listing)

        let attributes = try runTool("/usr/bin/h5dump", ["-A", path])
        let lines = attributes.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        func attributeBlock(_ name: String) -> String {
            guard let start = lines.firstIndex(of: "ATTRIBUTE \"\(name)\" {") else { return "" }
            let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("ATTRIBUTE ") || $0.hasPrefix("GROUP ") } ?? lines.count
            return lines[start..<end].joined(separator: " ")
        }
        XCTAssertTrue(attributeBlock("format").contains("(0): \"basin-checkpoint\""), attributes)
        XCTAssertTrue(attributeBlock("format").contains("STRSIZE H5T_VARIABLE"), attributeBlock("format"))
        XCTAssertTrue(attributeBlock("format").contains("CSET H5T_CSET_UTF8"), attributeBlock("format"))
        XCTAssertTrue(attributeBlock("format_version").contains("H5T_STD_I64LE"), attributeBlock("format_version"))
        XCTAssertTrue(attributeBlock("format_version").contains("(0): 1"), attributeBlock("format_version"))
        XCTAssertTrue(attributeBlock("architecture").contains("\"cnn\""))
        XCTAssertTrue(attributeBlock("num_classes").contains("(0): 10"))
        XCTAssertTrue(attributeBlock("role").contains("\"finetuned\""))
        XCTAssertTrue(attributeBlock("created").contains("\"2024-05-01T12:00:00Z\""))
        XCTAssertTrue(attributeBlock("metric_test_acc").contains("H5T_IEEE_F64LE"), attributeBlock("metric_test_acc"))
        XCTAssertTrue(attributeBlock("metric_test_acc").contains("0.9125"))
        for name in ["config", "seed", "epoch", "step", "method", "member", "parent", "parent_sha256", "basin_version"] {
            XCTAssertFalse(attributeBlock(name).isEmpty, "attribute \(name) missing from h5dump -A")
        }

        // The data itself, as h5dump prints it, matches what was written (%.9g round-trips float32).
        let bias = try runTool("/usr/bin/h5dump", ["-d", "/params/head.bias", "-m", "%.9g", path])
        let written = makeCheckpoint(ReferenceSpecs.cnn(), withResumeState: true, predictions: true)
            .params.first { $0.path == "head.bias" }?.tensor.storage ?? []
        let dataStart = bias.range(of: "DATA {")?.upperBound ?? bias.endIndex
        let numbers = bias[dataStart...].replacingOccurrences(of: "(0):", with: "")
            .split(whereSeparator: { ", \n}".contains($0) }).compactMap { Float(String($0)) }
        XCTAssertEqual(numbers, written)
    }

    /// h5py, the reader the FORMAT.md snippet uses. Optional: set BASIN_H5PY_PYTHON to a
    /// python with h5py and numpy (nothing is installed by the test).
    func testH5pyReadsDocumentedTypes() throws {
        guard let python = ProcessInfo.processInfo.environment["BASIN_H5PY_PYTHON"] else {
            throw XCTSkip("set BASIN_H5PY_PYTHON to a python with h5py to run")
        }
        let folder = dir
        let path = folder + "/cnn.h5"
        let checkpoint = makeCheckpoint(ReferenceSpecs.cnn(), withResumeState: true, predictions: true)
        try checkpoint.write(to: path)
        let script = """
        import sys, h5py, numpy as np
        with h5py.File(sys.argv[1], "r") as f:
            a = f.attrs
            assert isinstance(a["format"], str) and a["format"] == "basin-checkpoint", repr(a["format"])
            assert a["format_version"] == 1 and a["format_version"].dtype == np.int64
            assert isinstance(a["config"], str) and "ünïcode ✓" in a["config"], repr(a["config"])
            assert a["metric_test_acc"].dtype == np.float64
            n = f["buffers/features.1.num_batches_tracked"][()]
            assert n.shape == () and n.dtype == np.int64 and n == 1234, (n, n.dtype)
            w = f["params/features.0.weight"][()]
            assert w.shape == (32, 1, 3, 3) and w.dtype == np.float32
            print(repr(f["params/head.bias"][()].tolist()))
            print(list(f["params"].keys())[:3], list(f["state"].keys()))
        """
        let output = try runTool(python, ["-c", script, path])
        let bias = checkpoint.params.first { $0.path == "head.bias" }?.tensor.storage ?? []
        // Python prints float32 values widened to float64 exactly; compare after narrowing.
        let printed = output.split(separator: "\n").first.map { $0.dropFirst().dropLast() } ?? ""
        XCTAssertEqual(printed.split(separator: ",").compactMap { Float(String($0).trimmingCharacters(in: .whitespaces)) }, bias, output)
    }
}
