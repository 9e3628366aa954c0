import BasinPlot
import Foundation
import XCTest

/// Point labels and figure heights of plane heatmaps.
final class LayoutTests: XCTestCase {
    private func intersects(_ a: PixelRect, _ b: PixelRect) -> Bool {
        a.minX < b.maxX && b.minX < a.maxX && a.minY < b.maxY && b.minY < a.maxY
    }

    /// Points bunched together (two near the right edge, where labels cannot go right) get labels
    /// that stay inside the plot, overlap no other label and cover no other marker.
    func testCrowdedPointLabelsDoNotCollide() throws {
        var figure = Samples.landscape()
        figure.points = [PlanePoint(x: 0.50, y: 0.50, role: .finetuned, label: "local/member-1"),
                         PlanePoint(x: 0.60, y: 0.50, role: .snapshot, label: "sse/member-2"),
                         PlanePoint(x: 0.55, y: 0.56, role: .soup, label: "soup-sse"),
                         PlanePoint(x: 0.97, y: 0.52, role: .snapshot, label: "starsse/member-3"),
                         PlanePoint(x: 0.95, y: 0.46, role: .pretrained, label: "pt-0"),
                         PlanePoint(x: 0.2, y: 0.2, role: .other)]
        try Samples.keep(figure, name: "crowded-labels.png")
        let boxes = try figure.labelBoxes()
        let layout = try figure.layout()
        XCTAssertNil(boxes[5], "no label, no box")
        let drawn = boxes.compactMap { $0 }
        XCTAssertEqual(drawn.count, 5)
        for (i, box) in drawn.enumerated() {
            XCTAssertTrue(box.minX >= layout.plotRect.minX && box.maxX <= layout.plotRect.maxX
                          && box.minY >= layout.plotRect.minY && box.maxY <= layout.plotRect.maxY, "label \(i) leaves the plot: \(box)")
            for other in drawn[(i + 1)...] { XCTAssertFalse(intersects(box, other), "labels \(box) and \(other) overlap") }
            for (k, point) in figure.points.enumerated() where k != i {
                let p = try figure.pixelPosition(x: point.x, y: point.y)
                XCTAssertFalse(box.contains(x: p.x, y: p.y), "label \(i) covers marker \(k)")
            }
        }
    }

    /// A plane 2.7 times as wide as tall, drawn at the height that fits the width, fills the width
    /// and leaves (almost) no empty band above or below.
    func testHeightFittingWidthRemovesEmptyBands() throws {
        var figure = Samples.landscape()
        figure.x = figure.x.map { $0 * 2 }
        figure.size = FigureSize(widthInches: 3.4, heightInches: 2.8, dpi: 100)
        let tall = try figure.layout()
        let height = try figure.heightFittingWidth()
        XCTAssertLessThan(height, 2.8)
        figure.size.heightInches = height
        let fitted = try figure.layout()
        XCTAssertEqual(fitted.plotRect.width, tall.plotRect.width, accuracy: 1.5, "still as wide")
        XCTAssertEqual(fitted.plotRect.height * 4 / 1.5, fitted.plotRect.width, accuracy: 2, "equal aspect: x spans 4, y 1.5")
        figure.size.heightInches = height - 0.1
        XCTAssertLessThan(try figure.layout().plotRect.width, fitted.plotRect.width - 5, "any less height and the width shrinks")
    }
}
