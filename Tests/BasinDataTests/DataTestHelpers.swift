import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

/// File helpers of the data tests, on the shared temporary-folder base.
extension TemporaryFolderTestCase {
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// Writes `bytes` gzip-compressed through zlib's gzwrite.
    func writeGzip(_ bytes: [UInt8], to name: String) throws -> String {
        let p = path(name)
        try DataFixtures.writeGzip(bytes, to: p)
        return p
    }

    func readBytes(_ p: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: p))) }

    /// Asserts that `body` throws exactly `expected`, and that its description is one line
    /// naming every string in `mentions`.
    func assertThrows<T>(_ expected: DataError, mentions: [String] = [], file: StaticString = #filePath,
                         line: UInt = #line, _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected \(expected), got no error", file: file, line: line)
        } catch let error as DataError {
            XCTAssertEqual(error, expected, file: file, line: line)
            assertOneLine(error, mentions: mentions, file: file, line: line)
        } catch {
            XCTFail("expected DataError \(expected), got \(error)", file: file, line: line)
        }
    }

    func assertOneLine(_ error: DataError, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        let text = error.description
        XCTAssertFalse(text.contains("\n"), "description spans lines: \(text)", file: file, line: line)
        XCTAssertFalse(text.isEmpty, file: file, line: line)
        XCTAssertEqual(error.localizedDescription, text, file: file, line: line)
        for m in mentions { XCTAssertTrue(text.contains(m), "'\(text)' does not mention '\(m)'", file: file, line: line) }
    }
}

/// An IDX file's bytes: magic, big-endian dimensions, data.
func idxBytes(magic: UInt32, dims: [Int], data: [UInt8]) -> [UInt8] {
    DataFixtures.idxBytes(magic: magic, dims: dims, data: data)
}

/// Deterministic pseudo-random bytes for test content.
func testBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = RandomGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

/// A data set whose image i is filled with the value i, so gathered images reveal their origin.
func indexedDataset(labels: [Int], numClasses: Int, channels: Int = 1, height: Int = 2, width: Int = 2) throws -> Dataset {
    let plane = channels * height * width
    var storage = [Float]()
    for i in 0..<labels.count { storage += [Float](repeating: Float(i), count: plane) }
    return try Dataset(images: Tensor(shape: [labels.count, channels, height, width], storage: storage),
                       labels: labels, numClasses: numClasses)
}

/// The original index of each image of a data set made by `indexedDataset`.
func originalIndices(_ d: Dataset) -> [Int] {
    let plane = d.imageShape.reduce(1, *)
    return (0..<d.count).map { Int(d.images.storage[$0 * plane]) }
}
