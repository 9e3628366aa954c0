// The one place that talks to the HDF5 C library. Everything else in basin (checkpoints,
// analysis results) goes through these wrappers, so error translation, handle lifetimes and
// the on-disk choices (checksums, deterministic bytes) are decided once.
import CHDF5
import Foundation

/// A failed HDF5 operation, naming the file, the object and HDF5's own innermost reason.
public struct HDF5Error: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let object: String
    public let operation: String
    public let detail: String

    public init(file: String, object: String, operation: String, detail: String) {
        self.file = file
        self.object = object
        self.operation = operation
        self.detail = detail
    }

    public var description: String {
        oneLine("HDF5 file \(file): cannot \(operation) '\(object)': \(detail)")
    }
}

/// Element types basin stores. HDF5 files may hold others; they are reported by name.
public enum HDF5ElementType: String, Sendable, Equatable, CustomStringConvertible {
    case float32, float64, int64, uint64
    public var description: String { rawValue }
    var byteSize: Int { self == .float32 ? 4 : 8 }
}

/// The values of a numeric array, typed.
public enum HDF5Values: Equatable, Sendable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case uint64([UInt64])

    public var elementType: HDF5ElementType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .uint64: return .uint64
        }
    }

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .int64(let v): return v.count
        case .uint64(let v): return v.count
        }
    }

    /// Every value as a Double (integers above 2^53 round).
    public var asDoubles: [Double] {
        switch self {
        case .float32(let v): return v.map(Double.init)
        case .float64(let v): return v
        case .int64(let v): return v.map(Double.init)
        case .uint64(let v): return v.map(Double.init)
        }
    }

    /// Number of NaN or infinite values (always 0 for integers).
    public var nonFiniteCount: Int {
        switch self {
        case .float32(let v): return v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        case .float64(let v): return v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        case .int64, .uint64: return 0
        }
    }
}

/// A named numeric array with its shape; shape [] is a scalar holding one value.
public struct HDF5Array: Equatable, Sendable {
    public var shape: [Int]
    public var values: HDF5Values

    public init(shape: [Int], values: HDF5Values) {
        self.shape = shape
        self.values = values
    }
}

/// Shape and element type of a stored dataset, known without reading its data.
public struct HDF5DatasetInfo: Equatable, Sendable {
    public let shape: [Int]
    /// nil when the stored type is none of basin's; `typeName` then says what it is.
    public let elementType: HDF5ElementType?
    public let typeName: String
    public var elementCount: Int { shape.reduce(1, *) }
}

/// Attribute values basin writes: strings are variable-length UTF-8 (h5py reads them as
/// `str`), integers int64 (uint64 only above Int64.max), floats float64.
public enum HDF5AttributeValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case int64(Int64)
    case uint64(UInt64)
    case float64(Double)

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .int64(let v): return String(v)
        case .uint64(let v): return String(v)
        case .float64(let v): return String(v)
        }
    }

    var typeName: String {
        switch self {
        case .string: return "string"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float64: return "float64"
        }
    }
}

public enum HDF5ObjectKind: Equatable, Sendable { case group, dataset, other }

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
    /// by h5py) rely on HDF5's own checks.
    public static func open(path: String) throws -> HDF5File {
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
        guard hasHDF5Signature(path: path, size: size) else { throw refuse("not an HDF5 file (no HDF5 signature)") }
        _ = try FileSeal.verify(path: path)
        let fapl = try fileAccessList(path: path)
        defer { H5Pclose(fapl) }
        let id = H5Fopen(path, basin_H5F_ACC_RDONLY(), fapl)
        guard id >= 0 else { throw HDF5Error.capture(file: path, object: "/", operation: "open file") }
        return HDF5File(path: path, id: id, isWritable: false, byteLimit: size)
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
}

/// An open group. Datasets and attributes are opened and closed within each call.
public final class HDF5Group {
    public let file: HDF5File
    /// Absolute path inside the file, for messages.
    public let path: String
    let id: hid_t

    init(file: HDF5File, id: hid_t, path: String) {
        self.file = file
        self.id = id
        self.path = path
    }

    deinit {
        // A strongly closed file already closed this group; its id may name something else now.
        if !file.isClosed { H5Gclose(id) }
    }

    func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    private func fail(_ object: String, _ operation: String) -> HDF5Error {
        HDF5Error.capture(file: file.path, object: object, operation: operation)
    }

