import BasinCore
import Foundation
import XCTest

/// A test case with a fresh folder per test (removed afterwards) and one compute thread: the
/// one temporary-folder base of every test target.
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
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// `name` inside the test's folder.
    public func path(_ name: String) -> String { dir + "/" + name }
}
