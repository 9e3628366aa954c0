import Foundation

public enum SeriesStyle: String, Equatable, Sendable {
    case solid, dashed, dotted
}

/// One curve: y over x, with an optional band (e.g. mean ± std over seeds).
public struct LineSeries: Equatable, Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var lower: [Double]?
    public var upper: [Double]?
    public var style: SeriesStyle
    public var marker: MarkerShape?
    /// By default series get the palette color of their name's first appearance, the same in every panel.
    public var color: Color?
    /// False keeps the series out of the legend (annotations such as barrier marks); give it a color.
    public var inLegend: Bool

    public init(name: String, x: [Double], y: [Double], lower: [Double]? = nil, upper: [Double]? = nil,
                style: SeriesStyle = .solid, marker: MarkerShape? = nil, color: Color? = nil, inLegend: Bool = true) {
        self.name = name
        self.x = x
        self.y = y
        self.lower = lower
        self.upper = upper
        self.style = style
        self.marker = marker
        self.color = color
        self.inLegend = inLegend
    }
}

/// A legend entry that no series provides, e.g. the meaning of a line style or an annotation.
public struct LegendItem: Equatable, Sendable {
    public var name: String
    public var color: Color
    public var style: SeriesStyle
    public var marker: MarkerShape?
    /// Draws the line sample; false shows the marker alone.
    public var line: Bool

    public init(name: String, color: Color, style: SeriesStyle = .solid, marker: MarkerShape? = nil, line: Bool = true) {
        self.name = name
        self.color = color
        self.style = style
        self.marker = marker
        self.line = line
    }
}

/// A reference line across a panel: vertical at an x value or horizontal at a y value.
public struct AxisMark: Equatable, Sendable {
    public enum Orientation: String, Equatable, Sendable { case vertical, horizontal }
    public var orientation: Orientation
    public var value: Double
    public var label: String?

    public init(_ orientation: Orientation, at value: Double, label: String? = nil) {
        self.orientation = orientation
        self.value = value
        self.label = label
    }
}

public struct LinePanel: Equatable, Sendable {
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var series: [LineSeries]
    public var marks: [AxisMark]
    public var logY: Bool
    /// Fixed y range; by default the data (with bands) plus a small margin.
    public var yRange: ClosedRange<Double>?
    /// Fixed x tick positions (e.g. whole ensemble sizes); by default nice values over the range.
    public var xTicks: [Double]?
    /// Fixed x range (e.g. padded so end markers are not cut); by default the data's.
    public var xRange: ClosedRange<Double>?

    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil, series: [LineSeries],
                marks: [AxisMark] = [], logY: Bool = false, yRange: ClosedRange<Double>? = nil, xTicks: [Double]? = nil,
                xRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.marks = marks
        self.logY = logY
        self.yRange = yRange
        self.xTicks = xTicks
        self.xRange = xRange
    }
}

/// Curves in one or more panels side by side (e.g. loss | error) with one legend shared below them.
public struct LineChart: Figure, Sendable {
    public var panels: [LinePanel]
    public var title: String?
    public var showLegend: Bool
    /// Entries after the series' own, e.g. "test" solid and "train" dashed.
    public var extraLegend: [LegendItem]
    public var size: FigureSize

    public init(panels: [LinePanel], title: String? = nil, showLegend: Bool = true, extraLegend: [LegendItem] = [],
                size: FigureSize = FigureSize(widthInches: 3.4, heightInches: 2.4)) {
        self.panels = panels
        self.title = title
        self.showLegend = showLegend
        self.extraLegend = extraLegend
        self.size = size
    }

    struct LegendEntry {
        var name: String
        var color: Color
        var style: SeriesStyle
        var marker: MarkerShape?
        var band: Bool
        var line: Bool = true
    }

    func validate() throws {
        try Validate.nonEmpty(panels.count, "line chart panels")
        for (panelIndex, panel) in panels.enumerated() {
            let where_ = "panel \(panelIndex + 1)"
            try Validate.nonEmpty(panel.series.count, "\(where_) series")
            for series in panel.series {
                let name = "\(where_) series \"\(series.name)\""
                try Validate.nonEmpty(series.x.count, "\(name) x")
                try Validate.sameCount("\(name) x", series.x.count, "\(name) y", series.y.count)
                if let lower = series.lower { try Validate.sameCount("\(name) x", series.x.count, "\(name) lower band", lower.count) }
                if let upper = series.upper { try Validate.sameCount("\(name) x", series.x.count, "\(name) upper band", upper.count) }
                if (series.lower == nil) != (series.upper == nil) {
                    throw PlotError.invalidArgument("\(name) has only one side of its band; give both lower and upper")
                }
                try Validate.finite(series.x, "\(name) x")
                if !series.y.contains(where: { $0.isFinite }) { throw PlotError.allMissing("\(name) y") }
                if panel.logY, !series.y.contains(where: { $0 > 0 }) {
                    throw PlotError.invalidArgument("\(name) has no positive y for a log axis")
                }
            }
            if let xTicks = panel.xTicks { try Validate.finite(xTicks, "\(where_) x ticks") }
            if let range = panel.xRange, !(range.lowerBound.isFinite && range.upperBound.isFinite && range.upperBound > range.lowerBound) {
                throw PlotError.invalidArgument("\(where_) x range \(range) must be finite and non-empty")
            }
            for mark in panel.marks where !mark.value.isFinite {
                throw PlotError.nonFinite("\(where_) mark \"\(mark.label ?? "")\" is at \(mark.value)")
            }
        }
    }

