import Foundation

/// A marked point on a plane figure.
public struct PlanePoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var role: PointRole
    public var label: String?
    /// Overrides the role's fill color.
    public var color: Color?

    public init(x: Double, y: Double, role: PointRole, label: String? = nil, color: Color? = nil) {
        self.x = x
        self.y = y
        self.role = role
        self.label = label
        self.color = color
    }
}

/// Where the parts of a plane figure land, in pixels, and the data-to-pixel mapping.
public struct PlaneHeatmapLayout: Equatable, Sendable {
    /// The data area; x and y share one scale (pixels per data unit).
    public var plotRect: PixelRect
    public var colorbarRect: PixelRect
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>

    public var pixelsPerUnit: (x: Double, y: Double) {
        (plotRect.width / (xRange.upperBound - xRange.lowerBound), plotRect.height / (yRange.upperBound - yRange.lowerBound))
    }

    /// Pixel position of data point (x, y); y grows upward in data and downward in pixels.
    public func pixel(x: Double, y: Double) -> PixelPoint {
        PixelPoint(x: plotRect.minX + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * plotRect.width,
                   y: plotRect.maxY - (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) * plotRect.height)
    }
}

/// A metric over a 2D plane of parameters (e.g. the plane through three checkpoints), drawn
/// as a smooth heatmap with equal aspect ratio, contour lines, a colorbar and marked points.
public struct PlaneHeatmap: Figure, Sendable {
    public var x: [Double]
    public var y: [Double]
    /// values[row][column] is the metric at (x[column], y[row]); NaN marks a missing value.
    public var values: [[Double]]
    public var metricLabel: String
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var logScale: Bool
    public var colormap: Colormap
    /// Fixed color range; by default the range of the finite values.
    public var colorRange: ClosedRange<Double>?
    public var contours: ContourLevels
    public var labelContours: Bool
    public var points: [PlanePoint]
    public var size: FigureSize

    public init(x: [Double], y: [Double], values: [[Double]], metricLabel: String, title: String? = nil,
                xLabel: String? = nil, yLabel: String? = nil, logScale: Bool = false, colormap: Colormap = .viridis,
                colorRange: ClosedRange<Double>? = nil, contours: ContourLevels = .automatic(count: 6),
                labelContours: Bool = true, points: [PlanePoint] = [], size: FigureSize = FigureSize()) {
        self.x = x
        self.y = y
        self.values = values
        self.metricLabel = metricLabel
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logScale = logScale
        self.colormap = colormap
        self.colorRange = colorRange
        self.contours = contours
        self.labelContours = labelContours
        self.points = points
        self.size = size
    }

    func validate() throws -> ColorScale {
        try Validate.nonEmpty(x.count, "plane x coordinates")
        try Validate.nonEmpty(y.count, "plane y coordinates")
        guard x.count >= 2, y.count >= 2 else {
            throw PlotError.invalidArgument("plane grid needs at least 2 x 2 points, got \(x.count) x \(y.count)")
        }
        try Validate.increasing(x, "plane x")
        try Validate.increasing(y, "plane y")
        try Validate.sameCount("plane values rows", values.count, "plane y", y.count)
        for (row, entries) in values.enumerated() {
            try Validate.sameCount("plane values[\(row)]", entries.count, "plane x", x.count)
        }
        for (index, point) in points.enumerated() where !point.x.isFinite || !point.y.isFinite {
            throw PlotError.nonFinite("plane point \(index) (\(point.label ?? point.role.rawValue)) is at (\(point.x), \(point.y))")
        }
        if let colorRange {
            guard colorRange.lowerBound.isFinite, colorRange.upperBound.isFinite,
                  !logScale || colorRange.lowerBound > 0 else {
                throw PlotError.invalidArgument("color range \(colorRange) must be finite (and positive for a log scale)")
            }
            if !values.joined().contains(where: { $0.isFinite }) { throw PlotError.allMissing("plane values") }
            return ColorScale(low: colorRange.lowerBound, high: colorRange.upperBound, logarithmic: logScale)
        }
        return try ColorScale.spanning(Array(values.joined()), logarithmic: logScale, what: "plane values")
    }

