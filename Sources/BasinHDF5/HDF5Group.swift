// An open HDF5 group: its members, datasets and attributes.
import CHDF5
import Foundation

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
        case .uint8(let v): status = v.withUnsafeBytes { H5Dwrite(dataset, elementType.memoryType, selectAll, selectAll, plistDefault, $0.baseAddress) }
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
        let (elementType, typeClass, typeName) = classify(type)
        return HDF5DatasetInfo(shape: shape, elementType: elementType, typeClass: typeClass, typeName: typeName)
    }

    /// Reads a dataset of one of basin's element types.
    public func readDataset(_ name: String) throws -> HDF5Array {
        try readDataset(name, as: nil)
    }

    /// Reads a numeric dataset converted to `type` by HDF5 (any integer or float width;
    /// out-of-range values saturate, as HDF5 converts them).
    public func readDataset(_ name: String, as type: HDF5ElementType) throws -> HDF5Array {
        try readDataset(name, as: Optional(type))
    }

    private func readDataset(_ name: String, as requested: HDF5ElementType?) throws -> HDF5Array {
        hdf5Prepare()
        let object = childPath(name)
        let dataset = H5Dopen2(id, name, plistDefault)
        guard dataset >= 0 else { throw fail(object, "open dataset") }
        defer { H5Dclose(dataset) }
        let info = try info(of: dataset, object: object)
        let numeric = info.typeClass == .integer || info.typeClass == .float
        guard let elementType = requested.flatMap({ numeric ? $0 : nil }) ?? info.elementType else {
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
        case .uint8: values = .uint8(try read(UInt8(0)))
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

    /// Sets (or replaces) an attribute on this group, or on its member `member` (a dataset
    /// or group). Strings are variable-length unless `fixedLengthString` (as some writers
    /// other than h5py store them).
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue, of member: String? = nil,
                             fixedLengthString: Bool = false) throws {
        hdf5Prepare()
        let (id, object) = try attributeOwner(member, name)
        defer { if member != nil { H5Oclose(id) } }
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
            let size = fixedLengthString ? max(1, s.utf8.count) : basin_H5T_VARIABLE()
            guard ownedType >= 0, H5Tset_size(ownedType, size) >= 0,
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
        case .string(let s) where fixedLengthString:
            var bytes = Array(s.utf8)
            if bytes.isEmpty { bytes = [0] }
            status = H5Awrite(attribute, memoryType, bytes)
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
    public func attribute(_ name: String, of member: String? = nil) throws -> HDF5AttributeValue? {
        hdf5Prepare()
        let (id, object) = try attributeOwner(member, name)
        defer { if member != nil { H5Oclose(id) } }
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

    /// The object holding attributes: this group, or its member opened (the caller closes it).
    private func attributeOwner(_ member: String?, _ name: String) throws -> (hid_t, String) {
        guard let member else { return (id, "\(path)@\(name)") }
        let object = childPath(member)
        let oid = H5Oopen(id, member, plistDefault)
        guard oid >= 0 else { throw fail(object, "open object") }
        return (oid, "\(object)@\(name)")
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
