// An open HDF5 file: creation with basin's settings, checked opening, atomic sealed writes.
import CHDF5
import Foundation

/// An open HDF5 file. Objects opened from it keep it alive; closing it (explicitly or when
/// the last reference goes) closes every object still open in it.
public final class HDF5File {
    public let path: String
    public let isWritable: Bool
    let id: hid_t
    /// Upper bound for any dataset read from this file: uncompressed data cannot be larger
    /// than the file, so a corrupted extent cannot make us allocate terabytes.
    let byteLimit: Int
    private(set) var isClosed = false

    private init(path: String, id: hid_t, isWritable: Bool, byteLimit: Int) {
        self.path = path
        self.id = id
        self.isWritable = isWritable
        self.byteLimit = byteLimit
    }

    deinit {
        if !isClosed { H5Fclose(id) }
    }

    /// Creates (or truncates) a file. Groups track link creation order so readers list
    /// datasets in the order they were written; metadata is checksummed (1.8+ format) and
    /// datasets carry Fletcher-32 checksums, so corruption is detected rather than loaded.
    /// `sealed` reserves the user block for the SHA-256 seal that `seal()` writes after closing.
    public static func create(path: String, sealed: Bool = false) throws -> HDF5File {
        hdf5Prepare()
        let fail = { (op: String) in HDF5Error.capture(file: path, object: "/", operation: op) }
        let fapl = try fileAccessList(path: path)
        defer { H5Pclose(fapl) }
        let fcpl = H5Pcreate(basin_H5P_FILE_CREATE())
        guard fcpl >= 0 else { throw fail("create file property list") }
        defer { H5Pclose(fcpl) }
        guard configureGroupCreation(fcpl) else { throw fail("configure root group") }
        if sealed, H5Pset_userblock(fcpl, hsize_t(FileSeal.blockSize)) < 0 { throw fail("reserve seal block") }
        let id = H5Fcreate(path, basin_H5F_ACC_TRUNC(), fcpl, fapl)
        guard id >= 0 else { throw fail("create file") }
        return HDF5File(path: path, id: id, isWritable: true, byteLimit: Int.max)
    }

    /// Opens an existing file read-only. A sealed file is verified first and throws
    /// `IntegrityError` if any byte changed since it was written; unsealed files (e.g. written
    /// by h5py) rely on HDF5's own checks. Reads are bounded by the file's size (uncompressed
    /// data cannot be larger) unless `compressedData` allows filters that expand data.
    public static func open(path: String, compressedData: Bool = false) throws -> HDF5File {
        hdf5Prepare()
        // The common mistakes get a plain reason rather than HDF5's error stack.
        let refuse = { (detail: String) in HDF5Error(file: path, object: "/", operation: "open file", detail: detail) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw refuse(errno == ENOENT ? "file does not exist" : String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw refuse("not a regular file") }
        let size = Int(info.st_size)
        guard size > 0 else { throw refuse("file is empty (0 bytes)") }
        guard hasSignature(path: path, size: size) else { throw refuse("not an HDF5 file (no HDF5 signature)") }
        _ = try FileSeal.verify(path: path)
        let fapl = try fileAccessList(path: path)
        defer { H5Pclose(fapl) }
        let id = H5Fopen(path, basin_H5F_ACC_RDONLY(), fapl)
        guard id >= 0 else { throw HDF5Error.capture(file: path, object: "/", operation: "open file") }
        return HDF5File(path: path, id: id, isWritable: false, byteLimit: compressedData ? Int.max : size)
    }

    /// Whether HDF5 recognizes the file (its signature, also after a user block).
    public static func isHDF5(path: String) -> Bool {
        hdf5Prepare()
        return H5Fis_hdf5(path) > 0
    }

    private static func fileAccessList(path: String) throws -> hid_t {
        let fapl = H5Pcreate(basin_H5P_FILE_ACCESS())
        guard fapl >= 0,
              H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0,
              H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, basin_H5F_LIBVER_LATEST()) >= 0
        else {
            if fapl >= 0 { H5Pclose(fapl) }
            throw HDF5Error.capture(file: path, object: "/", operation: "configure file access")
        }
        return fapl
    }

    /// Creation settings shared by the root group and every group basin creates.
    static func configureGroupCreation(_ plist: hid_t) -> Bool {
        // Compact storage keeps links and attributes inside checksummed object headers
        // (dense storage would put names in a fractal heap without checksums).
        H5Pset_link_creation_order(plist, basin_H5P_CRT_ORDER_TRACKED_INDEXED()) >= 0
            && H5Pset_link_phase_change(plist, 65535, 65534) >= 0
            && H5Pset_attr_phase_change(plist, 65535, 65534) >= 0
            // No modification times in headers: the same content gives the same bytes.
            && H5Pset_obj_track_times(plist, false) >= 0
    }

    public var root: HDF5Group {
        get throws {
            let gid = H5Gopen2(id, "/", plistDefault)
            guard gid >= 0 else { throw HDF5Error.capture(file: path, object: "/", operation: "open root group") }
            return HDF5Group(file: self, id: gid, path: "/")
        }
    }

    /// Writes everything buffered to the operating system (not yet to the disk: see fsync).
    public func flush() throws {
        hdf5Prepare()
        guard !isClosed, H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else {
            throw HDF5Error.capture(file: path, object: "/", operation: "flush file")
        }
    }

    public func close() throws {
        guard !isClosed else { return }
        hdf5Prepare()
        isClosed = true
        guard H5Fclose(id) >= 0 else {
            throw HDF5Error.capture(file: path, object: "/", operation: "close file")
        }
    }

    /// Writes an HDF5 file atomically: `produce` fills a temporary file in the same folder,
    /// which is flushed, closed, sealed (SHA-256 in the user block), fsynced and renamed over
    /// `path`; the folder is fsynced.
    public static func writeAtomically(path: String, sealed: Bool = true, _ produce: (HDF5Group) throws -> Void) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(path: temporary, sealed: sealed)
            try produce(try file.root)
            try file.flush()
            try file.close()
            if sealed { try FileSeal.seal(path: temporary) }
        }
    }

    /// HDF5 files start with this signature at offset 0 (or 512, 1024, ... after a user block).
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]

    /// Whether the file starts with HDF5's signature (at 0, or after a user block) or with basin's seal.
    public static func hasSignature(path: String, size: Int) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        // A sealed file starts with its seal; opening it reports a damaged one precisely.
        if let start = try? handle.read(upToCount: FileSeal.magic.utf8.count), [UInt8](start) == Array(FileSeal.magic.utf8) {
            return true
        }
        var offset = 0
        while offset + 8 <= size {
            do {
                try handle.seek(toOffset: UInt64(offset))
                if let bytes = try handle.read(upToCount: 8), [UInt8](bytes) == signature { return true }
            } catch { return false }
            offset = offset == 0 ? 512 : offset * 2
        }
        return false
    }
}
