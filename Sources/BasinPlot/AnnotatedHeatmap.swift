import Foundation

/// One matrix of a sweep (e.g. SSE or StarSSE accuracy over two hyperparameter ratios).
public struct MatrixPanel: Equatable, Sendable {
    public var title: String?
    /// values[row][column]; NaN marks a cell that was not run.
    public var values: [[Double]]

    public init(title: String? = nil, values: [[Double]]) {
        self.title = title
        self.values = values
    }
}

/// Matrices side by side on one shared color scale, each cell showing its value in a color that
/// contrasts with the cell.
public struct AnnotatedHeatmap: Figure, Sendable {
    public var panels: [MatrixPanel]
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var rowTitle: String?
    public var columnTitle: String?
    public var valueLabel: String
    public var title: String?
    public var colormap: Colormap
    public var logScale: Bool
    public var colorRange: ClosedRange<Double>?
    /// Decimals written in cells; by default enough to tell the range apart in three significant digits.
    public var decimals: Int?
    /// Row 0 at the top (table order) or at the bottom (axis order).
    public var firstRowAtTop: Bool
    public var size: FigureSize

    public init(panels: [MatrixPanel], rowLabels: [String], columnLabels: [String], rowTitle: String? = nil,
                columnTitle: String? = nil, valueLabel: String, title: String? = nil, colormap: Colormap = .viridis,
                logScale: Bool = false, colorRange: ClosedRange<Double>? = nil, decimals: Int? = nil,
                firstRowAtTop: Bool = false, size: FigureSize = FigureSize(widthInches: 6.8, heightInches: 2.8)) {
        self.panels = panels
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.valueLabel = valueLabel
        self.title = title
        self.colormap = colormap
        self.logScale = logScale
        self.colorRange = colorRange
        self.decimals = decimals
        self.firstRowAtTop = firstRowAtTop
        self.size = size
    }

    func validate() throws -> ColorScale {
        try Validate.nonEmpty(panels.count, "annotated heatmap panels")
        try Validate.nonEmpty(rowLabels.count, "annotated heatmap row labels")
        try Validate.nonEmpty(columnLabels.count, "annotated heatmap column labels")
        for (index, panel) in panels.enumerated() {
            let name = "panel \(index + 1)\(panel.title.map { " (\($0))" } ?? "")"
            try Validate.sameCount("\(name) rows", panel.values.count, "row labels", rowLabels.count)
            for (row, values) in panel.values.enumerated() {
                try Validate.sameCount("\(name) row \(row)", values.count, "column labels", columnLabels.count)
            }
        }
        let all = panels.flatMap { $0.values.joined() }
        if let colorRange {
            guard colorRange.lowerBound.isFinite, colorRange.upperBound.isFinite, !logScale || colorRange.lowerBound > 0 else {
                throw PlotError.invalidArgument("color range \(colorRange) must be finite (and positive for a log scale)")
            }
            if !all.contains(where: { $0.isFinite }) { throw PlotError.allMissing("annotated heatmap values") }
            return ColorScale(low: colorRange.lowerBound, high: colorRange.upperBound, logarithmic: logScale)
        }
        return try ColorScale.spanning(all, logarithmic: logScale, what: "annotated heatmap values")
    }

    private func cellText(_ value: Double, scale: ColorScale) -> String {
        guard value.isFinite else { return "–" }
        // An exact zero (e.g. no barrier at all) reads better as "0" than as "0.0000".
        if value == 0 { return "0" }
        let places: Int
        if let decimals { places = max(0, decimals) } else {
            let magnitude = max(abs(scale.low), abs(scale.high), 1e-12)
            places = max(0, min(6, 2 - Int(floor(log10(magnitude)))))
        }
        return String(format: "%.*f", places, value).replacingOccurrences(of: "-", with: "\u{2212}")
    }

