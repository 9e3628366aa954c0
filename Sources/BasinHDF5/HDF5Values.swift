// The values basin stores in HDF5 files and the errors of the HDF5 layer. BasinHDF5 is the
// one place that talks to the HDF5 C library: checkpoints, data set files and analysis
// results all go through it, so error translation, handle lifetimes and the on-disk choices
// (checksums, deterministic bytes) are decided once.
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
    case float32, float64, int64, uint64, uint8
    public var description: String { rawValue }
    var byteSize: Int {
        switch self {
        case .uint8: return 1
        case .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }
}

/// The values of a numeric array, typed.
public enum HDF5Values: Equatable, Sendable {
    case float32([Float])
    case float64([Double])
    case int64([Int64])
    case uint64([UInt64])
    case uint8([UInt8])

    public var elementType: HDF5ElementType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        case .int64: return .int64
        case .uint64: return .uint64
        case .uint8: return .uint8
        }
    }

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .float64(let v): return v.count
        case .int64(let v): return v.count
        case .uint64(let v): return v.count
        case .uint8(let v): return v.count
        }
    }

    /// Every value as a Double (integers above 2^53 round).
    public var asDoubles: [Double] {
        switch self {
        case .float32(let v): return v.map(Double.init)
        case .float64(let v): return v
        case .int64(let v): return v.map(Double.init)
        case .uint64(let v): return v.map(Double.init)
        case .uint8(let v): return v.map(Double.init)
        }
    }

    /// Number of NaN or infinite values (always 0 for integers).
    public var nonFiniteCount: Int {
        switch self {
        case .float32(let v): return v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        case .float64(let v): return v.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        case .int64, .uint64, .uint8: return 0
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
    /// What kind of values the stored type holds, whatever their width.
    public let typeClass: HDF5TypeClass
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

    public var typeName: String {
        switch self {
        case .string: return "string"
        case .int64: return "int64"
        case .uint64: return "uint64"
        case .float64: return "float64"
        }
    }
}

public enum HDF5ObjectKind: Equatable, Sendable { case group, dataset, other }

/// The class of a stored element type: integers and floats of any width convert on reading.
public enum HDF5TypeClass: Equatable, Sendable { case integer, float, string, compound, other }


// MARK: Internals

extension HDF5ElementType {
    var fileType: hid_t {
        switch self {
        case .float32: return basin_H5T_IEEE_F32LE()
        case .float64: return basin_H5T_IEEE_F64LE()
        case .int64: return basin_H5T_STD_I64LE()
        case .uint64: return basin_H5T_STD_U64LE()
        case .uint8: return basin_H5T_STD_U8LE()
        }
    }

    var memoryType: hid_t {
        switch self {
        case .float32: return basin_H5T_NATIVE_FLOAT()
        case .float64: return basin_H5T_NATIVE_DOUBLE()
        case .int64: return basin_H5T_NATIVE_INT64()
        case .uint64: return basin_H5T_NATIVE_UINT64()
        case .uint8: return basin_H5T_NATIVE_UINT8()
        }
    }
}

func classify(_ type: hid_t) -> (HDF5ElementType?, HDF5TypeClass, String) {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT:
        if size == 4 { return (.float32, .float, "float32") }
        if size == 8 { return (.float64, .float, "float64") }
        return (nil, .float, "float\(size * 8)")
    case H5T_INTEGER:
        let unsigned = H5Tget_sign(type) == H5T_SGN_NONE
        let name = (unsigned ? "uint" : "int") + String(size * 8)
        if size == 8 { return (unsigned ? .uint64 : .int64, .integer, name) }
        if size == 1 && unsigned { return (.uint8, .integer, name) }
        return (nil, .integer, name)
    case H5T_STRING: return (nil, .string, "string")
    case H5T_COMPOUND: return (nil, .compound, "compound")
    default: return (nil, .other, "non-numeric")
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

/// A shape as messages print it: "[2, 3]".
public func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Collapses any line breaks so messages stay on one line.
public func oneLine(_ s: String) -> String {
    s.split(whereSeparator: { $0.isNewline }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
}

/// `H5P_DEFAULT` and `H5S_ALL` import as Int32; the API takes hid_t.
let plistDefault = hid_t(H5P_DEFAULT)
let selectAll = hid_t(H5S_ALL)
