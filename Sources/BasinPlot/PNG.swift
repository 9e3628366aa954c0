import CPNGShim
import Foundation

/// Provenance written into the PNG as tEXt chunks so a figure says how it was made.
public struct PNGMetadata: Equatable, Sendable {
    public var software: String
    public var command: String
    public var sources: [String]
    /// Extra key/value pairs, written in this order after the standard keys.
    public var extra: [(key: String, value: String)]

    public init(software: String, command: String = "", sources: [String] = [],
                extra: [(key: String, value: String)] = []) {
        self.software = software
        self.command = command
        self.sources = sources
        self.extra = extra
    }

    public static func == (lhs: PNGMetadata, rhs: PNGMetadata) -> Bool {
        lhs.software == rhs.software && lhs.command == rhs.command && lhs.sources == rhs.sources
            && lhs.extra.map { $0.key } == rhs.extra.map { $0.key }
            && lhs.extra.map { $0.value } == rhs.extra.map { $0.value }
    }

    /// The chunks in file order; empty values are left out rather than written as noise.
    var textChunks: [(key: String, value: String)] {
        var chunks: [(key: String, value: String)] = [("Software", software)]
        if !command.isEmpty { chunks.append(("Command", command)) }
        if !sources.isEmpty { chunks.append(("Source", sources.joined(separator: "\n"))) }
        chunks.append(contentsOf: extra)
        return chunks
    }

    func validate() throws {
        for (key, value) in textChunks {
            // PNG keywords are 1-79 Latin-1 printable characters; tEXt values are Latin-1 without NUL.
            let keyBytes = Array(key.utf8)
            guard (1...79).contains(keyBytes.count), keyBytes.allSatisfy({ $0 >= 32 && $0 < 127 }),
                  key.first != " ", key.last != " " else {
                throw PlotError.invalidArgument("PNG text key \"\(key)\" must be 1-79 printable ASCII characters")
            }
            guard !value.utf8.contains(0) else {
                throw PlotError.invalidArgument("PNG text value for \"\(key)\" contains a NUL byte")
            }
        }
    }
}

/// A decoded PNG: 8-bit straight RGBA, rows top to bottom, plus its text chunks.
public struct PNGImage: Sendable {
    public let width: Int
    public let height: Int
    public let rgba: [UInt8]
    public let text: [(key: String, value: String)]
    /// Resolution recorded in the pHYs chunk (dots per inch), nil when there is none.
    public let dpi: Double?

    /// The value of the first text chunk with this key.
    public func text(forKey key: String) -> String? {
        text.first { $0.key == key }?.value
    }

    /// Red, green, blue, alpha of pixel (x, y), x to the right, y down.
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let offset = (y * width + x) * 4
        return (rgba[offset], rgba[offset + 1], rgba[offset + 2], rgba[offset + 3])
    }

    public static func read(path: String) throws -> PNGImage {
        var image = basin_png_image()
        var message = [CChar](repeating: 0, count: 512)
        let status = basin_png_read(path, &image, &message, message.count)
        defer { basin_png_image_free(&image) }
        guard status == 0, let pixels = image.rgba else {
            throw PlotError.cannotRead(path: path, reason: String(cString: message))
        }
        let count = Int(image.width) * Int(image.height) * 4
        let rgba = Array(UnsafeBufferPointer(start: pixels, count: count))
        var text: [(key: String, value: String)] = []
        for index in 0..<Int(image.text_count) {
            guard let key = image.text_keys?[index], let value = image.text_values?[index] else { continue }
            text.append((String(cString: key), String(cString: value)))
        }
        return PNGImage(width: Int(image.width), height: Int(image.height), rgba: rgba, text: text,
                        dpi: image.dpi > 0 ? image.dpi : nil)
    }
}

enum PNGWriter {
    /// Writes through a temporary file in the same folder, fsynced and renamed into place, so a
    /// reader never sees a half-written figure and a crash leaves the old file intact.
    static func write(path: String, width: Int, height: Int, rgba: [UInt8], metadata: PNGMetadata, dpi: Double = 0) throws {
        try metadata.validate()
        let opaque = stride(from: 3, to: rgba.count, by: 4).allSatisfy { rgba[$0] == 255 }
        let channels = opaque ? 3 : 4
        let pixels: [UInt8]
        if opaque {
            var rgb = [UInt8](repeating: 0, count: width * height * 3)
            for index in 0..<(width * height) {
                rgb[index * 3] = rgba[index * 4]
                rgb[index * 3 + 1] = rgba[index * 4 + 1]
                rgb[index * 3 + 2] = rgba[index * 4 + 2]
            }
            pixels = rgb
        } else {
            pixels = rgba
        }
        let directory: String
        let name: String
        if let slash = path.lastIndex(of: "/") {
            directory = String(path[..<slash]).isEmpty ? "/" : String(path[..<slash])
            name = String(path[path.index(after: slash)...])
        } else {
            directory = "."
            name = path
        }
        guard !name.isEmpty else { throw PlotError.cannotWrite(path: path, reason: "path names a folder, not a file") }
        let temporary = (directory == "/" ? "" : directory) + "/.\(name).\(getpid()).tmp"
        let chunks = metadata.textChunks
        var message = [CChar](repeating: 0, count: 512)
        let status = withCStrings(chunks.map { $0.key }) { keys in
            withCStrings(chunks.map { $0.value }) { values in
                basin_png_write(temporary, Int32(width), Int32(height), Int32(channels), dpi, pixels,
                                Int32(chunks.count), keys, values, &message, message.count)
            }
        }
        guard status == 0 else {
            unlink(temporary)
            throw PlotError.cannotWrite(path: path, reason: String(cString: message))
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw PlotError.cannotWrite(path: path, reason: reason)
        }
        // The rename itself is durable only once the folder entry is on disk.
        let folder = open(directory, O_RDONLY)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }

    private static func withCStrings<R>(_ strings: [String],
                                        _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer<CChar>($0) }
        return pointers.withUnsafeBufferPointer { buffer in
            // An empty array may have a nil base address; libpng never reads it when the count is 0.
            guard let base = buffer.baseAddress else {
                var none: UnsafePointer<CChar>? = nil
                return withUnsafePointer(to: &none) { body($0) }
            }
            return body(base)
        }
    }
}
