import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinHDF5
import BasinPlot
import Foundation

/// The metrics a landscape file can hold: test loss and error always, train with --train.
enum LandscapeMetric: String, CaseIterable, ExpressibleByArgument {
    case testError = "test_error", testLoss = "test_loss", trainLoss = "train_loss", trainError = "train_error"

    var display: DisplayMetric {
        switch self {
        case .testError: return DisplayMetric(name: rawValue, label: "test error (%)", scale: 100)
        case .testLoss: return DisplayMetric(name: rawValue, label: "test loss", scale: 1)
        case .trainLoss: return DisplayMetric(name: rawValue, label: "train loss", scale: 1)
        case .trainError: return DisplayMetric(name: rawValue, label: "train error (%)", scale: 100)
        }
    }

    /// The metric's cells, scaled for display (NaN where not computed).
    func values(_ grid: LandscapeGrid, path: String, command: String) throws -> [Double] {
        let raw: [Double]
        switch self {
        case .testError: raw = grid.error
        case .testLoss: raw = grid.loss
        case .trainLoss, .trainError:
            guard let loss = grid.trainLoss, let error = grid.trainError else {
                throw PlotInputError("\(path) holds no training split, so no \(rawValue): compute it with basin \(command) --train")
            }
            raw = self == .trainLoss ? loss : error
        }
        let scale = display.scale
        return raw.map { $0 * scale }
    }
}

/// Reads a landscape file for a figure, with errors that name the file and say what it is instead.
func readLandscape(_ path: String, for figure: String) throws -> LandscapeGrid {
    let format = try resultsFormat(path, what: "landscape file written by basin plane, surface or simplex")
    guard format == LandscapeGrid.formatName else {
        let hint = format == "basin-interpolation" ? " (plot it with basin plot interpolation)" : ""
        throw PlotInputError("\(path) is a \(format) file, not a landscape file written by basin plane, surface or simplex\(hint)")
    }
    let grid: LandscapeGrid
    do { grid = try LandscapeGrid.read(path: path) } catch { throw PlotInputError("\(error)") }
    guard grid.cellsDone > 0 else { throw PlotInputError("\(path) holds no computed cell yet (\(grid.kind) still to be run)") }
    if grid.missingCount > 0 {
        let why = grid.shardCount > 1 ? "it is shard \(grid.shardIndex)/\(grid.shardCount); join the shards with basin merge"
            : "still being computed, or interrupted: rerun the same command to resume"
        warn("\(path): \(grid.missingCount) of \(grid.domainCount) cells not computed (\(why)); drawn gray")
    }
    return grid
}

/// The role of a point: from the landscape file, else from the checkpoint itself when it is
/// still there with the same SHA-256, else unknown.
func pointRole(_ point: LandscapePoint, resultsFile: String) -> PointRole {
    var role = point.role
    if role == nil, let path = resolveStoredPath(point.label, relativeTo: resultsFile),
       (try? BasinHDF5.sha256(ofFile: path)) == point.sha256,
       let file = try? HDF5File.open(path: path), case .string(let stored)? = try? file.root.attribute("role") {
        role = stored
    }
    return role.flatMap(PointRole.init(rawValue:)) ?? .other
}

/// `basin plot plane S.h5`: a metric over a plane (or a 2-D surface) with its checkpoints.
struct PlotPlane: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plane",
        abstract: "Heatmap of a plane (basin plane) or 2-D surface (basin surface) with contours and checkpoints.",
        discussion: "Axes are the plane coordinates (distances in weight space along u and v; for a surface, multiples "
            + "of the random directions) at equal aspect. Every defining and projected checkpoint is a marker whose "
            + "shape says its role (square pre-trained, circle fine-tuned, triangle snapshot, star soup, cross unknown).")

    @Argument(help: "Landscape file written by basin plane or basin surface --dims 2.") var file: String
    @Option(help: "test_error, test_loss, train_loss or train_error (train needs --train when computing).")
    var metric: LandscapeMetric = .testError
    @OptionGroup var figure: FigureOptions
    @OptionGroup var color: ColorOptions
    @OptionGroup var contours: ContourOptions
    @Option(help: "Comma-separated point labels in file order (A, B, C, then projected); empty keeps the default.")
    var pointLabels: String?
    @Flag(help: "Draw the markers without labels.") var noPointLabels = false
    @Flag(help: "Draw no checkpoints.") var noPoints = false
    @Option(help: "Label of the x axis.") var xlabel: String?
    @Option(help: "Label of the y axis.") var ylabel: String?

    func run() throws {
        let grid = try readLandscape(file, for: "plane")
        switch grid.kind {
        case "plane", "surface": break
        case "simplex": throw PlotInputError("\(file) is a simplex grid; plot it with basin plot simplex")
        default: throw PlotInputError("\(file) is a landscape of unknown kind '\(grid.kind)'")
        }
        guard grid.nx >= 2, grid.ny >= 2 else {
            throw PlotInputError("\(file) is a \(grid.nx) x \(grid.ny) grid (a 1-D surface); a plane figure needs at least 2 x 2")
        }
        let flat = try metric.values(grid, path: file, command: grid.kind)
        let values = (0..<grid.ny).map { iy in Array(flat[(iy * grid.nx)..<((iy + 1) * grid.nx)]) }

        let all = grid.inputs + grid.projected
        var labels = shortLabels(all.map(\.label))
        if let pointLabels {
            let given = commaList(pointLabels)
            guard given.count <= all.count else {
                throw ValidationError("--point-labels has \(given.count) entries but \(file) holds \(all.count) points")
            }
            for (i, text) in given.enumerated() where !text.isEmpty { labels[i] = text }
        }
        var points: [PlanePoint] = []
        if !noPoints {
            let xr = grid.x[0]...grid.x[grid.nx - 1], yr = grid.y[0]...grid.y[grid.ny - 1]
            for (point, label) in zip(all, labels) {
                guard xr.contains(point.x), yr.contains(point.y) else {
                    warn("\(label) at (\(formatNumber(point.x)), \(formatNumber(point.y))) lies outside the grid; not drawn")
                    continue
                }
                points.append(PlanePoint(x: point.x, y: point.y, role: pointRole(point, resultsFile: file),
                                         label: noPointLabels ? nil : label))
            }
        }
        let surface = grid.kind == "surface"
        var heatmap = PlaneHeatmap(
            x: grid.x, y: grid.y, values: values, metricLabel: metric.display.label, title: figure.title,
            xLabel: xlabel ?? (surface ? "direction 1" : "u: along C \u{2212} A"),
            yLabel: ylabel ?? (surface ? "direction 2" : "v: towards B"),
            logScale: color.log, colormap: try color.parsedColormap(), colorRange: color.range,
            contours: try contours.parsedLevels(), labelContours: !contours.noContourLabels, points: points,
            size: figure.figureSize(height: 2.8))
        // A wide plane at equal aspect leaves empty bands above and below: by default the figure
        // is only as tall as the plot at full width needs (at most 2.8 in, at least 1.6 in).
        if figure.defaultHeight {
            heatmap.size.heightInches = min(2.8, max(1.6, try heatmap.heightFittingWidth()))
        }
        try figure.write(heatmap, kind: "plane", sources: [file], extra: [("Metric", metric.rawValue)])
        let layout = try heatmap.layout()
        printRecord([("figure", "plane"), ("metric", metric.rawValue), ("out", figure.out),
                     ("width", String(heatmap.size.pixelWidth)), ("height", String(heatmap.size.pixelHeight))])
        printRecord([("plot_box", box(layout.plotRect)), ("colorbar_box", box(layout.colorbarRect))])
        for point in points {
            let p = layout.pixel(x: point.x, y: point.y)
            printRecord([("point", point.label ?? ""), ("role", point.role.rawValue), ("x", formatNumber(point.x)),
                         ("y", formatNumber(point.y)), ("px", String(format: "%.2f", p.x)), ("py", String(format: "%.2f", p.y))])
        }
    }
}

