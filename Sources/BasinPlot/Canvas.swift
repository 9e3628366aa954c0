import CCairo

/// A rectangle in pixels, y down.
public struct PixelRect: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var minX: Double { x }
    public var maxX: Double { x + width }
    public var minY: Double { y }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    public func contains(x px: Double, y py: Double) -> Bool {
        px >= minX && px <= maxX && py >= minY && py <= maxY
    }

    /// Snapped outward-free to whole pixels so raster blits land exactly on pixel boundaries.
    var snapped: PixelRect {
        let left = x.rounded(), top = y.rounded()
        return PixelRect(x: left, y: top, width: (x + width).rounded() - left, height: (y + height).rounded() - top)
    }
}

public struct PixelPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

enum HorizontalAlignment { case left, center, right }
enum VerticalAlignment {
    /// Top of capital letters at y.
    case top
    /// Middle of capital letters at y, so labels centre on tick marks.
    case center
    case baseline
    /// Lowest descender at y.
    case bottom
}

enum LineStyle { case solid, dashed, dotted }

/// Physical sizes of a figure: inches and dots per inch decide the pixel size; fonts and line
/// widths are given in points (1/72 in) and scaled with the DPI so a figure looks the same at any resolution.
public struct FigureSize: Equatable, Sendable {
    public var widthInches: Double
    public var heightInches: Double
    public var dpi: Double

    public init(widthInches: Double = 3.4, heightInches: Double = 2.8, dpi: Double = 300) {
        self.widthInches = widthInches
        self.heightInches = heightInches
        self.dpi = dpi
    }

    public var pixelWidth: Int { Int((widthInches * dpi).rounded()) }
    public var pixelHeight: Int { Int((heightInches * dpi).rounded()) }

    func validate() throws {
        guard widthInches.isFinite, heightInches.isFinite, dpi.isFinite,
              widthInches > 0, heightInches > 0, dpi > 0 else {
            throw PlotError.invalidArgument("figure size \(widthInches) x \(heightInches) in at \(dpi) dpi must be positive and finite")
        }
        guard pixelWidth >= 16, pixelHeight >= 16, pixelWidth <= 20000, pixelHeight <= 20000 else {
            throw PlotError.invalidArgument("figure size \(pixelWidth) x \(pixelHeight) px must be within 16...20000 px per side")
        }
    }
}

/// A thin owner of a cairo ARGB32 image surface with the drawing operations figures need, in pixels.
final class Canvas {
    let width: Int
    let height: Int
    /// Pixels per typographic point.
    let scale: Double
    private let surface: OpaquePointer
    private let context: OpaquePointer