    public func render(to path: String, metadata: PNGMetadata) throws {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        let outer = canvas.pt(Theme.outerMargin)
        let tickSize = canvas.pt(Theme.tickLabelSize)
        let rowLabelWidth = rowLabels.map { canvas.measure($0, size: tickSize).width }.max() ?? 0
        var left = outer + canvas.pt(Theme.tickLength + Theme.tickPadding) + rowLabelWidth
        if let rowTitle, !rowTitle.isEmpty {
            left += canvas.pt(Theme.gap) + canvas.measure(rowTitle, size: canvas.pt(Theme.labelSize)).capHeight * 1.25
        }
        let right = outer + canvas.pt(Theme.gap * 2) + ColorbarPainter.width(scale: scale, label: valueLabel, canvas: canvas)
        var top = outer
        if let title, !title.isEmpty {
            top += canvas.measure(title, size: canvas.pt(Theme.titleSize + 0.5), bold: true).capHeight * 1.4
        }
        top += panels.contains { !($0.title ?? "").isEmpty } ? AxisPainter.titleExtent("Ag", canvas: canvas) : 0
        let bottom = outer + AxisPainter.bottomExtent(hasTickLabels: true, label: columnTitle, canvas: canvas)
        let panelGap = canvas.pt(Theme.gap * 2)
        let available = Double(canvas.width) - left - right - panelGap * Double(panels.count - 1)
        let panelWidth = available / Double(panels.count)
        let height = Double(canvas.height) - top - bottom
        guard panelWidth > 4, height > 4 else {
            throw PlotError.invalidArgument("figure \(size.widthInches) x \(size.heightInches) in is too small for \(panels.count) panels")
        }
        let rows = rowLabels.count, columns = columnLabels.count
        let cellWidth = panelWidth / Double(columns), cellHeight = height / Double(rows)
        // Cell text shrinks (down to 4 pt) until the widest value fits its cell.
        let widest = panels.flatMap { $0.values.joined() }.map { cellText($0, scale: scale) }
            .map { canvas.measure($0, size: canvas.pt(Theme.cellTextSize)).width }.max() ?? 0
        let fit = widest > 0 ? min(1, cellWidth * 0.88 / widest, cellHeight * 0.7 / canvas.pt(Theme.cellTextSize)) : 1
        let cellTextSize = canvas.pt(max(4, Theme.cellTextSize * fit))

        var lastRect = PixelRect(x: 0, y: 0, width: 0, height: 0)
        for (index, panel) in panels.enumerated() {
            let rect = PixelRect(x: left + Double(index) * (panelWidth + panelGap), y: top, width: panelWidth, height: height)
            lastRect = rect
            for row in 0..<rows {
                let displayRow = firstRowAtTop ? row : rows - 1 - row
                for column in 0..<columns {
                    let value = panel.values[row][column]
                    let cell = PixelRect(x: rect.x + Double(column) * cellWidth, y: rect.y + Double(displayRow) * cellHeight,
                                         width: cellWidth, height: cellHeight)
                    let fill = value.isFinite ? colormap.color(at: scale.position(value)) : Color.missing
                    // Cells on whole pixels: no antialiased seams between neighbours of the same color.
                    canvas.fill(cell.snapped, fill)
                    canvas.text(cellText(value, scale: scale), at: PixelPoint(x: cell.midX, y: cell.midY), size: cellTextSize,
                                color: fill.contrastingText, horizontal: .center, vertical: .center)
                }
            }
            AxisPainter.drawFrame(rect, canvas: canvas)
            let length = canvas.pt(Theme.tickLength), lineWidth = canvas.pt(Theme.axisLineWidth)
            for (column, label) in columnLabels.enumerated() {
                let x = rect.x + (Double(column) + 0.5) * cellWidth
                canvas.line(PixelPoint(x: x, y: rect.maxY), PixelPoint(x: x, y: rect.maxY + length), .axis, width: lineWidth)
                canvas.text(label, at: PixelPoint(x: x, y: rect.maxY + length + canvas.pt(Theme.tickPadding)), size: tickSize,
                            horizontal: .center, vertical: .top)
            }
            // One column title under all panels: the panels share their columns.
            if index == panels.count - 1, let columnTitle, !columnTitle.isEmpty {
                let firstLeft = left, lastRight = rect.maxX
                canvas.text(columnTitle, at: PixelPoint(x: (firstLeft + lastRight) / 2,
                                                        y: rect.maxY + AxisPainter.bottomExtent(hasTickLabels: true, label: columnTitle, canvas: canvas)),
                            size: canvas.pt(Theme.labelSize), horizontal: .center, vertical: .baseline)
            }
            if index == 0 {
                for (row, label) in rowLabels.enumerated() {
                    let displayRow = firstRowAtTop ? row : rows - 1 - row
                    let y = rect.y + (Double(displayRow) + 0.5) * cellHeight
                    canvas.line(PixelPoint(x: rect.minX, y: y), PixelPoint(x: rect.minX - length, y: y), .axis, width: lineWidth)
                    canvas.text(label, at: PixelPoint(x: rect.minX - length - canvas.pt(Theme.tickPadding), y: y), size: tickSize,
                                horizontal: .right, vertical: .center)
                }
                if let rowTitle, !rowTitle.isEmpty {
                    canvas.text(rowTitle, at: PixelPoint(x: outer, y: rect.midY), size: canvas.pt(Theme.labelSize),
                                horizontal: .center, vertical: .top, angle: Double.pi / 2)
                }
            }
            AxisPainter.drawTitle(panel.title, centeredOn: rect.midX, above: rect.minY, canvas: canvas)
        }
        if let title, !title.isEmpty {
            canvas.text(title, at: PixelPoint(x: Double(canvas.width) / 2, y: outer), size: canvas.pt(Theme.titleSize + 0.5),
                        bold: true, horizontal: .center, vertical: .top)
        }
        let bar = ColorbarPainter.barRect(left: lastRect.maxX + canvas.pt(Theme.gap * 2), top: lastRect.minY, height: lastRect.height, canvas: canvas)
        try ColorbarPainter.draw(bar: bar, scale: scale, colormap: colormap, label: valueLabel, canvas: canvas)
        try canvas.write(to: path, metadata: metadata)
    }
}
