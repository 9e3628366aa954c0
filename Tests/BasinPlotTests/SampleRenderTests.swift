import BasinPlot
import Foundation
import XCTest

/// Every figure kind renders to a PNG of the requested size carrying the requested text chunks.
final class SampleRenderTests: XCTestCase {
    private func check(_ figure: Figure, size: FigureSize, name: String) throws {
        let folder = try Samples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/" + name
        try figure.render(to: path, metadata: Samples.metadata)
        let image = try PNGImage.read(path: path)
        XCTAssertEqual(image.width, Int((size.widthInches * size.dpi).rounded()), name)
        XCTAssertEqual(image.height, Int((size.heightInches * size.dpi).rounded()), name)
        XCTAssertEqual(image.text(forKey: "Software"), Samples.metadata.software, name)
        XCTAssertEqual(image.text(forKey: "Command"), Samples.metadata.command, name)
        XCTAssertEqual(image.text(forKey: "Source"), "runs/plane.h5\nruns/points.json", name)
        XCTAssertEqual(image.text(forKey: "Metric"), "test loss", name)
        // No temporary file may be left next to the figure.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [name])
        try Samples.keep(figure, name: name)
    }

    func testLineChart() throws {
        let figure = Samples.interpolation()
        try check(figure, size: figure.size, name: "line-chart.png")
    }

    func testAnnotatedHeatmap() throws {
        let figure = Samples.sweep()
        try check(figure, size: figure.size, name: "annotated-heatmap.png")
    }

    func testSimplexPlot() throws {
        let figure = Samples.simplex()
        try check(figure, size: figure.size, name: "simplex.png")
    }

    func testPlaneHeatmapAtDefaultSize() throws {
        let figure = Samples.landscape()
        XCTAssertEqual(figure.size, FigureSize(widthInches: 3.4, heightInches: 2.8, dpi: 300))
        try check(figure, size: figure.size, name: "plane-heatmap.png")
    }

    func testNonASCIIMetadataRoundTrips() throws {
        let folder = try Samples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let metadata = PNGMetadata(software: "basin 0.1", command: "basin plot --label 'θ₁ ↔ θ₂'", sources: ["données/plane.h5"])
        try Samples.simplex(resolution: 4).render(to: folder + "/s.png", metadata: metadata)
        let image = try PNGImage.read(path: folder + "/s.png")
        XCTAssertEqual(image.text(forKey: "Command"), "basin plot --label 'θ₁ ↔ θ₂'")
        XCTAssertEqual(image.text(forKey: "Source"), "données/plane.h5")
        XCTAssertEqual(image.text(forKey: "Software"), "basin 0.1")
    }

    func testLogScalePlaneWithMissingValues() throws {
        var figure = Samples.landscape()
        figure.logScale = true
        figure.colormap = .inferno
        figure.title = "Log loss, missing corner"
        for row in 0..<6 { for column in 0..<8 { figure.values[row][column] = .nan } }
        try check(figure, size: figure.size, name: "plane-log-missing.png")
    }
}