    private var xRange: ClosedRange<Double> { x[0]...x[x.count - 1] }
    private var yRange: ClosedRange<Double> { y[0]...y[y.count - 1] }

    private func ticks() -> (x: Ticks, y: Ticks) {
        (TickMaker.linear(low: xRange.lowerBound, high: xRange.upperBound, target: 5),
         TickMaker.linear(low: yRange.lowerBound, high: yRange.upperBound, target: 5))
    }

    /// Room around the plot: y axis on the left, colorbar on the right, title above, x axis below.
    private func margins(canvas: Canvas, scale: ColorScale) -> (left: Double, right: Double, top: Double, bottom: Double) {
        let (xTicks, yTicks) = ticks()
        let outer = canvas.pt(Theme.outerMargin)
        let left = outer + AxisPainter.leftExtent(yTicks: yTicks, label: yLabel, canvas: canvas)
        // Half a tick label may stick out past the box's right edge and the top y label above it.
        let overhang = canvas.measure(xTicks.labels.last ?? "", size: canvas.pt(Theme.tickLabelSize)).width / 2
        let colorbarSpace = canvas.pt(Theme.gap * 2) + ColorbarPainter.width(scale: scale, label: metricLabel, canvas: canvas)
        let right = outer + max(colorbarSpace, overhang)
        let top = outer + max(AxisPainter.titleExtent(title, canvas: canvas), canvas.pt(Theme.tickLabelSize) / 2)
        let bottom = outer + AxisPainter.bottomExtent(hasTickLabels: true, label: xLabel, canvas: canvas)
        return (left, right, top, bottom)
    }

    func layout(canvas: Canvas, scale: ColorScale) -> PlaneHeatmapLayout {
        let (left, right, top, bottom) = margins(canvas: canvas, scale: scale)
        let availableWidth = Double(canvas.width) - left - right
        let availableHeight = Double(canvas.height) - top - bottom
        let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
        // One scale for both axes: a unit of x is as long on the page as a unit of y.
        let unit = max(0, min(availableWidth / xSpan, availableHeight / ySpan))
        let width = xSpan * unit, height = ySpan * unit
        let plot = PixelRect(x: (left + (availableWidth - width) / 2).rounded(), y: (top + (availableHeight - height) / 2).rounded(),
                             width: width, height: height)
        let bar = ColorbarPainter.barRect(left: plot.maxX + canvas.pt(Theme.gap * 2), top: plot.minY, height: plot.height, canvas: canvas)
        return PlaneHeatmapLayout(plotRect: plot, colorbarRect: bar, xRange: xRange, yRange: yRange)
    }

    /// The height (inches) at which the equal-aspect plot fills the figure's width, with the
    /// title, axes and colorbar around it: a wide plane needs less height than a square one.
    public func heightFittingWidth() throws -> Double {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        let m = margins(canvas: canvas, scale: scale)
        let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
        return (m.top + m.bottom + (Double(canvas.width) - m.left - m.right) * ySpan / xSpan + 1) / size.dpi
    }

    /// The layout the figure will be drawn with (validates the inputs first).
    public func layout() throws -> PlaneHeatmapLayout {
        let scale = try validate()
        return layout(canvas: try Canvas(size: size), scale: scale)
    }

    /// Where each point's label is drawn (its text box in pixels), nil for points without a label.
    public func labelBoxes() throws -> [PixelRect?] {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        return labelPlacements(frame: layout(canvas: canvas, scale: scale), canvas: canvas).map { $0?.box }
    }

    /// Pixel position of a data point in the rendered figure.
    public func pixelPosition(x: Double, y: Double) throws -> PixelPoint {
        try layout().pixel(x: x, y: y)
    }