    private func checkName(_ name: String) throws {
        guard !name.isEmpty, name != ".", !name.contains("/"), !name.contains("\0") else {
            throw HDF5Error(file: file.path, object: childPath(name), operation: "name object",
                            detail: "names must be non-empty and contain no '/' or NUL")
        }
    }

    // MARK: Groups

    public func createGroup(_ name: String) throws -> HDF5Group {
        hdf5Prepare()
        try checkName(name)
        let gcpl = H5Pcreate(basin_H5P_GROUP_CREATE())
        guard gcpl >= 0 else { throw fail(childPath(name), "create group property list") }
        defer { H5Pclose(gcpl) }
        guard HDF5File.configureGroupCreation(gcpl) else { throw fail(childPath(name), "configure group") }
        let gid = H5Gcreate2(id, name, plistDefault, gcpl, plistDefault)
        guard gid >= 0 else { throw fail(childPath(name), "create group") }
        return HDF5Group(file: file, id: gid, path: childPath(name))
    }

    public func openGroup(_ name: String) throws -> HDF5Group {
        hdf5Prepare()
        let gid = H5Gopen2(id, name, plistDefault)
        guard gid >= 0 else { throw fail(childPath(name), "open group") }
        return HDF5Group(file: file, id: gid, path: childPath(name))
    }

    public func contains(_ name: String) throws -> Bool {
        hdf5Prepare()
        guard !name.isEmpty, !name.contains("/") else { return false }
        let exists = H5Lexists(id, name, plistDefault)
        guard exists >= 0 else { throw fail(childPath(name), "look up link") }
        return exists > 0
    }

    public func kind(of name: String) throws -> HDF5ObjectKind {
        hdf5Prepare()
        switch basin_object_kind(id, name) {
        case 0: return .group
        case 1: return .dataset
        case 2: return .other
        default: throw fail(childPath(name), "inspect object")
        }
    }

    /// Names of the group's members in creation order when the group tracks it (every group
    /// basin writes does), otherwise in HDF5's name order (byte-wise ascending).
    public func childNames() throws -> [String] {
        hdf5Prepare()
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else { throw fail(path, "list group") }
        let gcpl = H5Gget_create_plist(id)
        guard gcpl >= 0 else { throw fail(path, "read group properties") }
        var orderFlags: UInt32 = 0
        let tracked = H5Pget_link_creation_order(gcpl, &orderFlags) >= 0 && orderFlags & 1 != 0
        H5Pclose(gcpl)
        let index = tracked ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
        var names: [String] = []
        for i in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", index, H5_ITER_INC, i, nil, 0, plistDefault)
            guard length >= 0, length < 1 << 20 else { throw fail(path, "read member name \(i)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Lget_name_by_idx(id, ".", index, H5_ITER_INC, i, &buffer, buffer.count, plistDefault) >= 0 else {
                throw fail(path, "read member name \(i)")
            }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Datasets

    /// Writes a dataset. Shape [] gives a scalar dataspace. Small datasets live in the
    /// (checksummed) object header; larger ones in one Fletcher-32-checked chunk.
    public func writeDataset(_ name: String, _ array: HDF5Array) throws {
        hdf5Prepare()
        try checkName(name)
        let object = childPath(name)
        let count = try checkedCount(array.shape, object: object)
        guard count == array.values.count else {
            throw HDF5Error(file: file.path, object: object, operation: "write dataset",
                            detail: "shape \(shapeText(array.shape)) needs \(count) values, got \(array.values.count)")
        }
        guard array.shape.allSatisfy({ $0 >= 0 }), array.shape.count <= 32 else {
            throw HDF5Error(file: file.path, object: object, operation: "write dataset",
                            detail: "invalid shape \(shapeText(array.shape))")
        }
        let dims = array.shape.map { hsize_t($0) }
        let space = array.shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        guard space >= 0 else { throw fail(object, "create dataspace") }
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(basin_H5P_DATASET_CREATE())
        guard dcpl >= 0 else { throw fail(object, "create dataset property list") }
        defer { H5Pclose(dcpl) }
        let elementType = array.values.elementType
        let bytes = count * elementType.byteSize
        var configured = H5Pset_obj_track_times(dcpl, false) >= 0
        if array.shape.isEmpty || bytes <= 4096 {
            configured = configured && H5Pset_layout(dcpl, H5D_COMPACT) >= 0
        } else {
            // One chunk per dataset (HDF5 caps a chunk at 4 GiB; keep well below).
            var chunk = dims
            let maxChunkBytes = 1 << 30
            if bytes > maxChunkBytes {
                chunk[0] = hsize_t(max(1, array.shape[0] / ((bytes + maxChunkBytes - 1) / maxChunkBytes)))
            }
            configured = configured && H5Pset_chunk(dcpl, Int32(chunk.count), chunk) >= 0
                && H5Pset_fletcher32(dcpl) >= 0
        }
        guard configured else { throw fail(object, "configure dataset layout") }
        let dataset = H5Dcreate2(id, name, elementType.fileType, space, plistDefault, dcpl, plistDefault)
        guard dataset >= 0 else { throw fail(object, "create dataset") }
        defer { H5Dclose(dataset) }
        let status: herr_t
        switch array.values {
        case .float32(let v): status = v.withUnsafeBytes { H5Dwrite(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress) }
        case .float64(let v): status = v.withUnsafeBytes { H5Dwrite(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress) }
        case .int64(let v): status = v.withUnsafeBytes { H5Dwrite(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress) }
        case .uint64(let v): status = v.withUnsafeBytes { H5Dwrite(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress) }
        }
        guard status >= 0 else { throw fail(object, "write dataset") }
    }

    /// Shape and type of a dataset without reading its values.
    public func datasetInfo(_ name: String) throws -> HDF5DatasetInfo {
        hdf5Prepare()
        let object = childPath(name)
        let dataset = H5Dopen2(id, name, plistDefault)
        guard dataset >= 0 else { throw fail(object, "open dataset") }
        defer { H5Dclose(dataset) }
        return try info(of: dataset, object: object)
    }

    private func info(of dataset: hid_t, object: String) throws -> HDF5DatasetInfo {
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw fail(object, "read dataspace") }
        defer { H5Sclose(space) }
        let shape: [Int]
        switch H5Sget_simple_extent_type(space) {
        case H5S_SCALAR:
            shape = []
        case H5S_SIMPLE:
            let rank = H5Sget_simple_extent_ndims(space)
            guard rank >= 0, rank <= 32 else { throw fail(object, "read dataspace rank") }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { throw fail(object, "read dataspace dims") }
            guard dims.allSatisfy({ $0 <= hsize_t(Int32.max) }) else {
                throw HDF5Error(file: file.path, object: object, operation: "read dataspace",
                                detail: "dimension too large: \(dims)")
            }
            shape = dims.map { Int($0) }
        default:
            throw HDF5Error(file: file.path, object: object, operation: "read dataspace", detail: "dataset has no dataspace extent")
        }
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw fail(object, "read datatype") }
        defer { H5Tclose(type) }
        let (elementType, typeName) = classify(type)
        return HDF5DatasetInfo(shape: shape, elementType: elementType, typeName: typeName)
    }

