import Foundation

/// A continuous colormap: a table of RGB entries sampled uniformly on 0...1 with linear
/// interpolation between neighbouring entries.
public struct Colormap: Equatable, Sendable {
    public let name: String
    /// Flat RGB triples, at least two entries.
    let table: [Double]

    public var count: Int { table.count / 3 }

    /// A colormap through the given colors, equally spaced on 0...1.
    public init(name: String, colors: [Color]) throws {
        guard colors.count >= 2 else {
            throw PlotError.invalidArgument("colormap \(name) needs at least 2 colors, got \(colors.count)")
        }
        self.name = name
        self.table = colors.flatMap { [$0.red, $0.green, $0.blue] }
    }

    init(name: String, table: [Double]) {
        self.name = name
        self.table = table
    }

    /// The color at position t in 0...1; positions outside are clamped, NaN gives `Color.missing`.
    public func color(at t: Double) -> Color {
        guard t.isFinite else { return .missing }
        let position = min(max(t, 0), 1) * Double(count - 1)
        let lower = min(Int(position), count - 2)
        let fraction = position - Double(lower)
        func channel(_ offset: Int) -> Double {
            let a = table[lower * 3 + offset]
            let b = table[(lower + 1) * 3 + offset]
            return a + (b - a) * fraction
        }
        return Color(red: channel(0), green: channel(1), blue: channel(2))
    }

    /// The same colors in the opposite direction (low values get the high end).
    public var reversed: Colormap {
        var flipped: [Double] = []
        flipped.reserveCapacity(table.count)
        for entry in stride(from: count - 1, through: 0, by: -1) {
            flipped.append(contentsOf: table[(entry * 3)..<(entry * 3 + 3)])
        }
        let name = self.name.hasSuffix("_r") ? String(self.name.dropLast(2)) : self.name + "_r"
        return Colormap(name: name, table: flipped)
    }

    public static let viridis = Colormap(name: "viridis", table: ColormapTables.viridis)
    public static let magma = Colormap(name: "magma", table: ColormapTables.magma)
    public static let inferno = Colormap(name: "inferno", table: ColormapTables.inferno)
    public static let plasma = Colormap(name: "plasma", table: ColormapTables.plasma)
    public static let cividis = Colormap(name: "cividis", table: ColormapTables.cividis)
    /// Diverging red-white-blue for signed differences (ColorBrewer RdBu, 11 classes): low is red.
    public static let redBlue = Colormap(name: "RdBu", table: [
        0x67001F, 0xB2182B, 0xD6604D, 0xF4A582, 0xFDDBC7, 0xF7F7F7,
        0xD1E5F0, 0x92C5DE, 0x4393C3, 0x2166AC, 0x053061,
    ].flatMap { (hex: UInt32) -> [Double] in
        let color = Color(hex: hex)
        return [color.red, color.green, color.blue]
    })

    public static let all: [Colormap] = [.viridis, .magma, .inferno, .plasma, .cividis, .redBlue]

    /// Looks a colormap up by name; a trailing `_r` gives the reversed map.
    public static func named(_ name: String) throws -> Colormap {
        if let map = all.first(where: { $0.name.lowercased() == name.lowercased() }) { return map }
        if name.hasSuffix("_r"), let map = all.first(where: { $0.name.lowercased() == name.dropLast(2).lowercased() }) {
            return map.reversed
        }
        throw PlotError.invalidArgument("unknown colormap \"\(name)\" (known: \(all.map { $0.name }.joined(separator: ", ")))")
    }
}

/// How values map onto 0...1 before the colormap: linear or log10, between a low and high value.
public struct ColorScale: Equatable, Sendable {
    public var low: Double
    public var high: Double
    public var logarithmic: Bool

    public init(low: Double, high: Double, logarithmic: Bool = false) {
        self.low = low
        self.high = high
        self.logarithmic = logarithmic
    }

    func transform(_ value: Double) -> Double {
        logarithmic ? (value > 0 ? log10(value) : .nan) : value
    }

    /// Position of a value in 0...1 (unclamped; NaN stays NaN).
    func position(_ value: Double) -> Double {
        let a = transform(low), b = transform(high), v = transform(value)
        return b > a ? (v - a) / (b - a) : 0.5
    }

    /// Scale spanning the finite (and, for log, positive) values; fails if there are none.
    static func spanning(_ values: [Double], logarithmic: Bool, what: String) throws -> ColorScale {
        let usable = values.filter { $0.isFinite && (!logarithmic || $0 > 0) }
        guard let low = usable.min(), let high = usable.max() else {
            if logarithmic && values.contains(where: { $0.isFinite }) {
                throw PlotError.invalidArgument("log color scale for \(what) needs positive values")
            }
            throw PlotError.allMissing(what)
        }
        return ColorScale(low: low, high: high, logarithmic: logarithmic)
    }
}

