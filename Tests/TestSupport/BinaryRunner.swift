// The one way tests run a program: the built `basin` binary or an outside tool.
import Foundation
import XCTest

/// How a finished process ended and what it printed.
public struct ProcessResult {
    public var status: Int32
    public var reason: Process.TerminationReason
    public var stdout: String
    public var stderr: String
}

/// The basin binary: BASIN_BIN (set by `make test`), else <package root>/.build/release/basin.
public func basinBinary() -> String {
    if let bin = ProcessInfo.processInfo.environment["BASIN_BIN"], !bin.isEmpty { return bin }
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent(".build/release/basin").path
}

/// Runs `executable` with `arguments` (in `folder` when given) to its end. Standard output and
/// standard error are drained at the same time, so a child that fills one pipe while the
/// other is being read cannot block.
public func runProcess(_ executable: String, _ arguments: [String], in folder: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Drained: @unchecked Sendable { var data = Data() }
    let errors = Drained()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, reason: process.terminationReason,
                         stdout: String(decoding: output, as: UTF8.self), stderr: String(decoding: errors.data, as: UTF8.self))
}

/// Runs the basin binary.
public func runBasin(_ arguments: [String], in folder: String? = nil) throws -> ProcessResult {
    try runProcess(basinBinary(), arguments, in: folder)
}

/// Tests that run the built `basin` binary in a fresh temporary folder (its working directory).
open class BinaryTestCase: TemporaryFolderTestCase {
    public var binary: String { basinBinary() }

    override open func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("no basin binary at \(binary): build with swift build -c release or set BASIN_BIN")
        }
        try super.setUpWithError()
    }

    /// Runs `basin` (or `executable`) in the test's folder.
    @discardableResult
    public func run(_ arguments: [String], executable: String? = nil) throws -> ProcessResult {
        try runProcess(executable ?? binary, arguments, in: dir)
    }
}