    /// Reads a dataset of one of basin's element types.
    public func readDataset(_ name: String) throws -> HDF5Array {
        hdf5Prepare()
        let object = childPath(name)
        let dataset = H5Dopen2(id, name, plistDefault)
        guard dataset >= 0 else { throw fail(object, "open dataset") }
        defer { H5Dclose(dataset) }
        let info = try info(of: dataset, object: object)
        guard let elementType = info.elementType else {
            throw HDF5Error(file: file.path, object: object, operation: "read dataset",
                            detail: "unsupported element type \(info.typeName)")
        }
        let count = try checkedCount(info.shape, object: object)
        guard count.multipliedReportingOverflow(by: elementType.byteSize).partialValue <= file.byteLimit,
              count <= Int.max / 8 else {
            throw HDF5Error(file: file.path, object: object, operation: "read dataset",
                            detail: "shape \(shapeText(info.shape)) needs more bytes than the file holds")
        }
        func read<T>(_ zero: T) throws -> [T] {
            var values = [T](repeating: zero, count: count)
            let status = values.withUnsafeMutableBytes {
                count == 0 ? 0 : H5Dread(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress)
            }
            guard status >= 0 else { throw fail(object, "read dataset") }
            return values
        }
        let values: HDF5Values
        switch elementType {
        case .float32: values = .float32(try read(Float(0)))
        case .float64: values = .float64(try read(Double(0)))
        case .int64: values = .int64(try read(Int64(0)))
        case .uint64: values = .uint64(try read(UInt64(0)))
        }
        return HDF5Array(shape: info.shape, values: values)
    }

