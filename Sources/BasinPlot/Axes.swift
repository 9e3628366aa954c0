import Foundation

/// Font sizes and line widths in points, shared by every figure so panels look alike.
enum Theme {
    static let titleSize = 8.5
    static let labelSize = 8.0
    static let tickLabelSize = 7.0
    static let cellTextSize = 6.5
    static let axisLineWidth = 0.6
    static let tickLength = 2.8
    static let tickPadding = 2.0
    static let dataLineWidth = 1.1
    static let contourLineWidth = 0.5
    static let markerSize = 5.0
    /// Space between blocks (title, axes, labels, colorbar), in points.
    static let gap = 4.0
    static let outerMargin = 4.0
}

/// Maps data values on one axis onto pixels, linearly or by log10.
struct AxisScale {
    var low: Double
    var high: Double
    var logarithmic: Bool
    var pixelLow: Double
    var pixelHigh: Double

    private func transform(_ value: Double) -> Double { logarithmic ? log10(value) : value }

    func pixel(_ value: Double) -> Double {
        let a = transform(low), b = transform(high)
        guard b != a else { return (pixelLow + pixelHigh) / 2 }
        return pixelLow + (transform(value) - a) / (b - a) * (pixelHigh - pixelLow)
    }

    func value(atPixel pixel: Double) -> Double {
        let a = transform(low), b = transform(high)
        let t = (pixel - pixelLow) / (pixelHigh - pixelLow)
        let v = a + t * (b - a)
        return logarithmic ? pow(10, v) : v
    }
}

/// A plotting box with its two scales; y grows upward in data and downward in pixels.
struct Axes {
    var rect: PixelRect
    var x: AxisScale
    var y: AxisScale

    init(rect: PixelRect, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
         xLog: Bool = false, yLog: Bool = false) {
        self.rect = rect
        x = AxisScale(low: xRange.lowerBound, high: xRange.upperBound, logarithmic: xLog,
                      pixelLow: rect.minX, pixelHigh: rect.maxX)
        y = AxisScale(low: yRange.lowerBound, high: yRange.upperBound, logarithmic: yLog,
                      pixelLow: rect.maxY, pixelHigh: rect.minY)
    }

    func point(_ dataX: Double, _ dataY: Double) -> PixelPoint {
        PixelPoint(x: x.pixel(dataX), y: y.pixel(dataY))
    }
}

/// Drawing of frames, ticks and axis labels, plus the measurements layouts need beforehand.
enum AxisPainter {
    static func maxLabelWidth(_ ticks: Ticks, canvas: Canvas) -> Double {
        ticks.labels.map { canvas.measure($0, size: canvas.pt(Theme.tickLabelSize)).width }.max() ?? 0
    }

    /// Space a y axis needs left of its box: tick labels, and the rotated axis label if any.
    static func leftExtent(yTicks: Ticks, label: String?, canvas: Canvas) -> Double {
        var extent = canvas.pt(Theme.tickLength + Theme.tickPadding) + maxLabelWidth(yTicks, canvas: canvas)
        if let label, !label.isEmpty {
            extent += canvas.pt(Theme.gap) + canvas.measure(label, size: canvas.pt(Theme.labelSize)).capHeight * 1.25
        }
        return extent
    }

    /// Space an x axis needs below its box.
    static func bottomExtent(hasTickLabels: Bool, label: String?, canvas: Canvas) -> Double {
        var extent = canvas.pt(Theme.tickLength + Theme.tickPadding)
        if hasTickLabels { extent += canvas.measure("0", size: canvas.pt(Theme.tickLabelSize)).capHeight * 1.35 }
        if let label, !label.isEmpty {
            extent += canvas.pt(Theme.gap) + canvas.measure(label, size: canvas.pt(Theme.labelSize)).capHeight * 1.3
        }
        return extent
    }

    static func titleExtent(_ title: String?, canvas: Canvas) -> Double {
        guard let title, !title.isEmpty else { return 0 }
        return canvas.measure(title, size: canvas.pt(Theme.titleSize), bold: true).capHeight * 1.3 + canvas.pt(Theme.gap)
    }

    static func drawTitle(_ title: String?, centeredOn x: Double, above top: Double, canvas: Canvas) {
        guard let title, !title.isEmpty else { return }
        canvas.text(title, at: PixelPoint(x: x, y: top - canvas.pt(Theme.gap)), size: canvas.pt(Theme.titleSize),
                    bold: true, horizontal: .center, vertical: .baseline)
    }

    static func drawFrame(_ rect: PixelRect, canvas: Canvas) {
        canvas.strokeRect(rect, .axis, width: canvas.pt(Theme.axisLineWidth))
    }

    static func drawXAxis(_ axes: Axes, ticks: Ticks, label: String?, showTickLabels: Bool = true, canvas: Canvas) {
        let length = canvas.pt(Theme.tickLength)
        let width = canvas.pt(Theme.axisLineWidth)
        let bottom = axes.rect.maxY
        for (value, text) in zip(ticks.values, ticks.labels) {
            let px = axes.x.pixel(value)
            guard px >= axes.rect.minX - 0.5, px <= axes.rect.maxX + 0.5 else { continue }
            canvas.line(PixelPoint(x: px, y: bottom), PixelPoint(x: px, y: bottom + length), .axis, width: width)
            if showTickLabels {
                canvas.text(text, at: PixelPoint(x: px, y: bottom + length + canvas.pt(Theme.tickPadding)),
                            size: canvas.pt(Theme.tickLabelSize), horizontal: .center, vertical: .top)
            }
        }
        if let label, !label.isEmpty {
            canvas.text(label, at: PixelPoint(x: axes.rect.midX, y: bottom + bottomExtent(hasTickLabels: showTickLabels, label: label, canvas: canvas)),
                        size: canvas.pt(Theme.labelSize), horizontal: .center, vertical: .baseline)
        }
    }

    static func drawYAxis(_ axes: Axes, ticks: Ticks, label: String?, canvas: Canvas) {
        let length = canvas.pt(Theme.tickLength)
        let width = canvas.pt(Theme.axisLineWidth)
        let left = axes.rect.minX
        for (value, text) in zip(ticks.values, ticks.labels) {
            let py = axes.y.pixel(value)
            guard py >= axes.rect.minY - 0.5, py <= axes.rect.maxY + 0.5 else { continue }
            canvas.line(PixelPoint(x: left, y: py), PixelPoint(x: left - length, y: py), .axis, width: width)
            canvas.text(text, at: PixelPoint(x: left - length - canvas.pt(Theme.tickPadding), y: py),
                        size: canvas.pt(Theme.tickLabelSize), horizontal: .right, vertical: .center)
        }
        if let label, !label.isEmpty {
            let x = left - leftExtent(yTicks: ticks, label: label, canvas: canvas)
            canvas.text(label, at: PixelPoint(x: x, y: axes.rect.midY), size: canvas.pt(Theme.labelSize),
                        horizontal: .center, vertical: .top, angle: Double.pi / 2)
        }
    }
}
