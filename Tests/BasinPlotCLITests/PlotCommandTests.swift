import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinHDF5
import BasinPlot
import Foundation
import TestSupport
import XCTest

/// `basin plot` through the built binary: tiny results files written here, PNGs read back with libpng.
final class PlotCommandTests: TemporaryFolderTestCase {
    override var folderPrefix: String { "basin-plot-cli" }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: basinBinary()) else {
            throw XCTSkip("no basin binary at \(basinBinary()) (run swift build -c release or make test)")
        }
        try super.setUpWithError()
    }

    // MARK: fixtures

    /// A plane over x in [-1, 3], y in [-0.5, 2] with loss = 0.1 + x^2 + y^2 (error = loss / 10),
    /// A pre-trained at (0, 0), B fine-tuned at (1, 1.5), C snapshot at (2, 0), a soup projected at (1, 0.5).
    func writePlane(_ name: String, kind: String = "plane", train: Bool = false, nx: Int = 9, ny: Int = 6,
                    roles: Bool = true) throws {
        let x = linspace(-1, 3, nx), y = linspace(-0.5, 2, ny)
        let role = { (r: String) in roles ? r : nil }
        let inputs = [LandscapePoint(label: "runs/pt.h5", sha256: "a", x: 0, y: 0, distance: 0, role: role("pretrained")),
                      LandscapePoint(label: "runs/ft.h5", sha256: "b", x: 1, y: 1.5, distance: 0, role: role("finetuned")),
                      LandscapePoint(label: "runs/sse-2.h5", sha256: "c", x: 2, y: 0, distance: 0, role: role("snapshot"))]
        let projected = [LandscapePoint(label: "runs/soup.h5", sha256: "d", x: 1, y: 0.5, distance: 0.3, role: role("soup"))]
        var grid = LandscapeGrid(kind: kind, architecture: "cnn", numClasses: 5, x: x, y: y, settings: ["margin": .float64(0.2)],
                                 origin: [0, 0, 0], u: [1, 0, 0], v: [0, 1, 0], inputs: inputs, projected: projected, train: train)
        for iy in 0..<ny {
            for ix in 0..<nx {
                let cell = iy * nx + ix
                grid.loss[cell] = 0.1 + x[ix] * x[ix] + y[iy] * y[iy]
                grid.error[cell] = grid.loss[cell] / 10
                grid.trainLoss?[cell] = grid.loss[cell] / 2
                grid.trainError?[cell] = grid.loss[cell] / 20
                grid.done[cell] = 1
            }
        }
        try grid.write(to: path(name))
    }

    /// A simplex of resolution n with loss = 1 + (weight of A).
    func writeSimplex(_ name: String, n: Int = 4) throws {
        let axis = linspace(0, 1, n + 1)
        let corners = [LandscapePoint(label: "a/m1.h5", sha256: "a", x: 1, y: 0, distance: 0, role: "finetuned"),
                       LandscapePoint(label: "b/m2.h5", sha256: "b", x: 0, y: 1, distance: 0, role: "snapshot"),
                       LandscapePoint(label: "c/m3.h5", sha256: "c", x: 0, y: 0, distance: 0, role: "snapshot")]
        var grid = LandscapeGrid(kind: "simplex", architecture: "cnn", numClasses: 5, x: axis, y: axis,
                                 settings: ["resolution": .int64(Int64(n))], origin: [0, 0], u: [1, 0], v: [0, 1],
                                 inputs: corners, projected: [])
        for cell in 0..<grid.cellCount where grid.inDomain(cell) {
            grid.loss[cell] = 1 + axis[cell % (n + 1)]
            grid.error[cell] = 0.1 + 0.1 * axis[cell / (n + 1)]
            grid.done[cell] = 1
        }
        try grid.write(to: path(name))
    }

    /// A `basin interpolate` file (docs/ANALYSIS.md) with a bump of `height` in the middle of the loss.
    func writeInterpolation(_ name: String, a: String, b: String, height: Double, train: Bool = true) throws {
        let alpha = linspace(0, 1, 11)
        let loss = alpha.map { 0.5 + 0.1 * $0 + height * sin(Double.pi * $0) }
        let error = alpha.map { 0.2 + height / 4 * sin(Double.pi * $0) }
        try HDF5File.writeAtomically(path: path(name)) { root in
            try root.setAttribute("format", .string("basin-interpolation"))
            try root.setAttribute("format_version", .int64(1))
            try root.setAttribute("a_path", .string(a))
            try root.setAttribute("b_path", .string(b))
            try root.writeDataset("alpha", HDF5Array(shape: [11], values: .float64(alpha)))
            for split in train ? ["test", "train"] : ["test"] {
                let g = try root.createGroup(split)
                let shift = split == "train" ? -0.2 : 0
                try g.writeDataset("loss", HDF5Array(shape: [11], values: .float64(loss.map { $0 + shift })))
                try g.writeDataset("error", HDF5Array(shape: [11], values: .float64(error)))
                let l = try SegmentBarriers(alphas: alpha, values: loss), e = try SegmentBarriers(alphas: alpha, values: error)
                for (metric, barrier) in [("loss", l), ("error", e)] {
                    try g.setAttribute("barrier_\(metric)", .float64(barrier.linear.value))
                    try g.setAttribute("barrier_\(metric)_alpha", .float64(barrier.linear.alpha))
                    try g.setAttribute("barrier_\(metric)_mean", .float64(barrier.mean.value))
                    try g.setAttribute("barrier_\(metric)_mean_alpha", .float64(barrier.mean.alpha))
                }
            }
        }
    }

    func write(_ text: String, to name: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    // MARK: running

    func run(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runBasin(args)
        XCTAssertEqual(r.status, 0, "basin \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    /// A non-zero exit (not a crash) with exactly one error line that mentions `mentioning`, and no figure.
    func assertFails(_ args: [String], mentioning: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = args.firstIndex(of: "-o").map { args[$0 + 1] }
        if let out { try? FileManager.default.removeItem(atPath: out) }
        let r = try runBasin(args)
        XCTAssertEqual(r.reason, .exit, "basin crashed: \(r.stderr)", file: file, line: line)
        XCTAssertNotEqual(r.status, 0, "basin \(args.joined(separator: " ")) succeeded", file: file, line: line)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error") }
        XCTAssertEqual(errors.count, 1, "one error line expected: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(errors.first?.contains(mentioning) ?? false, "'\(r.stderr)' does not mention '\(mentioning)'",
                      file: file, line: line)
        if let out { XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a figure was written", file: file, line: line) }
    }

    /// Values of `key` on every stdout line that has it.
    func values(_ key: String, in stdout: String) -> [String] {
        stdout.split(separator: "\n").flatMap { line in
            line.split(separator: " ").filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
    }

    func numbers(_ text: String) -> [Double] { text.split(separator: ",").compactMap { Double($0) } }

    func assertColor(_ image: PNGImage, _ x: Int, _ y: Int, _ expected: Color, tolerance: Int = 3, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        let p = image.pixel(x: x, y: y)
        let want = [expected.red, expected.green, expected.blue].map { Int(($0 * 255).rounded()) }
        let got = [Int(p.r), Int(p.g), Int(p.b)]
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what) at (\(x), \(y)): got \(got), expected \(want)", file: file, line: line)
    }

    // MARK: tests

    func testPlaneSizeColorbarMarkersAndTextChunks() throws {
        try writePlane("s.h5")
        let out = try run(["plot", "plane", path("s.h5"), "--metric", "test_loss", "-o", path("plane.png"),
                           "--width", "4", "--height", "3", "--dpi", "100", "--levels", "none", "--title", "Plane"])
        let image = try PNGImage.read(path: path("plane.png"))
        XCTAssertEqual(image.width, 400)
        XCTAssertEqual(image.height, 300)
        XCTAssertEqual(image.dpi ?? 0, 100, accuracy: 0.01, "pHYs records the resolution")

        // Provenance chunks.
        XCTAssertEqual(image.text(forKey: "Software"), "basin \(BasinCheckpoint.basinVersion)")
        XCTAssertTrue(image.text(forKey: "Command")?.contains("plot plane") ?? false, image.text(forKey: "Command") ?? "nil")
        XCTAssertTrue(image.text(forKey: "Command")?.contains("--metric test_loss") ?? false)
        XCTAssertEqual(image.text(forKey: "Source"), path("s.h5"))
        XCTAssertEqual(image.text(forKey: "Source SHA-256"), try sha256(ofFile: path("s.h5")))
        XCTAssertEqual(image.text(forKey: "Metric"), "test_loss")

        // The colorbar's rows follow viridis from the bottom (low) to the top (high).
        let bar = numbers(values("colorbar_box", in: out).first ?? "")
        XCTAssertEqual(bar.count, 4)
        let (bx0, by0, bx1, by1) = (bar[0], bar[1], bar[2], bar[3])
        let column = Int((bx0 + bx1) / 2)
        for row in stride(from: Int(by0) + 2, through: Int(by1) - 3, by: 7) {
            let t = 1 - (Double(row) - by0 + 0.5) / (by1 - by0)
            assertColor(image, column, row, Colormap.viridis.color(at: t), "colorbar row \(row)")
        }

        // Equal aspect: one data unit is as many pixels along x as along y.
        let plot = numbers(values("plot_box", in: out).first ?? "")
        XCTAssertEqual(plot.count, 4)
        let unitX = (plot[2] - plot[0]) / 4, unitY = (plot[3] - plot[1]) / 2.5
        XCTAssertEqual(unitX, unitY, accuracy: 0.01 * unitX)

        // Each marker sits where its coordinates map, filled with its role's color.
        let roles = values("role", in: out), xs = values("px", in: out), ys = values("py", in: out)
        XCTAssertEqual(roles, ["pretrained", "finetuned", "snapshot", "soup"])
        let data: [(Double, Double)] = [(0, 0), (1, 1.5), (2, 0), (1, 0.5)]
        for (k, role) in roles.enumerated() {
            let expectedX = plot[0] + (data[k].0 + 1) / 4 * (plot[2] - plot[0])
            let expectedY = plot[3] - (data[k].1 + 0.5) / 2.5 * (plot[3] - plot[1])
            XCTAssertEqual(Double(xs[k])!, expectedX, accuracy: 0.5, role)
            XCTAssertEqual(Double(ys[k])!, expectedY, accuracy: 0.5, role)
            assertColor(image, Int(expectedX), Int(expectedY), PointRole(rawValue: role)!.color, tolerance: 8, "\(role) marker")
        }
        // Away from the markers the heatmap shows the colormap: the corner (3, 2) holds the largest loss.
        assertColor(image, Int(plot[2]) - 2, Int(plot[1]) + 2, Colormap.viridis.color(at: 1), tolerance: 12, "top right cell")
        assertColor(image, Int(plot[0]) + 2, Int(plot[3]) - 2, Colormap.viridis.color(at: (0.1 + 1 + 0.25 - 0.1) / 13), tolerance: 12,
                    "bottom left cell")
    }

    func testPlaneRolesFromCheckpointsTrainMetricsAndSurfaces() throws {
        // Without stored roles a point takes the role of its checkpoint file when that is still there.
        let model = Model(.mlp, numClasses: 5, seed: 0)
        let pt = path("pt.h5")
        try writeCheckpoint(Checkpoint(model: model, metadata: CheckpointMetadata(architecture: "mlp", numClasses: 5, role: .pretrained)),
                            to: pt)
        let x = linspace(-1, 1, 3)
        var grid = LandscapeGrid(kind: "plane", architecture: "mlp", numClasses: 5, x: x, y: x, settings: [:], origin: [0], u: [1],
                                 v: [0], inputs: [LandscapePoint(label: pt, sha256: try sha256(ofFile: pt), x: 0, y: 0, distance: 0),
                                                  LandscapePoint(label: path("gone.h5"), sha256: "x", x: 0.5, y: 0.5, distance: 0)],
                                 projected: [])
        grid.loss = (0..<9).map { Double($0) + 1 }
        grid.error = grid.loss.map { $0 / 10 }
        grid.done = [Int64](repeating: 1, count: 9)
        try grid.write(to: path("old.h5"))
        let out = try run(["plot", "plane", path("old.h5"), "-o", path("old.png"), "--dpi", "60"])
        XCTAssertEqual(values("role", in: out), ["pretrained", "other"])

        // Training metrics need a grid computed with --train.
        try writePlane("t.h5", train: true)
        _ = try run(["plot", "plane", path("t.h5"), "--metric", "train_loss", "--log", "-o", path("t.png"), "--dpi", "60"])
        XCTAssertEqual(try PNGImage.read(path: path("t.png")).text(forKey: "Metric"), "train_loss")
        try writePlane("s.h5")
        try assertFails(["plot", "plane", path("s.h5"), "--metric", "train_error", "-o", path("x.png")], mentioning: "--train")

        // A 2-D surface is drawn like a plane; a 1-D one is refused.
        try writePlane("surface.h5", kind: "surface")
        _ = try run(["plot", "plane", path("surface.h5"), "-o", path("surface.png"), "--size", "3x2.5", "--dpi", "80"])
        let surface = try PNGImage.read(path: path("surface.png"))
        XCTAssertEqual([surface.width, surface.height], [240, 200])
        try writePlane("line.h5", kind: "surface", ny: 1)
        try assertFails(["plot", "plane", path("line.h5"), "-o", path("x.png")], mentioning: "1-D")
    }

    func testShardWithMissingCellsIsDrawnGrayWithAWarning() throws {
        try writePlane("full.h5")
        var grid = try LandscapeGrid.read(path: path("full.h5"))
        grid.shardIndex = 1
        grid.shardCount = 2
        for cell in 0..<grid.cellCount where cell % 9 >= 6 && cell / 9 >= 3 {
            grid.loss[cell] = .nan
            grid.error[cell] = .nan
            grid.done[cell] = 0
        }
        try grid.write(to: path("shard.h5"))
        let r = try runBasin(["plot", "plane", path("shard.h5"), "--metric", "test_loss", "--levels", "none", "-o", path("shard.png"),
                              "--dpi", "100"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("9 of 54 cells not computed") && r.stderr.contains("basin merge"), r.stderr)
        let plot = numbers(values("plot_box", in: r.stdout).first ?? "")
        let image = try PNGImage.read(path: path("shard.png"))
        // Data (2.75, 1.75) lies inside the missing block x >= 2, y >= 1; (-0.75, -0.25) in computed cells.
        let gx = Int(plot[0] + 3.75 / 4 * (plot[2] - plot[0])), gy = Int(plot[3] - 2.25 / 2.5 * (plot[3] - plot[1]))
        assertColor(image, gx, gy, Color.missing, "missing cell")
        let cx = Int(plot[0] + 0.25 / 4 * (plot[2] - plot[0])), cy = Int(plot[3] - 0.25 / 2.5 * (plot[3] - plot[1]))
        let p = image.pixel(x: cx, y: cy)
        XCTAssertNotEqual([p.r, p.g, p.b], [0xBD, 0xBD, 0xBD], "computed cells are not gray")
    }

    func testSimplexFigure() throws {
        try writeSimplex("simplex.h5")
        let out = try run(["plot", "simplex", path("simplex.h5"), "--metric", "test_loss", "-o", path("simplex.png"),
                           "--width", "3", "--height", "2.5", "--dpi", "100", "--levels", "none"])
        let image = try PNGImage.read(path: path("simplex.png"))
        XCTAssertEqual([image.width, image.height], [300, 250])
        XCTAssertEqual(values("vertex", in: out), ["a/m1", "b/m2", "c/m3"], "file names with their folder")
        XCTAssertEqual(image.text(forKey: "Source"), path("simplex.h5"))
        // Loss grows with the weight of A (bottom left). 12% of the way from a corner to the centre the
        // corner's weight is 1 - 0.12 * 2 / 3 = 0.92 and each other corner's 0.04.
        let px = values("px", in: out).compactMap(Double.init), py = values("py", in: out).compactMap(Double.init)
        XCTAssertEqual(px.count, 3)
        func inward(_ k: Int) -> (Int, Int) {
            let cx = px.reduce(0, +) / 3, cy = py.reduce(0, +) / 3
            return (Int(px[k] + 0.12 * (cx - px[k])), Int(py[k] + 0.12 * (cy - py[k])))
        }
        let (ax, ay) = inward(0), (bx, by) = inward(1)
        assertColor(image, ax, ay, Colormap.viridis.color(at: 0.92), tolerance: 6, "near A")
        assertColor(image, bx, by, Colormap.viridis.color(at: 0.04), tolerance: 6, "near B")
        XCTAssertLessThan(px[0], px[1])
        XCTAssertLessThan(py[2], py[0], "C at the top")

        try writePlane("plane.h5")
        try assertFails(["plot", "simplex", path("plane.h5"), "-o", path("x.png")], mentioning: "basin simplex")
        try assertFails(["plot", "plane", path("simplex.h5"), "-o", path("x.png")], mentioning: "plot simplex")
    }

    func testInterpolationCurves() throws {
        try writeInterpolation("r1.h5", a: "local/member-1.h5", b: "sse/member-2.h5", height: 0.3)
        try writeInterpolation("r2.h5", a: "local/member-1.h5", b: "local/member-2.h5", height: 1.0, train: false)
        let out = try run(["plot", "interpolation", path("r1.h5"), path("r2.h5"), "--labels", "SSE,DE", "-o", path("i.png"),
                           "--dpi", "100"])
        let image = try PNGImage.read(path: path("i.png"))
        XCTAssertEqual([image.width, image.height], [340, 230])
        XCTAssertEqual(image.text(forKey: "Source"), path("r1.h5") + "\n" + path("r2.h5"))
        // Barriers: test and train of r1, test of r2, in loss and error panels.
        let barriers = values("barrier", in: out).compactMap(Double.init)
        XCTAssertEqual(barriers.count, 6)
        let expected = try SegmentBarriers(alphas: linspace(0, 1, 11),
                                           values: linspace(0, 1, 11).map { 0.5 + 0.1 * $0 + sin(Double.pi * $0) })
        XCTAssertTrue(barriers.contains { abs($0 - expected.linear.value) < 1e-6 }, "\(barriers)")
        // Figures keep the series' colors: some pixels carry the first and second palette colors.
        var seen = [false, false]
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image.pixel(x: x, y: y)
                for k in 0..<2 {
                    let c = Color.cycle[k]
                    if abs(Int(p.r) - Int(c.red * 255)) < 4, abs(Int(p.g) - Int(c.green * 255)) < 4,
                       abs(Int(p.b) - Int(c.blue * 255)) < 4 { seen[k] = true }
                }
            }
        }
        XCTAssertEqual(seen, [true, true])
        try assertFails(["plot", "interpolation", path("r1.h5"), "--labels", "a,b", "-o", path("x.png")], mentioning: "--labels")
        try assertFails(["plot", "interpolation", path("r1.h5"), "--splits", "train", "--metrics", "accuracy", "-o", path("x.png")],
                        mentioning: "--metrics")
    }

    func testEnsembleCurvesWithBands() throws {
        try write("""
            method,kind,size,accuracy,nll,brier,ece,dee,dee_bound
            local,ensemble,1,0.80,0.50,0.3,0.02,,
            local,ensemble,2,0.82,0.45,0.3,0.02,,
            local,ensemble,3,0.83,0.43,0.3,0.02,,
            local,member_mean,3,0.80,0.50,0.3,0.02,,
            sse,ensemble,1,0.80,0.50,0.3,0.02,,
            sse,ensemble,2,0.84,0.44,0.3,0.02,,
            sse,ensemble,3,0.85,0.41,0.3,0.02,,

            """, to: "m1.csv")
        try write("""
            method,kind,size,accuracy,nll,brier,ece,dee,dee_bound
            local,ensemble,1,0.78,0.52,0.3,0.02,,
            local,ensemble,2,0.81,0.46,0.3,0.02,,
            local,ensemble,3,0.82,0.44,0.3,0.02,,

            """, to: "m2.csv")
        let out = try run(["plot", "ensembles", path("m1.csv"), path("m2.csv"), "-o", path("e.png"), "--dpi", "100",
                           "--member-mean"])
        XCTAssertEqual(values("runs", in: out), ["local:2,sse:1"])
        let image = try PNGImage.read(path: path("e.png"))
        XCTAssertEqual([image.width, image.height], [340, 240])
        XCTAssertEqual(image.text(forKey: "Metric"), "accuracy")
        // The band of local (two runs) is its color at 20% over white somewhere in the figure.
        let c = Color.cycle[0]
        let band = [c.red, c.green, c.blue].map { Int((0.2 * $0 + 0.8) * 255) }
        var found = false
        for y in 0..<image.height where !found {
            for x in 0..<image.width {
                let p = image.pixel(x: x, y: y)
                if abs(Int(p.r) - band[0]) <= 3, abs(Int(p.g) - band[1]) <= 3, abs(Int(p.b) - band[2]) <= 3 { found = true; break }
            }
        }
        XCTAssertTrue(found, "no band pixels")
        _ = try run(["plot", "ensembles", path("m1.csv"), "--metric", "nll", "--methods", "sse", "-o", path("n.png"), "--dpi", "60"])
        try assertFails(["plot", "ensembles", path("m1.csv"), "--metric", "auc", "-o", path("x.png")], mentioning: "auc")
        try assertFails(["plot", "ensembles", path("m1.csv"), "--methods", "fge", "-o", path("x.png")], mentioning: "fge")
    }

    func testSweepFromTableFolderAndInterpolations() throws {
        try write("""
            method,lr_ratio,epoch_ratio,ensemble_accuracy
            sse,0.5,1,0.80
            sse,2,1,0.82
            sse,0.5,2,0.81
            sse,2,2,0.84
            starsse,0.5,1,0.79
            starsse,2,1,0.83
            starsse,2,1,0.85
            starsse,2,2,0.86

            """, to: "sweep.csv")
        let out = try run(["plot", "sweep", path("sweep.csv"), "-o", path("sweep.png"), "--dpi", "100", "--csv", path("drawn.csv")])
        XCTAssertEqual(values("methods", in: out), ["sse,starsse"])
        XCTAssertEqual(values("lr_ratios", in: out), ["0.5,2"])
        XCTAssertEqual(values("cells", in: out), ["7"], "starsse (0.5, 2) was not run")
        let image = try PNGImage.read(path: path("sweep.png"))
        XCTAssertEqual([image.width, image.height], [340, 190])
        let drawn = try String(contentsOfFile: path("drawn.csv"), encoding: .utf8)
        XCTAssertTrue(drawn.hasPrefix("method,lr_ratio,epoch_ratio,ensemble_accuracy\n"))
        XCTAssertTrue(drawn.contains("starsse,2,1,0.84\n"), "repeated cells are averaged: \(drawn)")

        // A sweep folder: member 1 shared, each cell's members with saved predictions.
        let labels: [Int64] = [0, 1, 0, 1]
        func member(_ file: String, correct: [Bool]) throws {
            let probs = zip(labels, correct).flatMap { label, ok -> [Float] in
                let p: Float = ok ? 0.9 : 0.2
                return label == 0 ? [p, 1 - p] : [1 - p, p]
            }
            let model = Model(.mlp, numClasses: 2, seed: 0)
            let meta = CheckpointMetadata(architecture: "mlp", numClasses: 2, role: .snapshot)
            try writeCheckpoint(Checkpoint(model: model, metadata: meta,
                                           predictions: ["test": Predictions(probs: Tensor(shape: [4, 2], storage: probs), labels: labels)]),
                                to: file)
        }
        let sweep = path("sweep-sse")
        try FileManager.default.createDirectory(atPath: sweep + "/lr2_ep0.5", withIntermediateDirectories: true)
        try member(sweep + "/member-1.h5", correct: [true, true, false, false])
        try member(sweep + "/lr2_ep0.5/member-2.h5", correct: [true, false, true, false])
        let manifest = #"{"method": "sse", "n": 2, "members": [{"member": 1, "file": "../member-1.h5", "present": true}, "#
            + #"{"member": 2, "file": "member-2.h5", "present": true}]}"#
        try write(manifest, to: "sweep-sse/lr2_ep0.5/manifest.json")
        let folder = try run(["plot", "sweep", sweep, "--metric", "member_accuracy", "-o", path("f.png"), "--dpi", "60",
                              "--csv", path("f.csv")])
        XCTAssertEqual(values("epoch_ratios", in: folder), ["0.5"])
        XCTAssertTrue(try String(contentsOfFile: path("f.csv"), encoding: .utf8).contains("sse,2,0.5,0.5\n"), "member 2 gets 2 of 4")
        _ = try run(["plot", "sweep", sweep, "-o", path("g.png"), "--dpi", "60", "--csv", path("g.csv")])
        // Ensemble: mean probabilities 0.9/0.9 -> right, 0.9/0.2 -> 0.55 right, 0.2/0.9 -> right, 0.2/0.2 -> wrong: 3 of 4.
        XCTAssertTrue(try String(contentsOfFile: path("g.csv"), encoding: .utf8).contains("sse,2,0.5,0.75\n"))

        // Barriers from interpolation files whose B lies in a cell folder.
        try writeInterpolation("b.h5", a: sweep + "/member-1.h5", b: sweep + "/lr2_ep0.5/member-2.h5", height: 0.5)
        let barrier = try run(["plot", "sweep", path("b.h5"), "--metric", "barrier", "-o", path("b.png"), "--dpi", "60"])
        XCTAssertEqual(values("cells", in: barrier), ["1"])
        try assertFails(["plot", "sweep", sweep, "--metric", "barrier", "-o", path("x.png")], mentioning: "barrier")
        try assertFails(["plot", "sweep", path("sweep.csv"), "--metric", "member_accuracy", "-o", path("x.png")],
                        mentioning: "member_accuracy")
    }

    func testBadInputsGetOneLineErrors() throws {
        try write("", to: "empty.csv")
        try write("method,kind,size,accuracy\n", to: "header.csv")
        try write("method,kind,size,accuracy\nlocal,ensemble,two,0.8\n", to: "text.csv")
        try write("method,kind,size,accuracy\nlocal,ensemble,1,0.8\n", to: "accuracy.csv")
        try write("not a results file\n", to: "notes.txt")
        try writeInterpolation("r.h5", a: "a.h5", b: "b.h5", height: 0.1)
        try writePlane("s.h5")
        let checkpoint = path("ck.h5")
        try writeCheckpoint(Checkpoint(model: Model(.mlp, numClasses: 2, seed: 0),
                                       metadata: CheckpointMetadata(architecture: "mlp", numClasses: 2, role: .finetuned)), to: checkpoint)
        let o = ["-o", path("x.png")]
        try assertFails(["plot", "plane", path("missing.h5")] + o, mentioning: "missing.h5 does not exist")
        try assertFails(["plot", "plane", path("notes.txt")] + o, mentioning: "notes.txt is not an HDF5 file")
        try assertFails(["plot", "plane", checkpoint] + o, mentioning: "ck.h5 is a basin-checkpoint file, not a landscape file")
        try assertFails(["plot", "plane", path("r.h5")] + o, mentioning: "plot interpolation")
        try assertFails(["plot", "plane", path("s.h5"), "--metric", "accuracy"] + o, mentioning: "accuracy")
        try assertFails(["plot", "plane", path("s.h5"), "--colormap", "jet"] + o, mentioning: "jet")
        try assertFails(["plot", "plane", path("s.h5"), "--levels", "1,x"] + o, mentioning: "--levels")
        try assertFails(["plot", "plane", path("s.h5"), "--log", "--color-range", "-1:1"] + o, mentioning: "--color-range")
        try assertFails(["plot", "plane", path("s.h5"), "--width", "0"] + o, mentioning: "--width")
        try assertFails(["plot", "plane", path("s.h5"), "--width", "0.01"] + o, mentioning: "16")
        try assertFails(["plot", "interpolation", path("s.h5")] + o, mentioning: "s.h5 is a basin-landscape file")
        try assertFails(["plot", "ensembles", path("empty.csv")] + o, mentioning: "empty.csv is empty")
        try assertFails(["plot", "ensembles", path("header.csv")] + o, mentioning: "header.csv has a header but no rows")
        try assertFails(["plot", "ensembles", path("text.csv")] + o, mentioning: "text.csv line 2: size 'two' is not a number")
        try assertFails(["plot", "ensembles", path("s.h5")] + o, mentioning: "s.h5")
        try assertFails(["plot", "ensembles", path("accuracy.csv"), "--metric", "nll"] + o, mentioning: "accuracy.csv has no column 'nll'")
        try assertFails(["plot", "sweep", path("empty.csv")] + o, mentioning: "empty.csv is empty")
        try assertFails(["plot", "sweep", dir] + o, mentioning: "not a sweep folder")
        try assertFails(["plot", "sweep", path("nowhere")] + o, mentioning: "nowhere does not exist")
        try assertFails(["plot", "simplex", path("s.h5"), "--vertex-labels", "a,b"] + o, mentioning: "simplex")
    }
}
