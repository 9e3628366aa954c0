import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation
import TestSupport
import XCTest

final class AtomicWriteTests: TemporaryFolderTestCase {
    func testNoTemporaryRemainsAndOverwriteReplaces() throws {
        let folder = dir
        let path = folder + "/model.h5"
        try makeCheckpoint(ReferenceSpecs.tiny(), seed: 1).write(to: path)
        try makeCheckpoint(ReferenceSpecs.tiny(), seed: 2).write(to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.h5"])
        XCTAssertEqual(try readCheckpoint(path: path).metadata.seed, 2)
    }

    func testFailedWriteLeavesOldFileAndNoTemporary() throws {
        let folder = dir
        let path = folder + "/model.h5"
        try makeCheckpoint(ReferenceSpecs.tiny(), seed: 1).write(to: path)
        let before = try sha256(ofFile: path)
        XCTAssertThrowsError(try HDF5File.writeAtomically(path: path) { root in
            try root.writeDataset("x", HDF5Array(shape: [2], values: .float32([1])))  // wrong count
        })
        XCTAssertEqual(try sha256(ofFile: path), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["model.h5"])
        // A destination folder that does not exist is a one-line error, not a crash.
        XCTAssertThrowsError(try makeCheckpoint(ReferenceSpecs.tiny()).write(to: folder + "/no/such/dir/m.h5")) { error in
            XCTAssertFalse("\(error)".contains("\n"))
            XCTAssertTrue("\(error)".contains("no/such/dir/m.h5"), "\(error)")
        }
    }

    func testStaleTemporaryIsNeverListedAndIsRemoved() throws {
        let folder = dir
        try makeCheckpoint(ReferenceSpecs.tiny()).write(to: folder + "/b.h5")
        // A complete checkpoint left under a temporary name by a process that no longer exists
        // (pid 2^31-1 is above any pid_max), and one owned by this live process.
        let stale = "/.a.h5.tmp-2147483647-deadbeef"
        let live = "/.c.h5.tmp-\(getpid())-cafe"
        for name in [stale, live] {
            try FileManager.default.copyItem(atPath: folder + "/b.h5", toPath: folder + name)
            XCTAssertTrue(AtomicFile.isTemporaryName(String(name.dropFirst())))
        }
        XCTAssertEqual(try checkpointFileNames(in: folder), ["b.h5"])
        XCTAssertEqual(try AtomicFile.removeStaleTemporaries(in: folder), [String(stale.dropFirst())])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), ["b.h5", String(live.dropFirst())])
        // With a zero age limit even a live owner's temporary counts as abandoned.
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(try AtomicFile.removeStaleTemporaries(in: folder, maxAge: 0), [String(live.dropFirst())])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["b.h5"])
        XCTAssertFalse(AtomicFile.isTemporaryName("b.h5"))
        XCTAssertTrue(AtomicFile.isTemporaryName(URL(fileURLWithPath: AtomicFile.temporaryPath(for: folder + "/b.h5")).lastPathComponent))
    }
}
