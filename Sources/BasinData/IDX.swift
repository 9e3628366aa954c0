import Foundation

/// The contents of an IDX file of unsigned bytes: its dimensions (outermost first) and the
/// bytes in row-major order.
public struct IDXArray: Equatable, Sendable {
    public let dims: [Int]
    public let bytes: [UInt8]

    public init(dims: [Int], bytes: [UInt8]) {
        self.dims = dims
        self.bytes = bytes
    }
}

/// Reader for the IDX format of (Fashion-)MNIST, plain or gzip-compressed.
///
/// The magic number is 0x00 0x00, a type byte (only 0x08, unsigned byte, is supported) and the
/// rank: 0x00000801 for labels, 0x00000803 for images. Then each dimension as a big-endian
/// UInt32, then the data. Bytes after the data are an error (`DataError.trailingData`): the
/// format has no room for them, so they signal a wrong header or a damaged file.
public enum IDXFile {
    public static let labelsMagic: UInt32 = 0x0000_0801
    public static let imagesMagic: UInt32 = 0x0000_0803

    /// Reads a labels (rank 1) or images (rank 3) file of unsigned bytes.
    public static func read(path: String) throws -> IDXArray {
        try read(path: path, expectedMagic: nil)
    }

    /// Reads a file that must carry `expectedMagic` (`labelsMagic` or `imagesMagic`).
    public static func read(path: String, expectedMagic: UInt32?) throws -> IDXArray {
        let source = try openByteSource(path: path)
        let header = try readExactly(source, count: 4, path: path, what: "IDX magic number")
        let magic = header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        if let expected = expectedMagic {
            guard magic == expected else { throw DataError.wrongMagic(path: path, expected: expected, found: magic) }
        } else if magic != labelsMagic && magic != imagesMagic {
            let expected = (magic & 0xFF) == 1 ? labelsMagic : imagesMagic
            throw DataError.wrongMagic(path: path, expected: expected, found: magic)
        }
        let rank = Int(magic & 0xFF)
        let dimBytes = try readExactly(source, count: 4 * rank, path: path, what: "IDX header with \(rank) dimension(s)")
        var dims = [Int]()
        var total = 1
        for d in 0..<rank {
            let value = dimBytes[(4 * d)..<(4 * d + 4)].reduce(0) { $0 << 8 | Int($1) }
            dims.append(value)
            let (product, overflow) = total.multipliedReportingOverflow(by: value)
            guard !overflow else {
                throw DataError.truncated(path: path, detail: "header dimensions \(dims) describe more data than can exist")
            }
            total = product
        }
        let shape = dims.map(String.init).joined(separator: "x")
        let bytes = try readExactly(source, count: total, path: path, what: "data of shape \(shape)")
        let extra = try drainCount(source)
        if extra > 0 { throw DataError.trailingData(path: path, extraBytes: extra) }
        return IDXArray(dims: dims, bytes: bytes)
    }
}