/// A pixel rectangle as x0,y0,x1,y1.
func box(_ rect: PixelRect) -> String {
    [rect.minX, rect.minY, rect.maxX, rect.maxY].map { String(format: "%.2f", $0) }.joined(separator: ",")
}

/// `basin plot simplex S.h5`: a metric over the triangle of three checkpoints.
struct PlotSimplex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simplex",
        abstract: "Loss or error over the triangle of convex combinations of three checkpoints (basin simplex).",
        discussion: "A at the bottom left, B at the bottom right, C at the top; every point inside is the weighted "
            + "average with its barycentric coordinates as weights.")

    @Argument(help: "Simplex file written by basin simplex.") var file: String
    @Option(help: "test_error, test_loss, train_loss or train_error (train needs --train when computing).")
    var metric: LandscapeMetric = .testError
    @OptionGroup var figure: FigureOptions
    @OptionGroup var color: ColorOptions
    @OptionGroup var contours: ContourOptions
    @Option(help: "Comma-separated labels of the corners A, B, C (default: their file names).") var vertexLabels: String?

    func run() throws {
        let grid = try readLandscape(file, for: "simplex")
        guard grid.kind == "simplex" else {
            throw PlotInputError("\(file) is a \(grid.kind) grid, not a simplex; compute one with basin simplex A.h5 B.h5 C.h5")
        }
        guard grid.nx == grid.ny, grid.nx >= 2, grid.inputs.count == 3 else {
            throw PlotInputError("\(file) is not a well-formed simplex grid (\(grid.nx) x \(grid.ny), \(grid.inputs.count) corners)")
        }
        let n = grid.nx - 1
        let flat = try metric.values(grid, path: file, command: "simplex")
        // values[i][j]: weight i/n on A (x index), j/n on B (y index).
        let values = (0...n).map { i in (0...(n - i)).map { j in flat[j * grid.nx + i] } }
        var labels = shortLabels(grid.inputs.map(\.label))
        if let vertexLabels {
            let given = commaList(vertexLabels)
            guard given.count == 3 else { throw ValidationError("--vertex-labels needs three labels, got \(given.count)") }
            for (i, text) in given.enumerated() where !text.isEmpty { labels[i] = text }
        }
        var plot = SimplexPlot(resolution: n, values: values, vertexLabels: labels, metricLabel: metric.display.label,
                               title: figure.title, colormap: try color.parsedColormap(), logScale: color.log,
                               colorRange: color.range, contours: try contours.parsedLevels(),
                               labelContours: !contours.noContourLabels, size: figure.figureSize(height: 2.8))
        if figure.defaultHeight { plot.size.heightInches = min(2.8, max(1.6, try plot.heightFittingWidth())) }
        try figure.write(plot, kind: "simplex", sources: [file], extra: [("Metric", metric.rawValue)])
        printRecord([("figure", "simplex"), ("metric", metric.rawValue), ("out", figure.out),
                     ("width", String(plot.size.pixelWidth)), ("height", String(plot.size.pixelHeight))])
        for (k, (a, b)) in [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)].enumerated() {
            let p = try plot.pixelPosition(weightA: a, weightB: b)
            printRecord([("vertex", labels[k]), ("px", String(format: "%.2f", p.x)), ("py", String(format: "%.2f", p.y))])
        }
    }
}
