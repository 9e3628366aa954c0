import BasinCheckpoint
import BasinCore
import Foundation
import XCTest

/// The documented layout, checked with HDF5's own command-line tools rather than our reader.
final class ExternalReaderTests: XCTestCase {
    func testH5lsAndH5dumpSeeDocumentedLayout() throws {
        let tools = ["/usr/bin/h5ls", "/usr/bin/h5dump"]
        for tool in tools where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) not installed (Debian package hdf5-tools)")
        }
        let folder = try makeTemporaryFolder(self)
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
}
