import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation
import TestSupport
import XCTest

/// A checkpoint taken apart with the generic HDF5 toolkit, so tests can break one thing and
/// write it back.
struct RawFile {
    var attributes: [(String, HDF5AttributeValue)]
    var groups: [(name: String, datasets: [(String, HDF5Array)])]

    static func load(_ path: String) throws -> RawFile {
        let root = try HDF5File.open(path: path).root
        let attributes = try root.attributeNames().map { ($0, try root.attribute($0)!) }
        let groups = try root.childNames().map { name -> (name: String, datasets: [(String, HDF5Array)]) in
            let group = try root.openGroup(name)
            return (name, try group.childNames().map { ($0, try group.readDataset($0)) })
        }
        return RawFile(attributes: attributes, groups: groups)
    }

    func write(_ path: String) throws {
        try HDF5File.writeAtomically(path: path) { root in
            for (name, value) in attributes { try root.setAttribute(name, value) }
            for (name, datasets) in groups {
                let group = try root.createGroup(name)
                for (dataset, array) in datasets { try group.writeDataset(dataset, array) }
            }
        }
    }

    mutating func setAttribute(_ name: String, _ value: HDF5AttributeValue?) {
        attributes.removeAll { $0.0 == name }
        if let value { attributes.append((name, value)) }
    }

    mutating func edit(_ group: String, _ body: (inout [(String, HDF5Array)]) -> Void) {
        guard let index = groups.firstIndex(where: { $0.name == group }) else { return }
        body(&groups[index].datasets)
    }
}

final class MalformedFileTests: TemporaryFolderTestCase {
    var folder: String { dir }
    var validPath = ""
    let expectation = ReferenceSpecs.tiny()

    override func setUpWithError() throws {
        try super.setUpWithError()
        validPath = folder + "/valid.h5"
        try makeCheckpoint(expectation, withResumeState: true).write(to: validPath)
    }