    private func checkedCount(_ shape: [Int], object: String) throws -> Int {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, d >= 0 else {
                throw HDF5Error(file: file.path, object: object, operation: "size dataset", detail: "shape \(shapeText(shape)) is too large")
            }
            count = product
        }
        return count
    }

    // MARK: Attributes

    /// Sets (or replaces) an attribute on this group.
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue) throws {
        hdf5Prepare()
        let object = "\(path)@\(name)"
        guard !name.isEmpty, !name.contains("\0") else {
            throw HDF5Error(file: file.path, object: object, operation: "name attribute", detail: "empty or NUL in name")
        }
        let exists = H5Aexists(id, name)
        guard exists >= 0 else { throw fail(object, "look up attribute") }
        if exists > 0, H5Adelete(id, name) < 0 { throw fail(object, "replace attribute") }
        let space = H5Screate(H5S_SCALAR)
        guard space >= 0 else { throw fail(object, "create dataspace") }
        defer { H5Sclose(space) }
        let fileType: hid_t
        let memoryType: hid_t
        var ownedType: hid_t = -1
        defer { if ownedType >= 0 { H5Tclose(ownedType) } }
        switch value {
        case .string(let s):
            guard !s.utf8.contains(0) else {
                throw HDF5Error(file: file.path, object: object, operation: "write attribute", detail: "string contains NUL")
            }
            ownedType = H5Tcopy(basin_H5T_C_S1())
            guard ownedType >= 0, H5Tset_size(ownedType, basin_H5T_VARIABLE()) >= 0,
                  H5Tset_cset(ownedType, H5T_CSET_UTF8) >= 0 else { throw fail(object, "create string type") }
            fileType = ownedType
            memoryType = ownedType
        case .int64:
            fileType = basin_H5T_STD_I64LE(); memoryType = basin_H5T_NATIVE_INT64()
        case .uint64:
            fileType = basin_H5T_STD_U64LE(); memoryType = basin_H5T_NATIVE_UINT64()
        case .float64:
            fileType = basin_H5T_IEEE_F64LE(); memoryType = basin_H5T_NATIVE_DOUBLE()
        }
        let attribute = H5Acreate2(id, name, fileType, space, plistDefault, plistDefault)
        guard attribute >= 0 else { throw fail(object, "create attribute") }
        defer { H5Aclose(attribute) }
        let status: herr_t
        switch value {
        case .string(let s):
            status = s.withCString { cString in
                var pointer: UnsafePointer<CChar>? = cString
                return H5Awrite(attribute, memoryType, &pointer)
            }
        case .int64(var v): status = H5Awrite(attribute, memoryType, &v)
        case .uint64(var v): status = H5Awrite(attribute, memoryType, &v)
        case .float64(var v): status = H5Awrite(attribute, memoryType, &v)
        }
        guard status >= 0 else { throw fail(object, "write attribute") }
    }

    /// The attribute's value, nil when absent. Strings may be fixed- or variable-length;
    /// integers of any width and floats are widened to int64/uint64/float64.
    public func attribute(_ name: String) throws -> HDF5AttributeValue? {
        hdf5Prepare()
        let object = "\(path)@\(name)"
        let exists = H5Aexists(id, name)
        guard exists >= 0 else { throw fail(object, "look up attribute") }
        guard exists > 0 else { return nil }
        let attribute = H5Aopen(id, name, plistDefault)
        guard attribute >= 0 else { throw fail(object, "open attribute") }
        defer { H5Aclose(attribute) }
        let space = H5Aget_space(attribute)
        guard space >= 0 else { throw fail(object, "read attribute dataspace") }
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_npoints(space) == 1 else {
            throw HDF5Error(file: file.path, object: object, operation: "read attribute", detail: "not a single value")
        }
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw fail(object, "read attribute type") }
        defer { H5Tclose(type) }
        switch H5Tget_class(type) {
        case H5T_STRING:
            let variable = H5Tis_variable_str(type)
            guard variable >= 0 else { throw fail(object, "read attribute type") }
            let memoryType = H5Tcopy(type)
            guard memoryType >= 0 else { throw fail(object, "copy attribute type") }
            defer { H5Tclose(memoryType) }
            if variable > 0 {
                var pointer: UnsafeMutablePointer<CChar>? = nil
                guard H5Aread(attribute, memoryType, &pointer) >= 0 else { throw fail(object, "read attribute") }
                defer { if let pointer { H5free_memory(pointer) } }
                return .string(pointer.map { String(cString: $0) } ?? "")
            }
            let size = H5Tget_size(type)
            guard size > 0, size < 1 << 24 else { throw fail(object, "read attribute size") }
            var buffer = [UInt8](repeating: 0, count: size + 1)
            guard H5Aread(attribute, memoryType, &buffer) >= 0 else { throw fail(object, "read attribute") }
            let end = buffer.firstIndex(of: 0) ?? size
            return .string(String(decoding: buffer[..<end], as: UTF8.self).trimmingCharacters(in: .whitespaces))
        case H5T_INTEGER:
            if H5Tget_sign(type) == H5T_SGN_NONE {
                var v: UInt64 = 0
                guard H5Aread(attribute, basin_H5T_NATIVE_UINT64(), &v) >= 0 else { throw fail(object, "read attribute") }
                return .uint64(v)
            }
            var v: Int64 = 0
            guard H5Aread(attribute, basin_H5T_NATIVE_INT64(), &v) >= 0 else { throw fail(object, "read attribute") }
            return .int64(v)
        case H5T_FLOAT:
            var v: Double = 0
            guard H5Aread(attribute, basin_H5T_NATIVE_DOUBLE(), &v) >= 0 else { throw fail(object, "read attribute") }
            return .float64(v)
        default:
            throw HDF5Error(file: file.path, object: object, operation: "read attribute", detail: "unsupported attribute type")
        }
    }

    /// Attribute names in HDF5's name order (byte-wise ascending).
    public func attributeNames() throws -> [String] {
        hdf5Prepare()
        let count = basin_attribute_count(id)
        guard count >= 0 else { throw fail(path, "count attributes") }
        var names: [String] = []
        for i in 0..<hsize_t(count) {
            let length = H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, plistDefault)
            guard length >= 0, length < 1 << 20 else { throw fail(path, "read attribute name \(i)") }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, plistDefault) >= 0 else {
                throw fail(path, "read attribute name \(i)")
            }
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }
}

