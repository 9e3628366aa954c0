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

extension Samples {
    /// Interpolation between two fine-tuned models: a loss barrier in the middle, with seed bands.
    static func interpolation() -> LineChart {
        let alphas = (0...20).map { Double($0) / 20 }
        func bump(_ height: Double, _ base: Double, _ tilt: Double) -> [Double] {
            alphas.map { base + tilt * $0 + height * sin(Double.pi * $0) * sin(Double.pi * $0) }
        }
        let lossFine = bump(0.9, 0.32, 0.03), lossSoup = bump(0.15, 0.30, 0.02)
        let errorFine = bump(14, 9.5, 0.4), errorSoup = bump(2.5, 9.2, 0.2)
        func band(_ values: [Double], _ spread: Double) -> ([Double], [Double]) {
            (values.map { $0 - spread }, values.map { $0 + spread })
        }
        let (lossLow, lossHigh) = band(lossFine, 0.06), (errorLow, errorHigh) = band(errorFine, 1.2)
        let loss = LinePanel(title: "Test loss", xLabel: "interpolation α", yLabel: "loss", series: [
            LineSeries(name: "fine-tuned ↔ fine-tuned", x: alphas, y: lossFine, lower: lossLow, upper: lossHigh),
            LineSeries(name: "within basin", x: alphas, y: lossSoup, style: .dashed, marker: .circle),
        ], marks: [AxisMark(.vertical, at: 0.5, label: "barrier")])
        let error = LinePanel(title: "Test error", xLabel: "interpolation α", yLabel: "error (%)", series: [
            LineSeries(name: "fine-tuned ↔ fine-tuned", x: alphas, y: errorFine, lower: errorLow, upper: errorHigh),
            LineSeries(name: "within basin", x: alphas, y: errorSoup, style: .dashed, marker: .circle),
        ], marks: [AxisMark(.horizontal, at: 9.5, label: "ensemble")])
        return LineChart(panels: [loss, error], size: FigureSize(widthInches: 6.8, heightInches: 2.4))
    }

    /// Accuracy of SSE and StarSSE over cycle LR ratio x cycle epoch ratio.
    static func sweep() -> AnnotatedHeatmap {
        let lrRatios = ["0.25", "0.5", "1", "2", "4"], epochRatios = ["0.25", "0.5", "1"]
        func panel(_ title: String, _ offset: Double) -> MatrixPanel {
            MatrixPanel(title: title, values: lrRatios.indices.map { row in
                epochRatios.indices.map { column in
                    if title == "SSE" && row == 4 && column == 0 { return .nan }
                    return 91.0 + offset + 0.9 * Double(column) - 0.35 * Double((row - 2) * (row - 2))
                }
            })
        }
        return AnnotatedHeatmap(panels: [panel("SSE", 0), panel("StarSSE", 0.6)], rowLabels: lrRatios,
                                columnLabels: epochRatios, rowTitle: "cycle LR ratio", columnTitle: "cycle epoch ratio",
                                valueLabel: "ensemble accuracy (%)")
    }

    /// Loss over convex combinations of three fine-tuned checkpoints.
    static func simplex(resolution n: Int = 20) -> SimplexPlot {
        let values = (0...n).map { i in
            (0...(n - i)).map { j -> Double in
                let a = Double(i) / Double(n), b = Double(j) / Double(n), c = 1 - a - b
                return 0.3 + 1.6 * (a * b + b * c + a * c) - 0.25 * (a * b * c) * 9 + 0.05 * a
            }
        }
        return SimplexPlot(resolution: n, values: values, vertexLabels: ["θ₁", "θ₂", "θ₃"], metricLabel: "test loss",
                           title: "Loss on the simplex", colormap: .magma, labelContours: true)
    }
}