    /// Runs `body` with stderr redirected to a file and returns what was written there, so
    /// tests can require that HDF5 never prints its error stack.
    func capturingStandardError(_ body: () throws -> Void) rethrows -> String {
        let capture = folder + "/stderr.txt"
        fflush(stderr)
        let saved = dup(2)
        let fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        dup2(fd, 2)
        close(fd)
        defer {
            fflush(stderr)
            dup2(saved, 2)
            close(saved)
        }
        try body()
        fflush(stderr)
        return (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
    }

    /// Reads `path` expecting a CheckpointError with a one-line description; returns its problems.
    @discardableResult
    func problems(_ path: String, allowNonFinite: Bool = false, expecting: CheckpointExpectation? = nil,
                  file: StaticString = #filePath, line: UInt = #line) -> [CheckpointProblem] {
        do {
            _ = try readCheckpoint(path: path, expecting: expecting ?? expectation, allowNonFinite: allowNonFinite)
            XCTFail("\(path) loaded but should not", file: file, line: line)
            return []
        } catch let error as CheckpointError {
            let text = error.description
            XCTAssertFalse(text.contains("\n"), "multi-line: \(text)", file: file, line: line)
            XCTAssertTrue(text.hasPrefix("checkpoint \(path): "), text, file: file, line: line)
            XCTAssertFalse(error.problems.isEmpty, file: file, line: line)
            return error.problems
        } catch {
            XCTFail("not a CheckpointError: \(error)", file: file, line: line)
            return []
        }
    }

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testTruncationsAtTwentyOffsets() throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: validPath)))
        let stderrText = try capturingStandardError {
            for k in 1...20 {
                let cut = bytes.count * k / 21
                let path = try write(Array(bytes[..<cut]), "truncated-\(k).h5")
                let found = problems(path)
                // The seal records the length and hash, so every cut is caught before HDF5 parses.
                XCTAssertEqual(found.count, 1)
                guard case .corrupted(let detail)? = found.first else { XCTFail("\(cut) bytes: \(found)"); continue }
                XCTAssertTrue(detail.contains("truncated") || detail.contains("cut short"), detail)
            }
        }
        XCTAssertEqual(stderrText, "")
    }

    func testBitFlipsNeverCrash() throws {
        for (name, spec, resume) in [("tiny", expectation, true), ("cnn", ReferenceSpecs.cnn(), false)] {
            let path = folder + "/\(name)-flip-source.h5"
            let original = makeCheckpoint(spec, withResumeState: resume)
            try original.write(to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var rejected = 0, loadedIdentical = 0, loadedDifferent = 0
            let positions = 300
            let stderrText = try capturingStandardError {
                for i in 0..<positions {
                    var flipped = bytes
                    let position = (i * bytes.count) / positions + (i * 7919) % max(1, bytes.count / positions)
                    flipped[position] ^= UInt8(1 << (i % 8))
                    let flippedPath = try write(flipped, "\(name)-flip.h5")
                    do {
                        let loaded = try readCheckpoint(path: flippedPath, expecting: spec)
                        if loaded == original { loadedIdentical += 1 } else { loadedDifferent += 1 }
                    } catch let error as CheckpointError {
                        XCTAssertFalse(error.description.contains("\n"))
                        rejected += 1
                    }
                }
            }
            XCTAssertEqual(stderrText, "")
            // The seal covers every byte after it, so a flip is detected, or (in the seal's magic
            // word, which then no longer reads as a seal) leaves the HDF5 part intact; loading
            // changed values would be allowed by the contract, but the seal promises more.
            XCTAssertEqual(loadedDifferent, 0, "\(name): flips that changed loaded content")
            XCTAssertEqual(rejected + loadedIdentical, positions)
            print("bit flips in \(name) (\(bytes.count) bytes): \(rejected) rejected, \(loadedIdentical) harmless")
        }
    }

    func testNonHDF5Files() throws {
        var generator = ValueSource(state: 99)
        let randomBytes = (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next().bitPattern) }
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        let stderrText = try capturingStandardError {
            XCTAssertEqual(problems(try write([], "empty.h5")), [.fileEmpty])
            XCTAssertEqual(problems(try write(randomBytes, "random.h5")), [.notHDF5])
            XCTAssertEqual(problems(try write(Array("not a checkpoint\nsecond line\n".utf8), "text.h5")), [.notHDF5])
            XCTAssertEqual(problems(folder + "/absent.h5"), [.fileMissing])
            XCTAssertEqual(problems(folder), [.notRegularFile])
            // The signature followed by garbage gets past the signature check; HDF5 must refuse it.
            let fake = problems(try write(signature + randomBytes, "fake.h5"))
            XCTAssertTrue(fake.allSatisfy { if case .unreadable(path: "", _) = $0 { return true } else { return false } }, "\(fake)")
        }
        XCTAssertEqual(stderrText, "")
    }

    func testSemanticProblems() throws {
        let original = try RawFile.load(validPath)
        func variant(_ name: String, _ change: (inout RawFile) -> Void) throws -> String {
            var raw = original
            change(&raw)
            let path = folder + "/" + name + ".h5"
            try raw.write(path)
            return path
        }
        let stderrText = try capturingStandardError {
            // The unchanged rewrite loads: the variants below differ only in what they break.
            XCTAssertNoThrow(try readCheckpoint(path: try variant("same") { _ in }, expecting: expectation))

            let noFormat = problems(try variant("no-format") { $0.setAttribute("format", nil) })
            XCTAssertEqual(noFormat, [.missingAttribute(name: "format")])

            let plain = problems(try variant("plain-hdf5") { $0.attributes = [] })
            XCTAssertTrue(plain.contains(.missingAttribute(name: "format")))
            XCTAssertTrue(plain.contains(.missingAttribute(name: "format_version")))

            let version = problems(try variant("version") { $0.setAttribute("format_version", .int64(2)) })
            XCTAssertEqual(version, [.badAttribute(name: "format_version", detail: "is 2, this reader supports 1")])

            let textVersion = problems(try variant("version-text") { $0.setAttribute("format_version", .string("1")) })
            guard case .badAttribute(name: "format_version", _)? = textVersion.first else { return XCTFail("\(textVersion)") }

            let role = problems(try variant("role") { $0.setAttribute("role", .string("champion")) })
            guard case .badAttribute(name: "role", _)? = role.first, role.count == 1 else { return XCTFail("\(role)") }

            let missing = problems(try variant("missing") { $0.edit("params") { $0.removeAll { $0.0 == "fc.bias" } } })
            XCTAssertEqual(missing, [.missing(path: "params/fc.bias")])

            let extra = problems(try variant("extra") {
                $0.edit("buffers") { $0.append(("bn.extra", HDF5Array(shape: [3], values: .float32([1, 2, 3])))) }
            })
            XCTAssertEqual(extra, [.unexpected(path: "buffers/bn.extra")])

            let shape = problems(try variant("shape") {
                $0.edit("params") { $0[0].1.shape = [4, 3] }
                $0.edit("params") { $0.removeAll { $0.0 == "bn.weight" } }
            })
            XCTAssertEqual(shape, [.shapeMismatch(path: "params/fc.weight", expected: [3, 4], actual: [4, 3]),
                                   .missing(path: "params/bn.weight")])
            let description = CheckpointError.invalid(file: "runs/a.h5", problems: shape).description
            XCTAssertEqual(description, "checkpoint runs/a.h5: 2 problems: params/fc.weight shape [4, 3] expected [3, 4]; params/bn.weight missing")

            let dtype = problems(try variant("dtype") {
                $0.edit("params") { $0[1].1 = HDF5Array(shape: [3], values: .float64([1, 2, 3])) }
                $0.edit("buffers") { $0[1].1 = HDF5Array(shape: [], values: .float32([5])) }
            })
            XCTAssertEqual(dtype, [.dtypeMismatch(path: "params/fc.bias", expected: "float32", actual: "float64"),
                                   .dtypeMismatch(path: "buffers/bn.num_batches_tracked", expected: "int64", actual: "float32")])

            let orphanMomentum = problems(try variant("optimizer") {
                $0.edit("optimizer") { $0.append(("ghost.weight", HDF5Array(shape: [1], values: .float32([0])))) }
            })
            XCTAssertEqual(orphanMomentum, [.unexpected(path: "optimizer/ghost.weight")])

            var resuming = expectation
            resuming.requireOptimizer = true
            let noMomentum = problems(try variant("no-momentum") { $0.groups.removeAll { $0.name == "optimizer" } },
                                      expecting: resuming)
            XCTAssertEqual(noMomentum, [.missing(path: "optimizer")])
        }
        XCTAssertEqual(stderrText, "")
    }

    func testOtherArchitecture() throws {
        let path = folder + "/mlp.h5"
        try makeCheckpoint(ReferenceSpecs.mlp()).write(to: path)
        let found = problems(path, expecting: ReferenceSpecs.cnn())
        XCTAssertEqual(found.first, .architectureMismatch(expected: "cnn", actual: "mlp"))
        XCTAssertTrue(found.contains(.unexpected(path: "params/fc1.weight")))
        XCTAssertTrue(found.contains(.missing(path: "params/features.0.weight")))
        XCTAssertTrue(found.contains(.missing(path: "buffers/features.1.running_mean")))
        // Without an expectation the same file is a valid checkpoint of its own architecture.
        XCTAssertEqual(try readCheckpoint(path: path).metadata.architecture, "mlp")
        var tenClasses = ReferenceSpecs.mlp()
        tenClasses.numClasses = 5
        XCTAssertTrue(problems(path, expecting: tenClasses).contains(.numClassesMismatch(expected: 5, actual: 10)))
    }

    func testNonFiniteWeights() throws {
        let path = folder + "/nan.h5"
        var checkpoint = makeCheckpoint(expectation)
        checkpoint.params[0].tensor.storage[1] = .nan
        checkpoint.params[0].tensor.storage[5] = -.infinity
        checkpoint.params[2].tensor.storage[0] = .signalingNaN
        try checkpoint.write(to: path)
        XCTAssertEqual(problems(path), [.nonFinite(path: "params/fc.weight", count: 2),
                                        .nonFinite(path: "params/bn.weight", count: 1)])
        let loaded = try readCheckpoint(path: path, expecting: expectation, allowNonFinite: true)
        XCTAssertEqual(loaded.params.map { bitPatterns($0.tensor) }, checkpoint.params.map { bitPatterns($0.tensor) })
    }
}
