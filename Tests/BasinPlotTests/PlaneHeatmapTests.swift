import BasinPlot
import Foundation
import XCTest

final class PlaneHeatmapTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws { folder = try Samples.temporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func render(_ figure: Figure) throws -> PNGImage {
        let path = folder + "/figure.png"
        try figure.render(to: path, metadata: Samples.metadata)
        return try PNGImage.read(path: path)
    }

    /// Each colorbar row is one colormap sample at the row centre, blitted on whole pixels, so the only
    /// error is rounding each channel to a byte (1/255) plus libpng's exact round trip. We allow 2/255 and
    /// stay 2 px away from the bar's frame and ends, where the antialiased frame line blends in.
    func testColorbarFollowsColormap() throws {
        var figure = Samples.landscape()
        figure.colormap = .plasma
        let layout = try figure.layout()
        let image = try render(figure)
        let bar = layout.colorbarRect
        let column = Int(bar.midX)
        let rows = Int(bar.height)
        var checked = 0
        for row in stride(from: 2, to: rows - 2, by: 7) {
            let y = Int(bar.minY) + row
            let t = 1 - (Double(row) + 0.5) / Double(rows)
            let expected = Colormap.plasma.color(at: t)
            let pixel = image.pixel(x: column, y: y)
            XCTAssertEqual(Double(pixel.r), expected.red * 255, accuracy: 2, "row \(row)")
            XCTAssertEqual(Double(pixel.g), expected.green * 255, accuracy: 2, "row \(row)")
            XCTAssertEqual(Double(pixel.b), expected.blue * 255, accuracy: 2, "row \(row)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// The marker's fill covers a disc of radius 2.5 pt (over 10 px at 300 dpi) around the mapped pixel,
    /// so the mapped pixel and its neighbours must be exactly the fill color.
    func testMarkerSitsAtItsMappedPixel() throws {
        var figure = Samples.landscape()
        let fill = Color(red: 1, green: 0, blue: 0)
        figure.points = [PlanePoint(x: 0.7, y: 0.3, role: .finetuned, color: fill),
                         PlanePoint(x: 0.2, y: 0.6, role: .pretrained, color: Color(red: 0, green: 0, blue: 1))]
        figure.contours = .none
        let image = try render(figure)
        let at = try figure.pixelPosition(x: 0.7, y: 0.3)
        for (dx, dy) in [(0, 0), (-2, 0), (2, 0), (0, -2), (0, 2)] {
            let pixel = image.pixel(x: Int(at.x) + dx, y: Int(at.y) + dy)
            XCTAssertEqual([pixel.r, pixel.g, pixel.b], [255, 0, 0], "offset (\(dx), \(dy))")
        }
        let square = try figure.pixelPosition(x: 0.2, y: 0.6)
        let pixel = image.pixel(x: Int(square.x), y: Int(square.y))
        XCTAssertEqual([pixel.r, pixel.g, pixel.b], [0, 0, 255])
        // A point elsewhere is not red: the check above can fail.
        let elsewhere = image.pixel(x: Int(at.x) + 40, y: Int(at.y))
        XCTAssertNotEqual([elsewhere.r, elsewhere.g, elsewhere.b], [255, 0, 0])
    }

    func testEqualAspect() throws {
        // x spans 2 units, y 1.5: a unit must cover the same pixels on both axes.
        let layout = try Samples.landscape().layout()
        let perUnit = layout.pixelsPerUnit
        XCTAssertEqual(perUnit.x, perUnit.y, accuracy: 1e-9)
        let origin = layout.pixel(x: 0, y: 0), right = layout.pixel(x: 1, y: 0), up = layout.pixel(x: 0, y: 1)
        XCTAssertEqual(right.x - origin.x, origin.y - up.y, accuracy: 1e-9)
        XCTAssertGreaterThan(right.x - origin.x, 100)
        // A tall plane keeps the same property.
        var tall = Samples.landscape(columns: 5, rows: 5)
        tall.x = [0, 0.25, 0.5, 0.75, 1]
        tall.y = [0, 1, 2, 3, 4]
        let tallLayout = try tall.layout()
        XCTAssertEqual(tallLayout.pixelsPerUnit.x, tallLayout.pixelsPerUnit.y, accuracy: 1e-9)
    }

    /// The title sits above the plot box; its band must contain dark text pixels, and the same band
    /// of an untitled figure must not (so the count really measures the title).
    func testTitleTextRenders() throws {
        var figure = Samples.landscape()
        func darkPixelsAbovePlot(_ figure: PlaneHeatmap) throws -> Int {
            let layout = try figure.layout()
            let image = try render(figure)
            var count = 0
            // Between the top tick label's half height (under 20 px at 300 dpi) and 40 px up.
            for y in max(0, Int(layout.plotRect.minY) - 40)..<(Int(layout.plotRect.minY) - 20) {
                for x in Int(layout.plotRect.minX)..<Int(layout.plotRect.maxX) {
                    let p = image.pixel(x: x, y: y)
                    if Int(p.r) + Int(p.g) + Int(p.b) < 3 * 128 { count += 1 }
                }
            }
            return count
        }
        XCTAssertGreaterThan(try darkPixelsAbovePlot(figure), 200)
        figure.title = nil
        XCTAssertEqual(try darkPixelsAbovePlot(figure), 0)
    }

    func testBadInputs() {
        var figure = Samples.landscape()
        figure.values = figure.values.map { $0.map { _ in .nan } }
        XCTAssertThrowsError(try figure.render(to: folder + "/a.png", metadata: Samples.metadata)) { error in
            XCTAssertEqual(error as? PlotError, .allMissing("plane values"))
            XCTAssertTrue("\(error)".contains("plane values"))
        }
        figure = Samples.landscape()
        figure.values[3].removeLast()
        XCTAssertThrowsError(try figure.render(to: folder + "/b.png", metadata: Samples.metadata)) { error in
            XCTAssertEqual(error as? PlotError, .mismatchedLengths(first: "plane values[3]", firstCount: 40, second: "plane x", secondCount: 41))
        }
        figure = Samples.landscape()
        figure.x = []
        XCTAssertThrowsError(try figure.layout()) { XCTAssertEqual($0 as? PlotError, .emptyData("plane x coordinates")) }
        figure = Samples.landscape()
        figure.x[2] = .infinity
        XCTAssertThrowsError(try figure.layout()) { XCTAssertTrue("\($0)".contains("plane x[2]")) }
        figure = Samples.landscape()
        figure.points.append(PlanePoint(x: .nan, y: 0, role: .other, label: "broken"))
        XCTAssertThrowsError(try figure.layout()) { XCTAssertTrue("\($0)".contains("broken")) }
        XCTAssertThrowsError(try Samples.landscape().render(to: folder + "/missing-folder/c.png", metadata: Samples.metadata)) {
            guard case .cannotWrite? = $0 as? PlotError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
    }
}
