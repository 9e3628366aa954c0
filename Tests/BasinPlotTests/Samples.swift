import BasinPlot
import Foundation
import XCTest

/// Realistic synthetic inputs shared by the tests and the sample renders.
enum Samples {
    static let metadata = PNGMetadata(software: "basin 0.1.0-test", command: "basin plot plane --metric loss",
                                      sources: ["runs/plane.h5", "runs/points.json"], extra: [("Metric", "test loss")])

    /// A loss landscape with three basins (pre-trained at the origin, two fine-tuned nearby).
    static func landscape(columns: Int = 41, rows: Int = 31) -> PlaneHeatmap {
        let x = (0..<columns).map { -0.5 + 2.0 * Double($0) / Double(columns - 1) }
        let y = (0..<rows).map { -0.4 + 1.5 * Double($0) / Double(rows - 1) }
        let basins: [(Double, Double, Double, Double)] = [(0, 0, 0.35, 0.9), (1, 0, 0.25, 0.7), (0.45, 0.8, 0.2, 0.6)]
        let values = y.map { yv in
            x.map { xv -> Double in
                var loss = 2.3
                for (cx, cy, width, depth) in basins {
                    loss -= depth * exp(-((xv - cx) * (xv - cx) + (yv - cy) * (yv - cy)) / (2 * width * width))
                }
                return loss + 0.15 * (xv * xv + yv * yv)
            }
        }
        return PlaneHeatmap(x: x, y: y, values: values, metricLabel: "test loss", title: "Loss on the plane",
                            xLabel: "direction 1", yLabel: "direction 2",
                            points: [PlanePoint(x: 0, y: 0, role: .pretrained, label: "pre-trained"),
                                     PlanePoint(x: 1, y: 0, role: .finetuned, label: "θ₁"),
                                     PlanePoint(x: 0.45, y: 0.8, role: .finetuned, label: "θ₂"),
                                     PlanePoint(x: 0.48, y: 0.27, role: .soup, label: "soup"),
                                     PlanePoint(x: 0.7, y: 0.1, role: .snapshot),
                                     PlanePoint(x: 1.3, y: 0.9, role: .other, label: "other")])
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "basin-plot-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Also keep a copy for people to look at when BASIN_PLOT_SAMPLES names a folder.
    static func keep(_ figure: Figure, name: String) throws {
        guard let folder = ProcessInfo.processInfo.environment["BASIN_PLOT_SAMPLES"] else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try figure.render(to: folder + "/" + name, metadata: metadata)
    }
}
