// A SHA-256 seal in the HDF5 user block (bytes HDF5 itself ignores) so any change to a file
// after it was written is detected before the HDF5 library parses a single structure. HDF5
// checksums most metadata, but not the global heap that holds variable-length strings, and
// HDF5 1.10 can crash on a corrupted one; the seal closes that gap for every file basin writes.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A sealed file whose bytes no longer match its seal.
public struct IntegrityError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let detail: String

    public var description: String { oneLine("\(file): integrity check failed: \(detail)") }
}

enum FileSeal {
    /// Size of the HDF5 user block that holds the seal (HDF5's minimum).
    static let blockSize = 512
    static let magic = "basin-hdf5-seal 1 sha256 "

    /// Writes the seal of a closed HDF5 file created with a `blockSize` user block.
    static func seal(path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw AtomicFile.posixError(path, "open to seal") }
        defer { close(fd) }
        let (digest, length) = try hashAfterBlock(fd: fd, path: path)
        var block = [UInt8](repeating: 0, count: blockSize)
        let line = Array((magic + digest + " bytes \(length)\n").utf8)
        block.replaceSubrange(0..<line.count, with: line)
        let written = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, blockSize, 0) }
        guard written == blockSize else { throw AtomicFile.posixError(path, "write seal of") }
    }

    /// Checks a file's seal. Returns false for files without one (HDF5 signature at offset 0,
    /// or a user block that is not a seal); throws `IntegrityError` when a seal does not match.
    static func verify(path: String) throws -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }  // HDF5's own open reports the reason
        defer { close(fd) }
        var block = [UInt8](repeating: 0, count: blockSize)
        let got = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, blockSize, 0) }
        let prefix = Array(magic.utf8)
        guard got >= prefix.count, Array(block[0..<prefix.count]) == prefix else { return false }
        let fail = { (detail: String) in IntegrityError(file: path, detail: detail) }
        guard got == blockSize, let newline = block.firstIndex(of: 0x0a) else { throw fail("seal block is cut short") }
        guard block[(newline + 1)...].allSatisfy({ $0 == 0 }) else { throw fail("seal block was altered") }
        let fields = String(decoding: block[prefix.count..<newline], as: UTF8.self).split(separator: " ")
        guard fields.count == 3, fields[1] == "bytes", let expectedLength = Int(fields[2]) else {
            throw fail("seal line was altered")
        }
        let (digest, length) = try hashAfterBlock(fd: fd, path: path)
        guard length == expectedLength else {
            throw fail("file holds \(length + blockSize) bytes, the seal says \(expectedLength + blockSize) (truncated or extended)")
        }
        guard digest == fields[0] else { throw fail("SHA-256 of the contents does not match the seal (corrupted)") }
        return true
    }

    private static func hashAfterBlock(fd: Int32, path: String) throws -> (String, Int) {
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = blockSize
        while true {
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard got >= 0 else { throw AtomicFile.posixError(path, "read to hash") }
            if got == 0 { break }
            buffer.withUnsafeBytes { hasher.update(buffer: UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            offset += got
        }
        return (hasher.finalizeHex(), offset - blockSize)
    }
}
