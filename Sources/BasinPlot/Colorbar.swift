import Foundation

/// A vertical color scale bar with ticks and a rotated label to its right.
enum ColorbarPainter {
    static let barWidth = 7.0

    static func ticks(for scale: ColorScale) -> Ticks {
        scale.logarithmic ? TickMaker.logarithmic(low: scale.low, high: scale.high)
            : TickMaker.linear(low: scale.low, high: scale.high, target: 5)
    }

    /// Horizontal room the bar, its tick labels and its label take, in pixels.
    static func width(scale: ColorScale, label: String?, canvas: Canvas) -> Double {
        var width = canvas.pt(barWidth + Theme.tickLength + Theme.tickPadding) + AxisPainter.maxLabelWidth(ticks(for: scale), canvas: canvas)
        if let label, !label.isEmpty {
            width += canvas.pt(Theme.gap) + canvas.measure(label, size: canvas.pt(Theme.labelSize)).capHeight * 1.25
        }
        return width
    }

    /// Bar rectangle on whole pixels, so each pixel row carries exactly one colormap sample.
    static func barRect(left: Double, top: Double, height: Double, canvas: Canvas) -> PixelRect {
        PixelRect(x: left, y: top, width: canvas.pt(barWidth), height: height).snapped
    }

    static func draw(bar: PixelRect, scale: ColorScale, colormap: Colormap, label: String?, canvas: Canvas) throws {
        let columns = Int(bar.width), rows = Int(bar.height)
        guard columns > 0, rows > 0 else { return }
        var rgba = [UInt8](repeating: 255, count: columns * rows * 4)
        for row in 0..<rows {
            // Row centres sample the map: top row near 1, bottom row near 0.
            let t = 1 - (Double(row) + 0.5) / Double(rows)
            let (r, g, b) = colormap.color(at: t).bytes
            for column in 0..<columns {
                let offset = (row * columns + column) * 4
                rgba[offset] = r
                rgba[offset + 1] = g
                rgba[offset + 2] = b
            }
        }
        try canvas.blit(rgba: rgba, width: columns, height: rows, x: Int(bar.x), y: Int(bar.y))
        AxisPainter.drawFrame(bar, canvas: canvas)
        let tickMarks = ticks(for: scale)
        let length = canvas.pt(Theme.tickLength)
        for (value, text) in zip(tickMarks.values, tickMarks.labels) {
            let t = scale.position(value)
            guard t >= -1e-9, t <= 1 + 1e-9 else { continue }
            let y = bar.maxY - t * bar.height
            canvas.line(PixelPoint(x: bar.maxX, y: y), PixelPoint(x: bar.maxX + length, y: y), .axis,
                        width: canvas.pt(Theme.axisLineWidth))
            canvas.text(text, at: PixelPoint(x: bar.maxX + length + canvas.pt(Theme.tickPadding), y: y),
                        size: canvas.pt(Theme.tickLabelSize), horizontal: .left, vertical: .center)
        }
        if let label, !label.isEmpty {
            let x = bar.maxX + length + canvas.pt(Theme.tickPadding) + AxisPainter.maxLabelWidth(tickMarks, canvas: canvas)
                + canvas.pt(Theme.gap)
            canvas.text(label, at: PixelPoint(x: x, y: bar.midY), size: canvas.pt(Theme.labelSize),
                        horizontal: .center, vertical: .top, angle: Double.pi / 2)
        }
    }
}