    init(size: FigureSize) throws {
        try size.validate()
        width = size.pixelWidth
        height = size.pixelHeight
        scale = size.dpi / 72
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw PlotError.rendering("cannot create a \(width) x \(height) cairo surface")
        }
        guard let context = cairo_create(surface), cairo_status(context) == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(surface)
            throw PlotError.rendering("cannot create a cairo context")
        }
        self.surface = surface
        self.context = context
        // Hinting off keeps text metrics proportional to the font size, so layouts scale with DPI.
        if let options = cairo_font_options_create() {
            cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
            cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
            cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
            cairo_set_font_options(context, options)
            cairo_font_options_destroy(options)
        }
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        fill(PixelRect(x: 0, y: 0, width: Double(width), height: Double(height)), .white)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    func pt(_ points: Double) -> Double { points * scale }

    // MARK: paths

    private func setColor(_ color: Color) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, color.alpha)
    }

    func fill(_ rect: PixelRect, _ color: Color) {
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        setColor(color)
        cairo_fill(context)
    }

    func strokeRect(_ rect: PixelRect, _ color: Color, width lineWidth: Double) {
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        stroke(color, width: lineWidth)
    }

    func polyline(_ points: [PixelPoint], _ color: Color, width lineWidth: Double, style: LineStyle = .solid) {
        guard points.count >= 2 else { return }
        cairo_move_to(context, points[0].x, points[0].y)
        for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
        stroke(color, width: lineWidth, style: style)
    }

    func line(_ a: PixelPoint, _ b: PixelPoint, _ color: Color, width lineWidth: Double, style: LineStyle = .solid) {
        polyline([a, b], color, width: lineWidth, style: style)
    }

    /// Many independent segments in one stroke (contour lines), so overlapping ends do not darken.
    func segments(_ pairs: [(PixelPoint, PixelPoint)], _ color: Color, width lineWidth: Double) {
        guard !pairs.isEmpty else { return }
        for (a, b) in pairs {
            cairo_move_to(context, a.x, a.y)
            cairo_line_to(context, b.x, b.y)
        }
        cairo_set_line_cap(context, CAIRO_LINE_CAP_ROUND)
        stroke(color, width: lineWidth)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    func polygon(_ points: [PixelPoint], fill fillColor: Color?, stroke strokeColor: Color?, width lineWidth: Double = 0) {
        guard points.count >= 3 else { return }
        cairo_move_to(context, points[0].x, points[0].y)
        for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
        cairo_close_path(context)
        finish(fill: fillColor, stroke: strokeColor, width: lineWidth)
    }

    func circle(center: PixelPoint, radius: Double, fill fillColor: Color?, stroke strokeColor: Color?, width lineWidth: Double = 0) {
        cairo_new_sub_path(context)
        cairo_arc(context, center.x, center.y, radius, 0, 2 * Double.pi)
        finish(fill: fillColor, stroke: strokeColor, width: lineWidth)
    }

    private func finish(fill fillColor: Color?, stroke strokeColor: Color?, width lineWidth: Double) {
        if let fillColor {
            setColor(fillColor)
            if strokeColor != nil { cairo_fill_preserve(context) } else { cairo_fill(context) }
        }
        if let strokeColor { stroke(strokeColor, width: lineWidth) } else { cairo_new_path(context) }
    }

    private func stroke(_ color: Color, width lineWidth: Double, style: LineStyle = .solid) {
        setColor(color)
        cairo_set_line_width(context, lineWidth)
        switch style {
        case .solid: cairo_set_dash(context, nil, 0, 0)
        case .dashed: [lineWidth * 3.7, lineWidth * 1.6].withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, 2, 0) }
        case .dotted: [lineWidth * 1, lineWidth * 1.65].withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, 2, 0) }
        }
        cairo_stroke(context)
        cairo_set_dash(context, nil, 0, 0)
    }

    func fillEvenOdd(outer rect: PixelRect, inner polygon: [PixelPoint], _ color: Color) {
        cairo_save(context)
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        if let first = polygon.first {
            cairo_move_to(context, first.x, first.y)
            for point in polygon.dropFirst() { cairo_line_to(context, point.x, point.y) }
            cairo_close_path(context)
        }
        setColor(color)
        cairo_fill(context)
        cairo_restore(context)
    }

    func withClip(_ rect: PixelRect, _ body: () -> Void) {
        cairo_save(context)
        cairo_rectangle(context, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(context)
        body()
        cairo_restore(context)
    }

    /// Clip to a polygon (the simplex triangle) while drawing.
    func withClip(_ points: [PixelPoint], _ body: () -> Void) {
        cairo_save(context)
        if let first = points.first {
            cairo_move_to(context, first.x, first.y)
            for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
            cairo_close_path(context)
            cairo_clip(context)
        }
        body()
        cairo_restore(context)
    }

    // MARK: text

    struct TextMetrics {
        var width: Double
        /// Height of capital letters above the baseline.
        var capHeight: Double
        var descent: Double
    }

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    /// Metrics of `text` at `size` pixels; vertical metrics come from the font, not the string,
    /// so labels with and without descenders line up.
    func measure(_ text: String, size: Double, bold: Bool = false) -> TextMetrics {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        var capital = cairo_text_extents_t()
        cairo_text_extents(context, "H", &capital)
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        return TextMetrics(width: extents.x_advance, capHeight: -capital.y_bearing, descent: font.descent)
    }

    /// Draws text anchored at (x, y); `angle` in radians turns it counterclockwise about the anchor.
    func text(_ text: String, at point: PixelPoint, size: Double, color: Color = .axis, bold: Bool = false,
              horizontal: HorizontalAlignment = .left, vertical: VerticalAlignment = .baseline, angle: Double = 0,
              halo: Color? = nil) {
        guard !text.isEmpty else { return }
        let metrics = measure(text, size: size, bold: bold)
        let dx: Double
        switch horizontal {
        case .left: dx = 0
        case .center: dx = -metrics.width / 2
        case .right: dx = -metrics.width
        }
        let dy: Double
        switch vertical {
        case .top: dy = metrics.capHeight
        case .center: dy = metrics.capHeight / 2
        case .baseline: dy = 0
        case .bottom: dy = -metrics.descent
        }
        cairo_save(context)
        cairo_translate(context, point.x, point.y)
        cairo_rotate(context, -angle)
        cairo_move_to(context, dx, dy)
        if let halo {
            // A halo keeps labels readable where they cross lines or dark colors.
            cairo_text_path(context, text)
            setColor(halo)
            cairo_set_line_width(context, size * 0.22)
            cairo_stroke(context)
            cairo_move_to(context, dx, dy)
        }
        setColor(color)
        cairo_show_text(context, text)
        cairo_restore(context)
    }

    // MARK: raster

    /// Copies a straight RGBA buffer (opaque or not) onto whole pixels starting at (x, y).
    func blit(rgba: [UInt8], width imageWidth: Int, height imageHeight: Int, x: Int, y: Int) throws {
        guard imageWidth > 0, imageHeight > 0 else { return }
        guard let image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(imageWidth), Int32(imageHeight)),
              cairo_surface_status(image) == CAIRO_STATUS_SUCCESS, let data = cairo_image_surface_get_data(image) else {
            throw PlotError.rendering("cannot create a \(imageWidth) x \(imageHeight) image surface")
        }
        defer { cairo_surface_destroy(image) }
        cairo_surface_flush(image)
        let stride = Int(cairo_image_surface_get_stride(image))
        data.withMemoryRebound(to: UInt32.self, capacity: stride / 4 * imageHeight) { words in
            for row in 0..<imageHeight {
                for column in 0..<imageWidth {
                    let source = (row * imageWidth + column) * 4
                    let alpha = UInt32(rgba[source + 3])
                    // Cairo stores premultiplied native-endian ARGB words.
                    let red = (UInt32(rgba[source]) * alpha + 127) / 255
                    let green = (UInt32(rgba[source + 1]) * alpha + 127) / 255
                    let blue = (UInt32(rgba[source + 2]) * alpha + 127) / 255
                    words[row * (stride / 4) + column] = alpha << 24 | red << 16 | green << 8 | blue
                }
            }
        }
        cairo_surface_mark_dirty(image)
        cairo_save(context)
        cairo_set_source_surface(context, image, Double(x), Double(y))
        cairo_rectangle(context, Double(x), Double(y), Double(imageWidth), Double(imageHeight))
        cairo_fill(context)
        cairo_restore(context)
    }

    /// The finished picture as straight RGBA bytes, rows top to bottom.
    func rgbaPixels() throws -> [UInt8] {
        cairo_surface_flush(surface)
        guard cairo_status(context) == CAIRO_STATUS_SUCCESS else {
            throw PlotError.rendering(String(cString: cairo_status_to_string(cairo_status(context))))
        }
        guard let data = cairo_image_surface_get_data(surface) else {
            throw PlotError.rendering("cairo surface has no pixel data")
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        data.withMemoryRebound(to: UInt32.self, capacity: stride / 4 * height) { words in
            for row in 0..<height {
                for column in 0..<width {
                    let word = words[row * (stride / 4) + column]
                    let alpha = word >> 24
                    let target = (row * width + column) * 4
                    func straight(_ premultiplied: UInt32) -> UInt8 {
                        alpha == 0 ? 0 : UInt8(min(255, (premultiplied * 255 + alpha / 2) / alpha))
                    }
                    pixels[target] = straight((word >> 16) & 0xff)
                    pixels[target + 1] = straight((word >> 8) & 0xff)
                    pixels[target + 2] = straight(word & 0xff)
                    pixels[target + 3] = UInt8(alpha)
                }
            }
        }
        return pixels
    }

    func write(to path: String, metadata: PNGMetadata) throws {
        try PNGWriter.write(path: path, width: width, height: height, rgba: try rgbaPixels(), metadata: metadata, dpi: scale * 72)
    }
}

extension Canvas {
    /// Paints `rect` except the inside of `polygon` (even-odd rule), trimming a raster to a shape
    /// with an antialiased edge.
    func fillOutside(_ polygon: [PixelPoint], within rect: PixelRect, _ color: Color) {
        fillEvenOdd(outer: rect, inner: polygon, color)
    }
}
