import Foundation

/// Contour levels for a figure: none, explicit values, or about `count` nice values inside the data range.
public enum ContourLevels: Equatable, Sendable {
    case none
    case automatic(count: Int)
    case explicit([Double])

    func resolve(scale: ColorScale) -> [Double] {
        switch self {
        case .none: return []
        case .explicit(let levels): return levels.filter { $0.isFinite }.sorted()
        case .automatic(let count):
            guard count > 0 else { return [] }
            if scale.logarithmic {
                // Over three decades or more, the powers of ten; over one to three there are too
                // few of them, so round values spread evenly on the log scale instead.
                if scale.low > 0, scale.high / scale.low >= 1000 {
                    let decades = TickMaker.logarithmic(low: scale.low, high: scale.high).values
                        .filter { $0 > scale.low && $0 < scale.high }
                    if decades.count >= 2 { return decades }
                }
                // Within one decade log and linear spacing differ little: round linear values.
                if scale.low > 0, scale.high / scale.low >= 10 {
                    return Self.logSpaced(low: scale.low, high: scale.high, count: count)
                }
            }
            return TickMaker.contourLevels(low: scale.low, high: scale.high, target: count)
        }
    }
}

extension ContourLevels {
    /// About `count` round values (1, 1.5, 2, 3, 4, 5, 6, 8 times a power of ten) strictly inside
    /// (low, high), as evenly spaced in log10 as those values allow.
    static func logSpaced(low: Double, high: Double, count: Int) -> [Double] {
        guard low > 0, high > low, count > 0 else { return [] }
        var candidates: [Double] = []
        for exponent in Int(floor(log10(low)))...Int(ceil(log10(high))) {
            for mantissa in [1.0, 1.5, 2, 3, 4, 5, 6, 8] {
                let value = mantissa * pow(10, Double(exponent))
                if value > low * (1 + 1e-9), value < high * (1 - 1e-9) { candidates.append(value) }
            }
        }
        guard candidates.count > count else { return candidates }
        var chosen: [Double] = []
        let a = log10(low), b = log10(high)
        for k in 1...count {
            let target = a + (b - a) * Double(k) / Double(count + 1)
            if let nearest = candidates.min(by: { abs(log10($0) - target) < abs(log10($1) - target) }), !chosen.contains(nearest) {
                chosen.append(nearest)
            }
        }
        return chosen.sorted()
    }
}

/// Values on a triangulated set of points. One mechanism serves rectangular grids (each cell
/// split in two) and the barycentric grid of the simplex.
struct TriangleMesh {
    var points: [PixelPoint]
    var values: [Double]
    var triangles: [(Int, Int, Int)]

    /// Marching triangles: the pieces of the level line, one segment per crossed triangle.
    /// Triangles touching a missing value are skipped, leaving gaps rather than invented lines.
    func segments(at level: Double) -> [(PixelPoint, PixelPoint)] {
        var result: [(PixelPoint, PixelPoint)] = []
        for (a, b, c) in triangles {
            let corners = [a, b, c]
            let v = corners.map { values[$0] }
            guard v.allSatisfy({ $0.isFinite }) else { continue }
            let above = v.map { $0 >= level }
            let aboveCount = above.filter { $0 }.count
            guard aboveCount == 1 || aboveCount == 2 else { continue }
            // The vertex alone on its side of the level; the line crosses its two edges.
            let lone = aboveCount == 1 ? above.firstIndex(of: true)! : above.firstIndex(of: false)!
            let others = [0, 1, 2].filter { $0 != lone }
            func crossing(_ i: Int, _ j: Int) -> PixelPoint {
                let t = (level - v[i]) / (v[j] - v[i])
                let p = points[corners[i]], q = points[corners[j]]
                return PixelPoint(x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y))
            }
            result.append((crossing(lone, others[0]), crossing(lone, others[1])))
        }
        return result
    }

    static func grid(columns: Int, rows: Int, point: (Int, Int) -> PixelPoint, value: (Int, Int) -> Double) -> TriangleMesh {
        var points: [PixelPoint] = []
        var values: [Double] = []
        for row in 0..<rows {
            for column in 0..<columns {
                points.append(point(column, row))
                values.append(value(column, row))
            }
        }
        var triangles: [(Int, Int, Int)] = []
        for row in 0..<(rows - 1) {
            for column in 0..<(columns - 1) {
                let a = row * columns + column, b = a + 1, c = a + columns, d = c + 1
                triangles.append((a, b, d))
                triangles.append((a, d, c))
            }
        }
        return TriangleMesh(points: points, values: values, triangles: triangles)
    }
}

