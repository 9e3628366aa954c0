import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation
import TestSupport
import XCTest

final class RoundTripTests: TemporaryFolderTestCase {
    /// Writes and reads back; values must be bit-identical (float32 is stored as float32, so
    /// there is no tolerance), metadata equal, and order as written.
    func assertRoundTrip(_ expectation: CheckpointExpectation, resume: Bool, predictions: Bool,
                         file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = dir
        let path = folder + "/model.h5"
        let original = makeCheckpoint(expectation, seed: 7, withResumeState: resume, predictions: predictions)
        try original.write(to: path)
        var expecting = expectation
        expecting.requireOptimizer = resume
        let loaded = try readCheckpoint(path: path, expecting: expecting)
        XCTAssertEqual(loaded.metadata, original.metadata, file: file, line: line)
        XCTAssertEqual(loaded.params.map(\.path), original.params.map(\.path), file: file, line: line)
        XCTAssertEqual(loaded.params.map { bitPatterns($0.tensor) }, original.params.map { bitPatterns($0.tensor) }, file: file, line: line)
        XCTAssertEqual(loaded.params.map(\.tensor.shape), original.params.map(\.tensor.shape), file: file, line: line)
        XCTAssertEqual(loaded.buffers, original.buffers, file: file, line: line)
        XCTAssertEqual(loaded.optimizer, original.optimizer, file: file, line: line)
        XCTAssertEqual(loaded.state, original.state, file: file, line: line)
        XCTAssertEqual(loaded.predictions, original.predictions, file: file, line: line)
        XCTAssertEqual(loaded, original, file: file, line: line)
    }

    func testCNNRoundTrip() throws { try assertRoundTrip(ReferenceSpecs.cnn(), resume: true, predictions: true) }
    func testMLPRoundTrip() throws { try assertRoundTrip(ReferenceSpecs.mlp(), resume: false, predictions: false) }
    func testResNet20RoundTrip() throws { try assertRoundTrip(ReferenceSpecs.resnet20(), resume: true, predictions: false) }
    func testTinyRoundTrip() throws { try assertRoundTrip(ReferenceSpecs.tiny(), resume: true, predictions: true) }

    func testReadWithoutExpectationKeepsWrittenOrder() throws {
        let folder = dir
        let path = folder + "/order.h5"
        var checkpoint = makeCheckpoint(ReferenceSpecs.tiny())
        // Deliberately not sorted by name: creation order, not name order, must come back.
        checkpoint.params = ["z.weight", "a.bias", "m.0.weight", "b"].map {
            NamedTensor(path: $0, tensor: Tensor(filling: 1, shape: [2]))
        }
        try checkpoint.write(to: path)
        let loaded = try readCheckpoint(path: path)
        XCTAssertEqual(loaded.params.map(\.path), ["z.weight", "a.bias", "m.0.weight", "b"])
    }

    func testOptionalMetadataAndHugeSeed() throws {
        let folder = dir
        let path = folder + "/bare.h5"
        let metadata = CheckpointMetadata(architecture: "tiny", numClasses: 3, role: .pretrained, seed: UInt64.max - 5)
        let checkpoint = Checkpoint(metadata: metadata, params: [NamedTensor(path: "w", tensor: Tensor(zeros: [1]))])
        try checkpoint.write(to: path)
        let loaded = try readCheckpoint(path: path)
        XCTAssertEqual(loaded.metadata, metadata)
        XCTAssertNil(loaded.metadata.method)
        XCTAssertNil(loaded.metadata.member)
        XCTAssertTrue(loaded.optimizer.isEmpty)
        XCTAssertTrue(loaded.state.isEmpty)
        XCTAssertTrue(loaded.predictions.isEmpty)
    }

    func testSameContentGivesSameBytes() throws {
        let folder = dir
        let checkpoint = makeCheckpoint(ReferenceSpecs.tiny(), withResumeState: true, predictions: true)
        try checkpoint.write(to: folder + "/a.h5")
        try checkpoint.write(to: folder + "/b.h5")
        XCTAssertEqual(try sha256(ofFile: folder + "/a.h5"), try sha256(ofFile: folder + "/b.h5"))
    }