// MARK: Internals

extension HDF5ElementType {
    var fileType: hid_t {
        switch self {
        case .float32: return basin_H5T_IEEE_F32LE()
        case .float64: return basin_H5T_IEEE_F64LE()
        case .int64: return basin_H5T_STD_I64LE()
        case .uint64: return basin_H5T_STD_U64LE()
        }
    }

    var memoryType: hid_t {
        switch self {
        case .float32: return basin_H5T_NATIVE_FLOAT()
        case .float64: return basin_H5T_NATIVE_DOUBLE()
        case .int64: return basin_H5T_NATIVE_INT64()
        case .uint64: return basin_H5T_NATIVE_UINT64()
        }
    }
}

private func classify(_ type: hid_t) -> (HDF5ElementType?, String) {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
        if size == 4 { return (.float32, "float32") }
        if size == 8 { return (.float64, "float64") }
        return (nil, "float\(size * 8)")
    case H5T_INTEGER:
        let unsigned = H5Tget_sign(type) == H5T_SGN_NONE
        let name = (unsigned ? "uint" : "int") + String(size * 8)
        if size == 8 { return (unsigned ? .uint64 : .int64, name) }
        return (nil, name)
    case H5T_STRING: return (nil, "string")
    case H5T_COMPOUND: return (nil, "compound")
    default: return (nil, "non-numeric")
    }
}

/// Turns HDF5's automatic error printing off for the calling thread (a thread-safe HDF5
/// keeps one error stack per thread), so failures surface only as thrown errors.
func hdf5Prepare() {
    H5Eset_auto2(basin_H5E_DEFAULT(), nil, nil)
}

extension HDF5Error {
    /// The error for a failed call, with the innermost description on HDF5's error stack.
    static func capture(file: String, object: String, operation: String) -> HDF5Error {
        final class Messages { var list: [String] = [] }
        let messages = Messages()
        let walker: H5E_walk2_t = { _, error, context in
            guard let error, let context, let desc = error.pointee.desc else { return 0 }
            Unmanaged<Messages>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: desc))
            return 0
        }
        withExtendedLifetime(messages) {
            _ = H5Ewalk2(basin_H5E_DEFAULT(), H5E_WALK_DOWNWARD, walker, Unmanaged.passUnretained(messages).toOpaque())
        }
        H5Eclear2(basin_H5E_DEFAULT())
        let detail = messages.list.last(where: { !$0.isEmpty }) ?? "HDF5 call failed"
        return HDF5Error(file: file, object: object, operation: operation, detail: detail)
    }
}

func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Collapses any line breaks so messages stay on one line.
func oneLine(_ s: String) -> String {
    s.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}

/// `H5P_DEFAULT` and `H5S_ALL` import as Int32; the API takes hid_t.
let plistDefault = hid_t(H5P_DEFAULT)
let selectAll = hid_t(H5S_ALL)
