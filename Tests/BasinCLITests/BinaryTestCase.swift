import Foundation
import XCTest

/// Tests that run the built `basin` binary in a fresh temporary folder (its working directory).
class BinaryTestCase: XCTestCase {
    var dir: String = ""

    /// BASIN_BIN (set by `make test`), else <package root>/.build/release/basin.
    var binary: String {
        if let path = ProcessInfo.processInfo.environment["BASIN_BIN"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/basin").path
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("no basin binary at \(binary): build with swift build -c release or set BASIN_BIN")
        }
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("basin-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
    }

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs `basin` (or `executable`) in `dir`; output goes through files, so a chatty process
    /// cannot block on a full pipe.
    @discardableResult
    func run(_ arguments: [String], executable: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = dir + "/.stdout-\(UUID().uuidString)", err = dir + "/.stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        return Result(status: process.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
                      stderr: try String(contentsOfFile: err, encoding: .utf8))
    }
}