    /// One entry per distinct series name in first-appearance order; colors follow that order.
    func legendEntries() -> [LegendEntry] {
        var entries: [LegendEntry] = []
        for series in panels.flatMap({ $0.series }) where series.inLegend && !entries.contains(where: { $0.name == series.name }) {
            entries.append(LegendEntry(name: series.name, color: series.color ?? Color.cycle[entries.count % Color.cycle.count],
                                       style: series.style, marker: series.marker, band: series.lower != nil))
        }
        for item in extraLegend where !entries.contains(where: { $0.name == item.name }) {
            entries.append(LegendEntry(name: item.name, color: item.color, style: item.style, marker: item.marker, band: false,
                                       line: item.line))
        }
        return entries
    }

    private func ranges(_ panel: LinePanel) -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let xs = panel.series.flatMap { $0.x } + panel.marks.filter { $0.orientation == .vertical }.map { $0.value }
        var ys = panel.series.flatMap { $0.y + ($0.lower ?? []) + ($0.upper ?? []) }
            + panel.marks.filter { $0.orientation == .horizontal }.map { $0.value }
        ys = ys.filter { $0.isFinite && (!panel.logY || $0 > 0) }
        let xLow = xs.min() ?? 0, xHigh = xs.max() ?? 1
        var xRange = xHigh > xLow ? xLow...xHigh : (xLow - 0.5)...(xLow + 0.5)
        if let fixed = panel.xRange { xRange = fixed }
        if let fixed = panel.yRange { return (xRange, fixed) }
        var yLow = ys.min() ?? 0, yHigh = ys.max() ?? 1
        if panel.logY {
            let low = log10(yLow), high = log10(yHigh), pad = max((high - low) * 0.05, 0.05)
            return (xRange, pow(10, low - pad)...pow(10, high + pad))
        }
        if yHigh <= yLow { yLow -= 0.5; yHigh += 0.5 }
        let pad = (yHigh - yLow) * 0.06
        return (xRange, (yLow - pad)...(yHigh + pad))
    }

    private func ticks(_ panel: LinePanel, _ range: (x: ClosedRange<Double>, y: ClosedRange<Double>), columns: Int) -> (x: Ticks, y: Ticks) {
        var xTicks = TickMaker.linear(low: range.x.lowerBound, high: range.x.upperBound, target: columns > 1 ? 4 : 5)
        if let fixed = panel.xTicks, !fixed.isEmpty {
            let sorted = fixed.sorted()
            let step = zip(sorted.dropFirst(), sorted).map { $0 - $1 }.filter { $0 > 0 }.min() ?? max(abs(sorted[0]), 1)
            xTicks = Ticks(values: sorted, labels: sorted.map { TickMaker.format($0, step: step) })
        }
        let yTicks = panel.logY ? TickMaker.logarithmic(low: range.y.lowerBound, high: range.y.upperBound)
            : TickMaker.linear(low: range.y.lowerBound, high: range.y.upperBound, target: 5)
        return (xTicks, yTicks)
    }

    /// Legend rows: entries flow left to right and wrap to the figure width.
    private func legendRows(_ entries: [LegendEntry], width: Double, canvas: Canvas) -> [[(LegendEntry, Double)]] {
        let sample = canvas.pt(14), spacing = canvas.pt(8), textGap = canvas.pt(3)
        var rows: [[(LegendEntry, Double)]] = [[]]
        var used = 0.0
        for entry in entries {
            let itemWidth = sample + textGap + canvas.measure(entry.name, size: canvas.pt(Theme.tickLabelSize)).width
            if !rows[rows.count - 1].isEmpty, used + spacing + itemWidth > width {
                rows.append([])
                used = 0
            }
            used += (rows[rows.count - 1].isEmpty ? 0 : spacing) + itemWidth
            rows[rows.count - 1].append((entry, itemWidth))
        }
        return rows
    }

    /// Rows the legend takes at this figure's width (entries wrap to it); 0 without a legend.
    public func legendRowCount() throws -> Int {
        guard showLegend else { return 0 }
        let canvas = try Canvas(size: size)
        let rows = legendRows(legendEntries(), width: Double(canvas.width) - 2 * canvas.pt(Theme.outerMargin), canvas: canvas)
        return rows.count
    }

    /// Height of one legend row, in inches: what each row beyond the first takes from the panels.
    public static var legendRowHeightInches: Double { Theme.tickLabelSize * 1.45 / 72 }

    public func render(to path: String, metadata: PNGMetadata) throws {
        try validate()
        let canvas = try Canvas(size: size)
        let entries = legendEntries()
        let outer = canvas.pt(Theme.outerMargin)
        let figureWidth = Double(canvas.width), figureHeight = Double(canvas.height)
        let lineHeight = canvas.pt(Theme.tickLabelSize) * 1.45

        let rows = showLegend ? legendRows(entries, width: figureWidth - 2 * outer, canvas: canvas) : []
        let legendHeight = showLegend ? Double(rows.count) * lineHeight + canvas.pt(Theme.gap) : 0
        var top = outer
        if let title, !title.isEmpty {
            top += canvas.measure(title, size: canvas.pt(Theme.titleSize + 0.5), bold: true).capHeight * 1.4
        }
        let panelTitles = panels.contains { !($0.title ?? "").isEmpty }
        let titleSpace = panelTitles ? AxisPainter.titleExtent("Ag", canvas: canvas) : canvas.pt(Theme.tickLabelSize) / 2
        let bottomSpace = panels.map { AxisPainter.bottomExtent(hasTickLabels: true, label: $0.xLabel, canvas: canvas) }.max() ?? 0
        let boxTop = top + titleSpace
        let boxBottom = figureHeight - outer - legendHeight - bottomSpace
        let columnWidth = (figureWidth - 2 * outer) / Double(panels.count)
        let colors = Dictionary(entries.map { ($0.name, $0.color) }, uniquingKeysWith: { first, _ in first })

        for (index, panel) in panels.enumerated() {
            let range = ranges(panel)
            let (xTicks, yTicks) = ticks(panel, range, columns: panels.count)
            let left = outer + Double(index) * columnWidth + AxisPainter.leftExtent(yTicks: yTicks, label: panel.yLabel, canvas: canvas)
            // Leave room for the last x tick label, which is centred on the right edge.
            let overhang = canvas.measure(xTicks.labels.last ?? "", size: canvas.pt(Theme.tickLabelSize)).width / 2
            let right = outer + Double(index + 1) * columnWidth - max(overhang, canvas.pt(Theme.gap))
                - (index < panels.count - 1 ? canvas.pt(Theme.gap) : 0)
            let rect = PixelRect(x: left.rounded(), y: boxTop.rounded(), width: max(1, right - left), height: max(1, boxBottom - boxTop))
            let axes = Axes(rect: rect, xRange: range.x, yRange: range.y, yLog: panel.logY)
            drawPanel(panel, axes: axes, colors: colors, canvas: canvas)
            AxisPainter.drawFrame(rect, canvas: canvas)
            AxisPainter.drawXAxis(axes, ticks: xTicks, label: panel.xLabel, canvas: canvas)
            AxisPainter.drawYAxis(axes, ticks: yTicks, label: panel.yLabel, canvas: canvas)
            AxisPainter.drawTitle(panel.title, centeredOn: rect.midX, above: rect.minY, canvas: canvas)
        }
        if let title, !title.isEmpty {
            canvas.text(title, at: PixelPoint(x: figureWidth / 2, y: outer), size: canvas.pt(Theme.titleSize + 0.5),
                        bold: true, horizontal: .center, vertical: .top)
        }
        if showLegend { drawLegend(rows, top: figureHeight - outer - Double(rows.count) * lineHeight, lineHeight: lineHeight, canvas: canvas) }
        try canvas.write(to: path, metadata: metadata)
    }

    private func drawPanel(_ panel: LinePanel, axes: Axes, colors: [String: Color], canvas: Canvas) {
        let lineWidth = canvas.pt(Theme.dataLineWidth)
        canvas.withClip(axes.rect) {
            for mark in panel.marks {
                let gray = Color(hex: 0x555555)
                switch mark.orientation {
                case .vertical:
                    let x = axes.x.pixel(mark.value)
                    canvas.line(PixelPoint(x: x, y: axes.rect.minY), PixelPoint(x: x, y: axes.rect.maxY), gray,
                                width: canvas.pt(0.7), style: .dashed)
                    if let label = mark.label {
                        let width = canvas.measure(label, size: canvas.pt(Theme.tickLabelSize)).width
                        let toRight = x + canvas.pt(2) + width <= axes.rect.maxX
                        canvas.text(label, at: PixelPoint(x: toRight ? x + canvas.pt(2) : x - canvas.pt(2), y: axes.rect.minY + canvas.pt(3)),
                                    size: canvas.pt(Theme.tickLabelSize), color: gray, horizontal: toRight ? .left : .right,
                                    vertical: .top, halo: Color.white.withAlpha(0.8))
                    }
                case .horizontal:
                    let y = axes.y.pixel(mark.value)
                    canvas.line(PixelPoint(x: axes.rect.minX, y: y), PixelPoint(x: axes.rect.maxX, y: y), gray,
                                width: canvas.pt(0.7), style: .dashed)
                    if let label = mark.label {
                        canvas.text(label, at: PixelPoint(x: axes.rect.maxX - canvas.pt(3), y: y - canvas.pt(2)),
                                    size: canvas.pt(Theme.tickLabelSize), color: gray, horizontal: .right,
                                    vertical: .baseline, halo: Color.white.withAlpha(0.8))
                    }
                }
            }
            for series in panel.series {
                let color = series.color ?? colors[series.name] ?? .black
                if let lower = series.lower, let upper = series.upper {
                    // Bands are drawn per finite run, so a NaN splits the band instead of bridging it.
                    for run in finiteRuns(series.x.indices.map { lower[$0].isFinite && upper[$0].isFinite && usable(lower[$0], panel) && usable(upper[$0], panel) }) {
                        let top = run.map { axes.point(series.x[$0], upper[$0]) }
                        let bottom = run.reversed().map { axes.point(series.x[$0], lower[$0]) }
                        canvas.polygon(top + bottom, fill: color.withAlpha(0.2), stroke: nil)
                    }
                }
            }
            for series in panel.series {
                let color = series.color ?? colors[series.name] ?? .black
                let style: LineStyle = series.style == .solid ? .solid : series.style == .dashed ? .dashed : .dotted
                for run in finiteRuns(series.y.map { $0.isFinite && usable($0, panel) }) {
                    let points = run.map { axes.point(series.x[$0], series.y[$0]) }
                    if points.count == 1, series.marker == nil {
                        canvas.circle(center: points[0], radius: lineWidth, fill: color, stroke: nil)
                    }
                    canvas.polyline(points, color, width: lineWidth, style: style)
                    if let marker = series.marker {
                        for point in points { MarkerPainter.draw(marker, at: point, size: Theme.markerSize * 0.8, fill: color, canvas: canvas) }
                    }
                }
            }
        }
    }

    private func usable(_ value: Double, _ panel: LinePanel) -> Bool { !panel.logY || value > 0 }

    /// Index runs where `ok` holds, so lines break at missing values.
    private func finiteRuns(_ ok: [Bool]) -> [[Int]] {
        var runs: [[Int]] = []
        var current: [Int] = []
        for (index, flag) in ok.enumerated() {
            if flag { current.append(index) } else if !current.isEmpty { runs.append(current); current = [] }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    private func drawLegend(_ rows: [[(LegendEntry, Double)]], top: Double, lineHeight: Double, canvas: Canvas) {
        let sample = canvas.pt(14), spacing = canvas.pt(8), textGap = canvas.pt(3)
        for (rowIndex, row) in rows.enumerated() {
            let total = row.map { $0.1 }.reduce(0, +) + spacing * Double(max(0, row.count - 1))
            var x = (Double(canvas.width) - total) / 2
            let y = top + (Double(rowIndex) + 0.5) * lineHeight
            for (entry, width) in row {
                if entry.band {
                    canvas.fill(PixelRect(x: x, y: y - canvas.pt(2.5), width: sample, height: canvas.pt(5)), entry.color.withAlpha(0.2))
                }
                let style: LineStyle = entry.style == .solid ? .solid : entry.style == .dashed ? .dashed : .dotted
                if entry.line {
                    canvas.line(PixelPoint(x: x, y: y), PixelPoint(x: x + sample, y: y), entry.color,
                                width: canvas.pt(Theme.dataLineWidth), style: style)
                }
                if let marker = entry.marker {
                    MarkerPainter.draw(marker, at: PixelPoint(x: x + sample / 2, y: y), size: Theme.markerSize * 0.8, fill: entry.color, canvas: canvas)
                }
                canvas.text(entry.name, at: PixelPoint(x: x + sample + textGap, y: y), size: canvas.pt(Theme.tickLabelSize),
                            horizontal: .left, vertical: .center)
                x += width + spacing
            }
        }
    }
}
