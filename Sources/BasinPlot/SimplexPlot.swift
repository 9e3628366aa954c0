import Foundation

/// A metric over the triangle of convex combinations of three checkpoints. values[i][j] (for
/// j in 0...n-i) is the metric at weights (i/n, j/n, 1-(i+j)/n) on vertices A, B, C.
public struct SimplexPlot: Figure, Sendable {
    public var resolution: Int
    public var values: [[Double]]
    public var vertexLabels: [String]
    public var metricLabel: String
    public var title: String?
    public var colormap: Colormap
    public var logScale: Bool
    public var colorRange: ClosedRange<Double>?
    public var contours: ContourLevels
    public var labelContours: Bool
    public var size: FigureSize

    public init(resolution: Int, values: [[Double]], vertexLabels: [String], metricLabel: String, title: String? = nil,
                colormap: Colormap = .viridis, logScale: Bool = false, colorRange: ClosedRange<Double>? = nil,
                contours: ContourLevels = .automatic(count: 6), labelContours: Bool = false,
                size: FigureSize = FigureSize(widthInches: 3.4, heightInches: 2.8)) {
        self.resolution = resolution
        self.values = values
        self.vertexLabels = vertexLabels
        self.metricLabel = metricLabel
        self.title = title
        self.colormap = colormap
        self.logScale = logScale
        self.colorRange = colorRange
        self.contours = contours
        self.labelContours = labelContours
        self.size = size
    }

    func validate() throws -> ColorScale {
        guard resolution >= 1 else { throw PlotError.invalidArgument("simplex resolution must be at least 1, got \(resolution)") }
        try Validate.nonEmpty(values.count, "simplex values")
        try Validate.sameCount("simplex values rows", values.count, "resolution + 1", resolution + 1)
        for (i, row) in values.enumerated() {
            try Validate.sameCount("simplex values[\(i)]", row.count, "resolution - \(i) + 1", resolution - i + 1)
        }
        try Validate.sameCount("simplex vertex labels", vertexLabels.count, "simplex vertices", 3)
        let all = Array(values.joined())
        if let colorRange {
            guard colorRange.lowerBound.isFinite, colorRange.upperBound.isFinite, !logScale || colorRange.lowerBound > 0 else {
                throw PlotError.invalidArgument("color range \(colorRange) must be finite (and positive for a log scale)")
            }
            if !all.contains(where: { $0.isFinite }) { throw PlotError.allMissing("simplex values") }
            return ColorScale(low: colorRange.lowerBound, high: colorRange.upperBound, logarithmic: logScale)
        }
        return try ColorScale.spanning(all, logarithmic: logScale, what: "simplex values")
    }

    /// Triangle corners A (bottom left), B (bottom right), C (top), equilateral, in pixels.
    func corners(canvas: Canvas, scale: ColorScale) -> [PixelPoint] {
        let outer = canvas.pt(Theme.outerMargin)
        let labelHeight = canvas.measure("Ag", size: canvas.pt(Theme.labelSize)).capHeight * 1.6 + canvas.pt(Theme.gap)
        let top = outer + AxisPainter.titleExtent(title, canvas: canvas) + labelHeight
        let bottom = Double(canvas.height) - outer - labelHeight
        let (left, right) = horizontalBounds(canvas: canvas, scale: scale)
        let side = min(right - left, (bottom - top) * 2 / 3.0.squareRoot())
        let height = side * 3.0.squareRoot() / 2
        let x0 = left + (right - left - side) / 2, y0 = top + (bottom - top - height) / 2 + height
        return [PixelPoint(x: x0, y: y0), PixelPoint(x: x0 + side, y: y0), PixelPoint(x: x0 + side / 2, y: y0 - height)]
    }

    /// The height (inches) at which the triangle is as wide as the figure allows: with more the
    /// triangle would not grow, only the empty bands above and below it.
    public func heightFittingWidth() throws -> Double {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        let outer = canvas.pt(Theme.outerMargin)
        let labelHeight = canvas.measure("Ag", size: canvas.pt(Theme.labelSize)).capHeight * 1.6 + canvas.pt(Theme.gap)
        let (left, right) = horizontalBounds(canvas: canvas, scale: scale)
        let side = right - left
        return (2 * outer + AxisPainter.titleExtent(title, canvas: canvas) + 2 * labelHeight + side * 3.0.squareRoot() / 2 + 1)
            / size.dpi
    }

