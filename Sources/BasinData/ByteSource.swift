import CZlib
import Foundation

/// A forward-only stream of bytes from a file, plain or gzip-compressed. Readers pull exactly
/// what a header says they need, so a 47 MB data set never sits in memory twice.
protocol ByteSource: AnyObject {
    /// Fills `buffer` as far as the data allows; the count is short only at the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Opens `path` as a byte stream. A file that starts with the gzip magic bytes is inflated
/// whatever its name; a file named `.gz` without them is an error rather than silently raw.
func openByteSource(path: String) throws -> ByteSource {
    let file = try FileByteSource(path: path)
    var magic: (UInt8, UInt8) = (0, 0)
    let n = try withUnsafeMutableBytes(of: &magic) { try file.read(into: $0) }
    try file.rewind()
    if n == 2 && magic == (0x1F, 0x8B) { return try GzipByteSource(file: file, path: path) }
    if path.hasSuffix(".gz") { throw DataError.notGzip(path: path) }
    return file
}

/// Reads every remaining byte and returns how many there were (for trailing-data checks).
func drainCount(_ source: ByteSource) throws -> Int {
    var scratch = [UInt8](repeating: 0, count: 1 << 16)
    var total = 0
    while true {
        let n = try scratch.withUnsafeMutableBytes { try source.read(into: $0) }
        if n == 0 { return total }
        total += n
    }
}

/// Reads exactly `count` bytes into a new array, or reports how many there were. The array
/// grows in chunks so a corrupt header claiming terabytes fails on the data, not on malloc.
func readExactly(_ source: ByteSource, count: Int, path: String, what: String) throws -> [UInt8] {
    var bytes = [UInt8]()
    bytes.reserveCapacity(min(count, 1 << 26))
    var filled = 0
    while filled < count {
        let chunk = min(count - filled, 1 << 24)
        bytes.append(contentsOf: repeatElement(0, count: chunk))
        let n = try bytes.withUnsafeMutableBytes { all in
            try source.read(into: UnsafeMutableRawBufferPointer(rebasing: all[filled..<(filled + chunk)]))
        }
        filled += n
        if n < chunk {
            throw DataError.truncated(path: path, detail: "\(what) needs \(count) bytes, found \(filled)")
        }
    }
    return bytes
}

final class FileByteSource: ByteSource {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a named pipe would otherwise wait for a writer forever. Only
        // regular files are read; the flag is cleared once that is known.
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw DataError.fileNotFound(path: path) }
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw DataError.unreadable(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw DataError.unreadable(path: path, reason: (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        self.fd = fd
    }

    deinit { close(fd) }

    /// The file's size in bytes.
    func size() throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        return Int(info.st_size)
    }

    func rewind() throws {
        if lseek(fd, 0, SEEK_SET) < 0 {
            throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var filled = 0
        while filled < buffer.count {
            let n = Foundation.read(fd, base + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Inflates a gzip file (one or more concatenated members, as gzip(1) allows) while it is
/// read. zlib checks each member's CRC-32 and length, so a corrupted stream fails here.
final class GzipByteSource: ByteSource {
    private let file: FileByteSource
    private let path: String
    private var stream = z_stream()
    private let input: UnsafeMutableRawPointer
    private let inputCapacity = 1 << 18
    private var inputExhausted = false
    private var finished = false
    private var produced = 0

    init(file: FileByteSource, path: String) throws {
        self.file = file
        self.path = path
        input = UnsafeMutableRawPointer.allocate(byteCount: inputCapacity, alignment: 16)
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib stream.
        let rc = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if rc != Z_OK {
            input.deallocate()
            throw DataError.unreadable(path: path, reason: "zlib inflateInit2 failed with code \(rc)")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Makes at least `minimum` unread input bytes available if the file has them; compacts the
    /// unread tail to the front of the buffer first.
    private func refill(minimum: Int) throws {
        guard Int(stream.avail_in) < minimum, !inputExhausted else { return }
        let pending = Int(stream.avail_in)
        if pending > 0, let next = stream.next_in, UnsafeMutableRawPointer(next) != input {
            input.copyMemory(from: next, byteCount: pending)
        }
        var have = pending
        while have < minimum && !inputExhausted {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(start: input + have, count: inputCapacity - have))
            if n == 0 { inputExhausted = true }
            have += n
        }
        stream.next_in = input.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = uInt(have)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0, !finished else { return 0 }
        stream.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(buffer.count)
        while stream.avail_out > 0 {
            try refill(minimum: 1)
            let rc = inflate(&stream, Z_NO_FLUSH)
            switch rc {
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either more input is needed and there is none, or a bug.
                if inputExhausted && stream.avail_in == 0 {
                    throw DataError.truncated(
                        path: path,
                        detail: "gzip stream ends before its end marker after \(produced + buffer.count - Int(stream.avail_out)) bytes")
                }
            case Z_STREAM_END:
                try refill(minimum: 2)
                let pending = Int(stream.avail_in)
                if pending == 0 {
                    finished = true
                    let n = buffer.count - Int(stream.avail_out)
                    produced += n
                    return n
                }
                guard pending >= 2, let next = stream.next_in, next[0] == 0x1F, next[1] == 0x8B else {
                    throw DataError.corruptGzip(path: path, detail: "unexpected non-gzip data after the end of the gzip stream")
                }
                inflateReset(&stream)
            case Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR:
                let message = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                throw DataError.corruptGzip(path: path, detail: message)
            case Z_MEM_ERROR:
                throw DataError.unreadable(path: path, reason: "zlib ran out of memory")
            default:
                throw DataError.corruptGzip(path: path, detail: "zlib inflate returned \(rc)")
            }
        }
        produced += buffer.count
        return buffer.count
    }
}
