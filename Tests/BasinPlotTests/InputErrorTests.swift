import BasinPlot
import Foundation
import XCTest

final class InputErrorTests: XCTestCase {
    private let path = NSTemporaryDirectory() + "basin-plot-never-written.png"

    func testLineChartErrors() {
        let empty = LineChart(panels: [LinePanel(series: [LineSeries(name: "loss", x: [], y: [])])])
        XCTAssertThrowsError(try empty.render(to: path, metadata: Samples.metadata)) {
            XCTAssertEqual($0 as? PlotError, .emptyData("panel 1 series \"loss\" x"))
        }
        let mismatched = LineChart(panels: [LinePanel(series: [LineSeries(name: "loss", x: [0, 1, 2], y: [1, 2])])])
        XCTAssertThrowsError(try mismatched.render(to: path, metadata: Samples.metadata)) {
            XCTAssertEqual("\($0)", "mismatched lengths: panel 1 series \"loss\" x has 3 values but panel 1 series \"loss\" y has 2")
        }
        let band = LineChart(panels: [LinePanel(series: [LineSeries(name: "acc", x: [0, 1], y: [1, 2], lower: [0], upper: [2, 3])])])
        XCTAssertThrowsError(try band.render(to: path, metadata: Samples.metadata)) {
            XCTAssertTrue("\($0)".contains("lower band"))
        }
        let noSeries = LineChart(panels: [])
        XCTAssertThrowsError(try noSeries.render(to: path, metadata: Samples.metadata)) {
            XCTAssertEqual($0 as? PlotError, .emptyData("line chart panels"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    /// Axis ranges where a nice tick step is below the values' resolution (1e17 + 64: one
    /// step further is the same Double) or the span overflows (-1e308 to 1e308) once looped
    /// forever; now the two ends are the ticks and the figure renders.
    func testExtremeAxisRangesRender() throws {
        let out = NSTemporaryDirectory() + "basin-plot-extreme-\(getpid()).png"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let ranges: [(x: [Double], y: [Double])] = [([0, 1], [1e17, 1e17 + 64]), ([1e17, 1e17 + 64], [0, 1]),
                                                    ([0, 1], [-1e308, 1e308]), ([-1.7e308, 1.7e308], [1e300, 1e308])]
        for (x, y) in ranges {
            let chart = LineChart(panels: [LinePanel(series: [LineSeries(name: "loss", x: x, y: y)])])
            try chart.render(to: out, metadata: Samples.metadata)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out), "x \(x) y \(y)")
            try FileManager.default.removeItem(atPath: out)
        }
    }

    func testAnnotatedHeatmapErrors() {
        var figure = Samples.sweep()
        figure.panels[1].values[2] = [1, 2]
        XCTAssertThrowsError(try figure.render(to: path, metadata: Samples.metadata)) {
            XCTAssertEqual("\($0)", "mismatched lengths: panel 2 (StarSSE) row 2 has 2 values but column labels has 3")
        }
        figure = Samples.sweep()
        figure.panels = figure.panels.map { MatrixPanel(title: $0.title, values: $0.values.map { $0.map { _ in .nan } }) }
        XCTAssertThrowsError(try figure.render(to: path, metadata: Samples.metadata)) {
            XCTAssertEqual($0 as? PlotError, .allMissing("annotated heatmap values"))
        }
    }

    func testSimplexErrors() {
        var figure = Samples.simplex(resolution: 4)
        figure.values[1].append(0)
        XCTAssertThrowsError(try figure.render(to: path, metadata: Samples.metadata)) {
            XCTAssertTrue("\($0)".contains("simplex values[1]"), "\($0)")
        }
        figure = Samples.simplex(resolution: 4)
        figure.vertexLabels = ["a", "b"]
        XCTAssertThrowsError(try figure.render(to: path, metadata: Samples.metadata)) {
            XCTAssertTrue("\($0)".contains("vertex labels"))
        }
    }

    func testBadMetadataAndSize() {
        var figure = Samples.landscape()
        figure.size = FigureSize(widthInches: -1, heightInches: 2, dpi: 300)
        XCTAssertThrowsError(try figure.render(to: path, metadata: Samples.metadata)) {
            XCTAssertTrue("\($0)".contains("figure size"))
        }
        let bad = PNGMetadata(software: "basin", extra: [("", "value")])
        XCTAssertThrowsError(try Samples.landscape().render(to: path, metadata: bad)) {
            XCTAssertTrue("\($0)".contains("PNG text key"))
        }
    }

    func testReadingAFileThatIsNotAPNG() throws {
        let folder = try Samples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fake = folder + "/fake.png"
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: fake))
        XCTAssertThrowsError(try PNGImage.read(path: fake)) { XCTAssertTrue("\($0)".contains("fake.png")) }
        // A truncated PNG exercises libpng's error path (longjmp inside the C shim).
        try Samples.landscape().render(to: folder + "/real.png", metadata: Samples.metadata)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/real.png"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: folder + "/truncated.png"))
        XCTAssertThrowsError(try PNGImage.read(path: folder + "/truncated.png")) {
            XCTAssertTrue("\($0)".hasPrefix("cannot read \(folder)/truncated.png"), "\($0)")
        }
    }
}
