import BasinCore
import Foundation
import XCTest

/// A test case with a fresh folder per test (removed afterwards) and one compute thread, for
/// tests that write run files.
open class TemporaryFolderTestCase: XCTestCase {
    public var dir: String = ""

    /// The folder name's prefix, so leftovers of a crashed run say which suite made them.
    open var folderPrefix: String { "basin-test" }

    override open func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(folderPrefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        Threads.configure(1)
    }

    override open func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }
}
