/// Anything that renders itself into a PNG file.
public protocol Figure {
    /// Draws the figure and writes it atomically as a PNG carrying `metadata` as tEXt chunks.
    func render(to path: String, metadata: PNGMetadata) throws
}

enum Validate {
    static func nonEmpty(_ count: Int, _ what: String) throws {
        if count == 0 { throw PlotError.emptyData(what) }
    }

    static func sameCount(_ first: String, _ firstCount: Int, _ second: String, _ secondCount: Int) throws {
        if firstCount != secondCount {
            throw PlotError.mismatchedLengths(first: first, firstCount: firstCount, second: second, secondCount: secondCount)
        }
    }

    static func finite(_ values: [Double], _ what: String) throws {
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw PlotError.nonFinite("\(what)[\(index)] is \(values[index])")
        }
    }

    /// Strictly increasing coordinates, so each pixel falls in exactly one grid cell.
    static func increasing(_ values: [Double], _ what: String) throws {
        try finite(values, what)
        for index in values.indices.dropFirst() where values[index] <= values[index - 1] {
            throw PlotError.invalidArgument("\(what) must be strictly increasing, but \(what)[\(index)] = \(values[index]) follows \(values[index - 1])")
        }
    }
}