    private func horizontalBounds(canvas: Canvas, scale: ColorScale) -> (left: Double, right: Double) {
        let outer = canvas.pt(Theme.outerMargin)
        let labelWidths = vertexLabels.map { canvas.measure($0, size: canvas.pt(Theme.labelSize)).width }
        let sideRoom = max(labelWidths[0], labelWidths[1]) / 2
        let left = outer + sideRoom
        let right = Double(canvas.width) - outer - canvas.pt(Theme.gap * 3)
            - ColorbarPainter.width(scale: scale, label: metricLabel, canvas: canvas) - sideRoom
        return (left, right)
    }

    /// Pixel of the convex combination with weights (a, b, 1-a-b) in the rendered figure.
    public func pixelPosition(weightA a: Double, weightB b: Double) throws -> PixelPoint {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        return point(a, b, corners(canvas: canvas, scale: scale))
    }

    private func point(_ a: Double, _ b: Double, _ corners: [PixelPoint]) -> PixelPoint {
        let c = 1 - a - b
        return PixelPoint(x: a * corners[0].x + b * corners[1].x + c * corners[2].x,
                          y: a * corners[0].y + b * corners[1].y + c * corners[2].y)
    }

    public func render(to path: String, metadata: PNGMetadata) throws {
        let scale = try validate()
        let canvas = try Canvas(size: size)
        let triangle = corners(canvas: canvas, scale: scale)
        let n = resolution
        let positions = values.map { row in row.map { scale.position($0) } }

        // Piecewise-linear interpolation over the small triangles of the barycentric grid.
        let minX = Int(floor(triangle[0].x)), maxX = Int(ceil(triangle[1].x))
        let minY = Int(floor(triangle[2].y)), maxY = Int(ceil(triangle[0].y))
        let width = maxX - minX, height = maxY - minY
        var rgba = [UInt8](repeating: 0, count: max(0, width * height * 4))
        let a0 = triangle[0], b0 = triangle[1], c0 = triangle[2]
        let determinant = (b0.y - c0.y) * (a0.x - c0.x) + (c0.x - b0.x) * (a0.y - c0.y)
        for row in 0..<max(0, height) {
            for column in 0..<max(0, width) {
                let px = Double(minX + column) + 0.5, py = Double(minY + row) + 0.5
                let a = ((b0.y - c0.y) * (px - c0.x) + (c0.x - b0.x) * (py - c0.y)) / determinant
                let b = ((c0.y - a0.y) * (px - c0.x) + (a0.x - c0.x) * (py - c0.y)) / determinant
                // Pixels just outside still get a color (clamped) so the clip edge antialiases cleanly.
                let ca = min(max(a, 0), 1), cb = min(max(b, 0), 1 - min(max(a, 0), 1))
                let u = ca * Double(n), v = cb * Double(n)
                var i = min(Int(floor(u)), n - 1), j = min(Int(floor(v)), n - 1)
                if i + j > n - 1 { if i > 0 && i >= j { i = n - 1 - j } else { j = n - 1 - i } }
                let fu = u - Double(i), fv = v - Double(j)
                let value: Double
                if fu + fv <= 1 {
                    value = positions[i][j] * (1 - fu - fv) + positions[i + 1][j] * fu + positions[i][j + 1] * fv
                } else if i + j + 2 <= n {
                    value = positions[i + 1][j + 1] * (fu + fv - 1) + positions[i + 1][j] * (1 - fv) + positions[i][j + 1] * (1 - fu)
                } else {
                    value = positions[i + 1][j] * fu / (fu + fv) + positions[i][j + 1] * fv / (fu + fv)
                }
                let color = value.isFinite ? colormap.color(at: value) : Color.missing
                let (r, g, bl) = color.bytes
                let offset = (row * width + column) * 4
                rgba[offset] = r
                rgba[offset + 1] = g
                rgba[offset + 2] = bl
                rgba[offset + 3] = 255
            }
        }
        try blitClipped(canvas: canvas, rgba: rgba, width: width, height: height, x: minX, y: minY, clip: triangle)

        let levels = contours.resolve(scale: scale)
        if !levels.isEmpty {
            var points: [PixelPoint] = [], meshValues: [Double] = [], index: [[Int]] = []
            for i in 0...n {
                var rowIndex: [Int] = []
                for j in 0...(n - i) {
                    rowIndex.append(points.count)
                    points.append(point(Double(i) / Double(n), Double(j) / Double(n), triangle))
                    meshValues.append(values[i][j])
                }
                index.append(rowIndex)
            }
            var triangles: [(Int, Int, Int)] = []
            for i in 0..<n {
                for j in 0..<(n - i) {
                    triangles.append((index[i][j], index[i + 1][j], index[i][j + 1]))
                    if i + j + 2 <= n { triangles.append((index[i + 1][j], index[i + 1][j + 1], index[i][j + 1])) }
                }
            }
            let mesh = TriangleMesh(points: points, values: meshValues, triangles: triangles)
            canvas.withClip(triangle) {
                ContourPainter.draw(mesh: mesh, levels: levels, labeled: labelContours,
                                    clearance: { Self.distanceToEdges($0, triangle) }, canvas: canvas)
            }
        }
        canvas.polygon(triangle, fill: nil, stroke: .axis, width: canvas.pt(Theme.axisLineWidth))

        let labelSize = canvas.pt(Theme.labelSize), gap = canvas.pt(Theme.gap)
        canvas.text(vertexLabels[0], at: PixelPoint(x: triangle[0].x, y: triangle[0].y + gap), size: labelSize, horizontal: .center, vertical: .top)
        canvas.text(vertexLabels[1], at: PixelPoint(x: triangle[1].x, y: triangle[1].y + gap), size: labelSize, horizontal: .center, vertical: .top)
        canvas.text(vertexLabels[2], at: PixelPoint(x: triangle[2].x, y: triangle[2].y - gap), size: labelSize, horizontal: .center, vertical: .baseline)
        for corner in triangle { canvas.circle(center: corner, radius: canvas.pt(1.6), fill: .axis, stroke: nil) }
        if let title, !title.isEmpty {
            canvas.text(title, at: PixelPoint(x: Double(canvas.width) / 2, y: canvas.pt(Theme.outerMargin)), size: canvas.pt(Theme.titleSize),
                        bold: true, horizontal: .center, vertical: .top)
        }
        let barHeight = (triangle[0].y - triangle[2].y)
        let bar = ColorbarPainter.barRect(left: triangle[1].x + canvas.pt(Theme.gap * 3) + canvas.measure(vertexLabels[1], size: labelSize).width / 2,
                                          top: triangle[2].y, height: barHeight, canvas: canvas)
        try ColorbarPainter.draw(bar: bar, scale: scale, colormap: colormap, label: metricLabel, canvas: canvas)
        try canvas.write(to: path, metadata: metadata)
    }

    /// Distance from a point inside the triangle to its nearest side.
    static func distanceToEdges(_ p: PixelPoint, _ triangle: [PixelPoint]) -> Double {
        (0..<3).map { index -> Double in
            let a = triangle[index], b = triangle[(index + 1) % 3]
            let length = hypot(b.x - a.x, b.y - a.y)
            return abs((b.x - a.x) * (a.y - p.y) - (a.x - p.x) * (b.y - a.y)) / length
        }.min() ?? 0
    }

    /// Blits the raster, then paints white outside the triangle so only the triangle keeps color.
    private func blitClipped(canvas: Canvas, rgba: [UInt8], width: Int, height: Int, x: Int, y: Int, clip: [PixelPoint]) throws {
        try canvas.blit(rgba: rgba, width: width, height: height, x: x, y: y)
        let box = PixelRect(x: Double(x) - 1, y: Double(y) - 1, width: Double(width) + 2, height: Double(height) + 2)
        // Even-odd fill of box minus triangle.
        canvas.fillOutside(clip, within: box, .white)
    }
}
