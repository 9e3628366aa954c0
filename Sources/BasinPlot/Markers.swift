import Foundation

/// Marker shapes for points and line series.
public enum MarkerShape: String, Equatable, Sendable, CaseIterable {
    case square, circle, triangle, diamond, star, cross
}

/// What a point on a plane is; the role decides its default marker and color so figures agree.
public enum PointRole: String, Equatable, Sendable, CaseIterable {
    case pretrained, finetuned, snapshot, soup, other

    public var marker: MarkerShape {
        switch self {
        case .pretrained: return .square
        case .finetuned: return .circle
        case .snapshot: return .triangle
        case .soup: return .star
        case .other: return .cross
        }
    }

    /// Fills chosen to stand out on the sequential colormaps (which run dark blue to yellow).
    public var color: Color {
        switch self {
        case .pretrained: return Color(hex: 0xE41A1C)
        case .finetuned: return .white
        case .snapshot: return Color(hex: 0xFF7F00)
        case .soup: return Color(hex: 0xF781BF)
        case .other: return .black
        }
    }
}

enum MarkerPainter {
    /// Draws a marker of `size` points centred on `center`; filled shapes get a thin dark edge.
    static func draw(_ shape: MarkerShape, at center: PixelPoint, size: Double, fill: Color, canvas: Canvas) {
        let radius = canvas.pt(size) / 2
        let edge = Color(hex: 0x1A1A1A)
        let edgeWidth = canvas.pt(0.5)
        func polygon(_ vertices: [(Double, Double)]) {
            canvas.polygon(vertices.map { PixelPoint(x: center.x + $0.0 * radius, y: center.y + $0.1 * radius) },
                           fill: fill, stroke: edge, width: edgeWidth)
        }
        switch shape {
        case .circle:
            canvas.circle(center: center, radius: radius, fill: fill, stroke: edge, width: edgeWidth)
        case .square:
            polygon([(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)])
        case .diamond:
            polygon([(0, -1.15), (1.0, 0), (0, 1.15), (-1.0, 0)])
        case .triangle:
            // Centroid at the centre so the marked point is the triangle's visual middle.
            polygon([(0, -1.2), (1.05, 0.6), (-1.05, 0.6)])
        case .star:
            let vertices = (0..<10).map { index -> (Double, Double) in
                let angle = -Double.pi / 2 + Double(index) * Double.pi / 5
                let r = index % 2 == 0 ? 1.3 : 0.55
                return (r * cos(angle), r * sin(angle))
            }
            polygon(vertices)
        case .cross:
            let r = radius * 0.9
            let width = canvas.pt(1.2)
            canvas.line(PixelPoint(x: center.x - r, y: center.y - r), PixelPoint(x: center.x + r, y: center.y + r), fill, width: width)
            canvas.line(PixelPoint(x: center.x - r, y: center.y + r), PixelPoint(x: center.x + r, y: center.y - r), fill, width: width)
        }
    }
}
