import Foundation

/// A block of pixels ready to blit at (x, y).
struct RasterImage {
    var x: Int
    var y: Int
    var width: Int
    var height: Int
    var rgba: [UInt8]
}

enum GridRaster {
    /// Index of the cell [i, i+1] of increasing `coordinates` holding `value`, and the fraction within it.
    static func locate(_ value: Double, in coordinates: [Double]) -> (Int, Double) {
        let last = coordinates.count - 1
        if value <= coordinates[0] { return (0, 0) }
        if value >= coordinates[last] { return (last - 1, 1) }
        var low = 0, high = last
        while high - low > 1 {
            let middle = (low + high) / 2
            if coordinates[middle] <= value { low = middle } else { high = middle }
        }
        return (low, (value - coordinates[low]) / (coordinates[low + 1] - coordinates[low]))
    }

    /// Bilinear interpolation of colormap positions to every pixel of the axes box, so the map
    /// looks smooth instead of blocky. Near missing values only the present corners count, and a
    /// pixel whose present corners carry less than half the weight is drawn as missing.
    static func render(x: [Double], y: [Double], positions: [[Double]], axes: Axes, colormap: Colormap) -> RasterImage {
        let region = PixelRect(x: floor(axes.rect.minX), y: floor(axes.rect.minY),
                               width: ceil(axes.rect.maxX) - floor(axes.rect.minX),
                               height: ceil(axes.rect.maxY) - floor(axes.rect.minY))
        let width = max(0, Int(region.width)), height = max(0, Int(region.height))
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        let columnCells = (0..<width).map { locate(axes.x.value(atPixel: region.x + Double($0) + 0.5), in: x) }
        for row in 0..<height {
            let (j, fy) = locate(axes.y.value(atPixel: region.y + Double(row) + 0.5), in: y)
            for column in 0..<width {
                let (i, fx) = columnCells[column]
                let corners = [(positions[j][i], (1 - fx) * (1 - fy)), (positions[j][i + 1], fx * (1 - fy)),
                               (positions[j + 1][i], (1 - fx) * fy), (positions[j + 1][i + 1], fx * fy)]
                var sum = 0.0, weight = 0.0
                for (value, w) in corners where value.isFinite {
                    sum += value * w
                    weight += w
                }
                let color = weight >= 0.5 ? colormap.color(at: sum / weight) : Color.missing
                let (r, g, b) = color.bytes
                let offset = (row * width + column) * 4
                rgba[offset] = r
                rgba[offset + 1] = g
                rgba[offset + 2] = b
            }
        }
        return RasterImage(x: Int(region.x), y: Int(region.y), width: width, height: height, rgba: rgba)
    }
}