    /// Marker centres and points along their labels, which contour labels must not cover.
    private func obstacles(frame: PlaneHeatmapLayout, placements: [LabelPlacement?], canvas: Canvas) -> [PixelPoint] {
        var result: [PixelPoint] = points.map { frame.pixel(x: $0.x, y: $0.y) }
        // Points every few points of type along each label's middle line, so a contour label
        // cannot slip in between them.
        let step = canvas.pt(3)
        for placement in placements.compactMap({ $0 }) {
            let box = placement.box
            for x in stride(from: box.minX, through: box.maxX, by: step) { result.append(PixelPoint(x: x, y: box.midY)) }
            result.append(PixelPoint(x: box.maxX, y: box.midY))
        }
        return result
    }

    struct LabelPlacement {
        var anchor: PixelPoint
        var horizontal: HorizontalAlignment
        /// The text's box (cap height above the baseline to the descent below).
        var box: PixelRect
        /// Placed away from its marker (a farther ring): drawn with a thin line to the marker.
        var leader: Bool = false
    }

    /// Where each point's label goes: the first of eight spots around its marker (upper right,
    /// upper left, lower right, lower left, right, left, above, below), tried at three distances,
    /// that stays inside the plot, covers no marker and no label placed before it and is nearer
    /// its own marker than any other; failing that, the spot that breaks these least.
    func labelPlacements(frame: PlaneHeatmapLayout, canvas: Canvas) -> [LabelPlacement?] {
        let size = canvas.pt(Theme.tickLabelSize)
        let offset = canvas.pt(Theme.markerSize * 0.7)
        let markerHalf = canvas.pt(Theme.markerSize) * 0.65
        let centres = points.map { frame.pixel(x: $0.x, y: $0.y) }
        let markers = centres.map { PixelRect(x: $0.x - markerHalf, y: $0.y - markerHalf, width: 2 * markerHalf, height: 2 * markerHalf) }
        func overlap(_ a: PixelRect, _ b: PixelRect) -> Double {
            max(0, min(a.maxX, b.maxX) - max(a.minX, b.minX)) * max(0, min(a.maxY, b.maxY) - max(a.minY, b.minY))
        }
        func distance(_ box: PixelRect, _ p: PixelPoint) -> Double {
            hypot(max(box.minX - p.x, 0, p.x - box.maxX), max(box.minY - p.y, 0, p.y - box.maxY))
        }
        var placed: [PixelRect] = []
        var result: [LabelPlacement?] = []
        for (index, point) in points.enumerated() {
            guard let label = point.label, !label.isEmpty else { result.append(nil); continue }
            let metrics = canvas.measure(label, size: size)
            let at = centres[index]
            let (w, cap, descent) = (metrics.width, metrics.capHeight, metrics.descent)
            // (baseline anchor, alignment) per spot, nearest ring first; farther rings only when
            // every nearer spot collides.
            var spots: [(PixelPoint, HorizontalAlignment)] = []
            var rings: [Bool] = []
            for ring in [1.0, 1.9, 2.8] {
                let o = offset * ring
                rings += Array(repeating: ring > 1, count: 8)
                spots += [
                    (PixelPoint(x: at.x + o, y: at.y - o * 0.6), .left),
                    (PixelPoint(x: at.x - o, y: at.y - o * 0.6), .right),
                    (PixelPoint(x: at.x + o, y: at.y + o * 0.6 + cap), .left),
                    (PixelPoint(x: at.x - o, y: at.y + o * 0.6 + cap), .right),
                    (PixelPoint(x: at.x + o * 1.2, y: at.y + cap / 2), .left),
                    (PixelPoint(x: at.x - o * 1.2, y: at.y + cap / 2), .right),
                    (PixelPoint(x: at.x - w / 2, y: at.y - o * 1.1), .left),
                    (PixelPoint(x: at.x - w / 2, y: at.y + o * 1.1 + cap), .left),
                ]
            }
            var best: (cost: Double, placement: LabelPlacement)?
            for ((anchor, alignment), far) in zip(spots, rings) {
                let left = alignment == .left ? anchor.x : anchor.x - w
                let box = PixelRect(x: left - 1, y: anchor.y - cap - 1, width: w + 2, height: cap + descent + 2)
                let inside = box.minX >= frame.plotRect.minX && box.maxX <= frame.plotRect.maxX
                    && box.minY >= frame.plotRect.minY && box.maxY <= frame.plotRect.maxY
                // In order of badness: leaving the plot, covering a marker, covering a label, lying
                // nearer another marker than its own (it would seem to name the wrong point).
                var cost = inside ? 0.0 : 1000
                for (k, marker) in markers.enumerated() where k != index && overlap(box, marker) > 0 { cost += 100 }
                for other in placed where overlap(box, other) > 0 { cost += 10 + overlap(box, other) / (box.width * box.height) }
                let own = distance(box, at)
                for (k, centre) in centres.enumerated() where k != index && distance(box, centre) < own { cost += 1 }
                let candidate = LabelPlacement(anchor: anchor, horizontal: alignment, box: box, leader: far)
                if best == nil || cost < best!.cost { best = (cost, candidate) }
                if cost == 0 { break }
            }
            placed.append(best!.placement.box)
            result.append(best!.placement)
        }
        return result
    }

