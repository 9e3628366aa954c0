// Atomic replacement of files: a reader sees either the old file or the complete new one,
// never a partial write, even after a crash or power loss.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed file operation (atomic write step, clean-up, hashing), naming the file and the reason.
public struct FileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let step: String
    public let detail: String

    public init(file: String, step: String, detail: String) {
        self.file = file
        self.step = step
        self.detail = detail
    }

    public var description: String { oneLine("cannot \(step) \(file): \(detail)") }
}

public enum AtomicFile {
    /// Marker inside temporary names: `.<name>.tmp-<pid>-<random hex>`. Temporaries start
    /// with a dot and do not end in the final extension, so `*.h5` never matches one.
    static let marker = ".tmp-"

    /// The temporary name used for `path` by this process.
    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return folder + "/." + url.lastPathComponent + marker + "\(getpid())-" + random
    }

    /// Runs `produce` on a temporary path in the destination's folder, then fsyncs the
    /// temporary, renames it over `path` and fsyncs the folder. On any failure the
    /// temporary is removed and the destination is untouched.
    public static func write(to path: String, _ produce: (String) throws -> Void) throws {
        let temporary = temporaryPath(for: path)
        do {
            try produce(temporary)
            try fsyncPath(temporary, directory: false)
            guard rename(temporary, path) == 0 else { throw posixError(path, "rename temporary onto") }
            try fsyncPath(URL(fileURLWithPath: path).deletingLastPathComponent().path, directory: true)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func fsyncPath(_ path: String, directory: Bool) throws {
        let fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        guard fd >= 0 else { throw posixError(path, "open for fsync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw posixError(path, "fsync") }
    }

    static func posixError(_ file: String, _ step: String) -> FileError {
        FileError(file: file, step: step, detail: String(cString: strerror(errno)))
    }

    /// Whether a file name is a temporary left by `write(to:)`.
    public static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(marker)
    }

    /// Removes temporaries in `folder` whose writing process is gone (or older than
    /// `maxAge` seconds, which covers a recycled pid), returning the removed names sorted.
    /// Temporaries of live processes, including this one, are in use and stay.
    @discardableResult
    public static func removeStaleTemporaries(in folder: String, maxAge: TimeInterval = 24 * 3600) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw FileError(file: folder, step: "list folder", detail: "\(error.localizedDescription)")
        }
        var removed: [String] = []
        for name in names.sorted() where isTemporaryName(name) {
            let full = folder + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let age = Date().timeIntervalSince1970 - TimeInterval(info.st_mtim.tv_sec)
            let owner = ownerPid(of: name)
            let ownerAlive = owner.map { kill($0, 0) == 0 || errno == EPERM } ?? false
            guard !ownerAlive || age > maxAge else { continue }
            guard unlink(full) == 0 || errno == ENOENT else { throw posixError(full, "remove stale temporary") }
            removed.append(name)
        }
        return removed
    }

    private static func ownerPid(of name: String) -> pid_t? {
        guard let range = name.range(of: marker, options: .backwards) else { return nil }
        let rest = name[range.upperBound...]
        guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0 else { return nil }
        return pid
    }
}
