import BasinPlot
import Foundation
import XCTest

final class PlaneHeatmapTests: XCTestCase {
    func testRendersWithRequestedSizeAndText() throws {
        let folder = try Samples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var figure = Samples.landscape()
        figure.size = FigureSize(widthInches: 3.4, heightInches: 2.8, dpi: 150)
        let path = folder + "/plane.png"
        try figure.render(to: path, metadata: Samples.metadata)
        let image = try PNGImage.read(path: path)
        XCTAssertEqual(image.width, 510)
        XCTAssertEqual(image.height, 420)
        XCTAssertEqual(image.text(forKey: "Software"), "basin 0.1.0-test")
        XCTAssertEqual(image.text(forKey: "Command"), "basin plot plane --metric loss")
        XCTAssertEqual(image.text(forKey: "Source"), "runs/plane.h5\nruns/points.json")
        XCTAssertEqual(image.text(forKey: "Metric"), "test loss")
        try Samples.keep(Samples.landscape(), name: "plane-heatmap.png")
    }
}