    public func render(to path: String, metadata: PNGMetadata) throws {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        let frame = layout(canvas: canvas, scale: scale)
        let axes = Axes(rect: frame.plotRect, xRange: xRange, yRange: yRange)
        let positions = values.map { row in row.map { scale.position($0) } }
        let image = GridRaster.render(x: x, y: y, positions: positions, axes: axes, colormap: colormap)
        try canvas.blit(rgba: image.rgba, width: image.width, height: image.height, x: image.x, y: image.y)

        let placements = labelPlacements(frame: frame, canvas: canvas)
        let levels = contours.resolve(scale: scale)
        if !levels.isEmpty {
            let mesh = TriangleMesh.grid(columns: x.count, rows: y.count,
                                         point: { axes.point(x[$0], y[$1]) }, value: { values[$1][$0] })
            canvas.withClip(frame.plotRect) {
                ContourPainter.draw(mesh: mesh, levels: levels, labeled: labelContours, inside: frame.plotRect,
                                    avoiding: obstacles(frame: frame, placements: placements, canvas: canvas),
                                    boxes: placements.compactMap { $0?.box }, canvas: canvas)
            }
        }
        canvas.withClip(frame.plotRect) {
            for (point, placement) in zip(points, placements) where placement?.leader == true {
                let at = frame.pixel(x: point.x, y: point.y), box = placement!.box
                let to = PixelPoint(x: min(max(at.x, box.minX), box.maxX), y: min(max(at.y, box.minY), box.maxY))
                canvas.line(at, to, Color(hex: 0x1A1A1A).withAlpha(0.8), width: canvas.pt(0.4))
            }
            for point in points {
                MarkerPainter.draw(point.role.marker, at: frame.pixel(x: point.x, y: point.y), size: Theme.markerSize,
                                   fill: point.color ?? point.role.color, canvas: canvas)
            }
            for (point, placement) in zip(points, placements) {
                guard let label = point.label, let placement else { continue }
                canvas.text(label, at: placement.anchor, size: canvas.pt(Theme.tickLabelSize), color: .black,
                            horizontal: placement.horizontal, vertical: .baseline, halo: Color.white.withAlpha(0.85))
            }
        }
        AxisPainter.drawFrame(frame.plotRect, canvas: canvas)
        let (xTicks, yTicks) = ticks()
        AxisPainter.drawXAxis(axes, ticks: xTicks, label: xLabel, canvas: canvas)
        AxisPainter.drawYAxis(axes, ticks: yTicks, label: yLabel, canvas: canvas)
        AxisPainter.drawTitle(title, centeredOn: frame.plotRect.midX, above: frame.plotRect.minY, canvas: canvas)
        try ColorbarPainter.draw(bar: frame.colorbarRect, scale: scale, colormap: colormap, label: metricLabel, canvas: canvas)
        try canvas.write(to: path, metadata: metadata)
    }
}