enum ContourPainter {
    /// Draws every level as thin dark lines and, if asked, one label per level at the piece
    /// farthest from the box edges, from labels already placed and from `obstacles` (markers and
    /// their labels), so labels do not pile up.
    static func draw(mesh: TriangleMesh, levels: [Double], labeled: Bool, inside rect: PixelRect,
                     avoiding obstacles: [PixelPoint] = [], boxes: [PixelRect] = [], canvas: Canvas) {
        let clearance = { (p: PixelPoint) in min(p.x - rect.minX, rect.maxX - p.x, p.y - rect.minY, rect.maxY - p.y) }
        draw(mesh: mesh, levels: levels, labeled: labeled, clearance: clearance, avoiding: obstacles, boxes: boxes, canvas: canvas)
    }

    /// `clearance` gives a point's distance to the edge of the drawing area (box or triangle);
    /// labels keep clear of the `obstacles` points and of the `boxes` (other text) as a whole.
    static func draw(mesh: TriangleMesh, levels: [Double], labeled: Bool, clearance: (PixelPoint) -> Double,
                     avoiding obstacles: [PixelPoint] = [], boxes: [PixelRect] = [], canvas: Canvas) {
        guard !levels.isEmpty else { return }
        let color = Color(red: 0.1, green: 0.1, blue: 0.1, alpha: 0.75)
        let step = levels.count > 1 ? zip(levels.dropFirst(), levels).map { $0 - $1 }.min() ?? 1 : abs(levels[0])
        var placed: [PixelPoint] = []
        var labels: [(String, PixelPoint)] = []
        for level in levels {
            let pieces = mesh.segments(at: level)
            guard !pieces.isEmpty else { continue }
            canvas.segments(pieces, color, width: canvas.pt(Theme.contourLineWidth))
            guard labeled else { continue }
            let text = TickMaker.format(level, step: step > 0 ? step : abs(level))
            let textMetrics = canvas.measure(text, size: canvas.pt(Theme.tickLabelSize - 1))
            let textWidth = textMetrics.width, textHeight = textMetrics.capHeight + textMetrics.descent
            var best: (score: Double, point: PixelPoint)?
            for (p, q) in pieces {
                let mid = PixelPoint(x: (p.x + q.x) / 2, y: (p.y + q.y) / 2)
                let edge = clearance(mid) - textWidth / 2
                let crowd = placed.map { hypot($0.x - mid.x, $0.y - mid.y) }.min() ?? .infinity
                // Obstacles are points, the label is a box: keep its half width clear of them too.
                let blocked = obstacles.map { hypot($0.x - mid.x, ($0.y - mid.y) * 2) - textWidth / 2 }.min() ?? .infinity
                // Gap between this label's box and each text box (negative when they overlap).
                let label = PixelRect(x: mid.x - textWidth / 2, y: mid.y - textHeight / 2, width: textWidth, height: textHeight)
                let gap = boxes.map { box in
                    max(box.minX - label.maxX, label.minX - box.maxX, box.minY - label.maxY, label.minY - box.maxY)
                }.min() ?? .infinity
                let score = min(edge, crowd / 2, blocked, gap)
                if best == nil || score > best!.score { best = (score, mid) }
            }
            if let best, best.score > canvas.pt(3) {
                placed.append(best.point)
                labels.append((text, best.point))
            }
        }
        for (text, point) in labels {
            canvas.text(text, at: point, size: canvas.pt(Theme.tickLabelSize - 1), color: .black,
                        horizontal: .center, vertical: .center, halo: Color.white.withAlpha(0.85))
        }
    }
}