    func testUnwritableCheckpointIsRejectedAndLeavesNothing() throws {
        let folder = dir
        var checkpoint = makeCheckpoint(ReferenceSpecs.tiny())
        checkpoint.params.append(NamedTensor(path: "bad/name", tensor: Tensor(zeros: [1])))
        XCTAssertThrowsError(try checkpoint.write(to: folder + "/x.h5")) { error in
            guard case CheckpointError.cannotWrite = error else { return XCTFail("\(error)") }
        }
        checkpoint = makeCheckpoint(ReferenceSpecs.tiny())
        checkpoint.buffers[1].tensor = Tensor(filling: 0.5, shape: [])
        XCTAssertThrowsError(try checkpoint.write(to: folder + "/x.h5"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }

    func testInspectRows() throws {
        let folder = dir
        let path = folder + "/inspect.h5"
        var checkpoint = makeCheckpoint(ReferenceSpecs.tiny(), withResumeState: true, predictions: true)
        checkpoint.params[0].tensor = Tensor(shape: [3, 4], storage: [3, 4, .nan, 0, 0, 0, 0, 0, 0, 0, -1, .infinity])
        try checkpoint.write(to: path)
        let inspection = try inspectCheckpoint(path: path)
        XCTAssertEqual(inspection.metadata, checkpoint.metadata)
        let first = try XCTUnwrap(inspection.tensors.first)
        XCTAssertEqual(first.fullPath, "params/fc.weight")
        XCTAssertEqual(first.shape, [3, 4])
        XCTAssertEqual(first.dtype, "float32")
        // Exact: sqrt(9 + 16 + 1) over the finite values.
        XCTAssertEqual(first.l2Norm, Double(26).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(first.min, -1)
        XCTAssertEqual(first.max, 4)
        XCTAssertEqual(first.nonFiniteCount, 2)
        XCTAssertEqual(inspection.tensors.map(\.fullPath), [
            "params/fc.weight", "params/fc.bias", "params/bn.weight",
            "buffers/bn.running_mean", "buffers/bn.num_batches_tracked",
            "optimizer/fc.weight", "optimizer/fc.bias", "optimizer/bn.weight",
            "state/rng.data_order", "state/data_order", "state/lr_history", "state/matrix",
            "predictions/test/probs", "predictions/test/labels", "predictions/val/probs", "predictions/val/labels",
        ])
        XCTAssertTrue(inspection.text.contains("params/fc.weight"))
        XCTAssertTrue(inspection.text.contains("metric test_acc = 0.9125"))
    }
}

final class HDF5ToolkitTests: TemporaryFolderTestCase {
    func testGenericDatasetsAndAttributes() throws {
        let folder = dir
        let path = folder + "/results.h5"
        try HDF5File.writeAtomically(path: path) { root in
            try root.setAttribute("title", .string("interpolation"))
            try root.setAttribute("points", .int64(-3))
            try root.setAttribute("alpha", .float64(0.125))
            try root.setAttribute("alpha", .float64(0.25))  // replacing is allowed
            let curve = try root.createGroup("curve")
            try curve.writeDataset("x", HDF5Array(shape: [3], values: .float64([0, 0.5, 1])))
            try curve.writeDataset("big", HDF5Array(shape: [100, 50], values: .float32((0..<5000).map(Float.init))))
            try curve.writeDataset("n", HDF5Array(shape: [], values: .int64([42])))
            try curve.writeDataset("u", HDF5Array(shape: [2], values: .uint64([UInt64.max, 1])))
            try curve.writeDataset("empty", HDF5Array(shape: [0, 4], values: .float32([])))
        }
        let file = try HDF5File.open(path: path)
        let root = try file.root
        XCTAssertEqual(try root.attribute("title"), .string("interpolation"))
        XCTAssertEqual(try root.attribute("points"), .int64(-3))
        XCTAssertEqual(try root.attribute("alpha"), .float64(0.25))
        XCTAssertNil(try root.attribute("absent"))
        XCTAssertEqual(try root.attributeNames(), ["alpha", "points", "title"])
        XCTAssertEqual(try root.childNames(), ["curve"])
        XCTAssertEqual(try root.kind(of: "curve"), .group)
        let curve = try root.openGroup("curve")
        XCTAssertEqual(try curve.childNames(), ["x", "big", "n", "u", "empty"])
        XCTAssertEqual(try curve.readDataset("x"), HDF5Array(shape: [3], values: .float64([0, 0.5, 1])))
        XCTAssertEqual(try curve.readDataset("big").values, .float32((0..<5000).map(Float.init)))
        XCTAssertEqual(try curve.readDataset("n"), HDF5Array(shape: [], values: .int64([42])))
        XCTAssertEqual(try curve.readDataset("u").values, .uint64([UInt64.max, 1]))
        XCTAssertEqual(try curve.readDataset("empty"), HDF5Array(shape: [0, 4], values: .float32([])))
        XCTAssertEqual(try curve.datasetInfo("big").shape, [100, 50])
        XCTAssertThrowsError(try curve.readDataset("missing")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("/curve/missing") && text.contains(path), text)
            XCTAssertFalse(text.contains("\n"))
        }
        try file.close()
    }

    func testWriteErrorNamesObject() throws {
        let folder = dir
        XCTAssertThrowsError(try HDF5File.writeAtomically(path: folder + "/dup.h5") { root in
            try root.writeDataset("a", HDF5Array(shape: [1], values: .float32([1])))
            try root.writeDataset("a", HDF5Array(shape: [1], values: .float32([1])))
        }) { error in
            XCTAssertTrue("\(error)".contains("'/a'"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [], "temporary left behind")
    }
}

final class SHA256Tests: TemporaryFolderTestCase {
    func testKnownVectors() throws {
        // FIPS 180-4 / NIST example vectors.
        XCTAssertEqual(SHA256.hex(of: Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(of: [UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(of: [UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testFileMatchesSha256sum() throws {
        let folder = dir
        let path = folder + "/bytes.bin"
        // 3 MiB + 7 bytes crosses the 1 MiB read pieces and the 64-byte blocks unevenly.
        let bytes = (0..<(3 << 20) + 7).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let expected = try runTool("/usr/bin/sha256sum", [path]).split(separator: " ").first.map(String.init)
        XCTAssertEqual(try sha256(ofFile: path), expected)
        XCTAssertThrowsError(try sha256(ofFile: folder + "/absent"))
    }
}
