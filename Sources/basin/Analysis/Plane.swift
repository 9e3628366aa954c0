import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// `--grid 21` (21 x 21) or `--grid 31x21` (31 columns along x, 21 rows along y).
struct GridSize: ExpressibleByArgument, CustomStringConvertible {
    let nx: Int, ny: Int
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ ($0 ?? 0) >= 2 }) else { return nil }
        nx = parts[0]!
        ny = parts.count == 2 ? parts[1]! : parts[0]!
    }
    var description: String { "\(nx)x\(ny)" }
}

/// `--shard i/N`: this process computes cells i, i + N, i + 2N, ...
struct ShardSpec: ExpressibleByArgument, CustomStringConvertible {
    let index: Int, count: Int
    init?(argument: String) {
        let parts = argument.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, i >= 0, i < n else { return nil }
        index = i
        count = n
    }
    init(index: Int, count: Int) { self.index = index; self.count = count }
    var description: String { "\(index)/\(count)" }
}

/// Options of commands that fill a landscape grid.
struct GridRunOptions: ParsableArguments {
    @Option(help: "Results file (HDF5). An existing file of the same grid is resumed.") var out: String
    @Option(help: "Compute only every N-th cell starting at i (i/N, 0-based); join the files with `basin merge`.")
    var shard: ShardSpec?
    @Option(help: "Save the results file after every N computed cells.") var saveEvery: Int = 5
    @Flag(help: "Also evaluate every cell on the training split (train_loss, train_error).") var train = false
    @Option(help: "With --train: the first N training images of the task (default: all).") var trainImages: Int?

    func validate() throws {
        guard saveEvery >= 1 else { throw ValidationError("--save-every must be positive, got \(saveEvery)") }
        if let trainImages, trainImages <= 0 { throw ValidationError("--train-images must be positive, got \(trainImages)") }
        if trainImages != nil && !train { throw ValidationError("--train-images needs --train") }
    }

    /// The training split to evaluate with --train (the task's training images, not augmented).
    func extraSplits(_ taskData: AnalysisData, batchSize: Int) throws -> [String: FixedBatches] {
        guard train, let trainSet = taskData.train else { return [:] }
        return ["train": try FixedBatches(trainSet, limit: trainImages, batchSize: batchSize)]
    }

    /// Settings of the evaluation, with the training images when --train is on.
    func settings(_ analysis: AnalysisDataOptions, task: AnalysisTask, evaluator: LandscapeEvaluator) -> [String: HDF5AttributeValue] {
        var settings = analysis.settings(task: task, evalCount: evaluator.splits["eval"]!.count)
        if let t = evaluator.splits["train"] { settings["train_images"] = .int64(Int64(t.count)) }
        return settings
    }

    func run(_ grid: inout LandscapeGrid, evaluator: LandscapeEvaluator) throws {
        let shard = shard ?? ShardSpec(index: 0, count: 1)
        grid.shardIndex = shard.index
        grid.shardCount = shard.count
        let start = Date()
        try grid.compute(evaluator: evaluator, path: out, saveEvery: saveEvery, progressLabel: grid.kind)
        let seconds = Date().timeIntervalSince(start)
        let losses = grid.loss.filter { !$0.isNaN }, errors = grid.error.filter { !$0.isNaN }
        printRecord([("kind", grid.kind), ("grid", "\(grid.nx)x\(grid.ny)"), ("shard", "\(grid.shardIndex)/\(grid.shardCount)"),
                     ("cells_done", String(grid.cellsDone)), ("cells_missing", String(grid.missingCount)),
                     ("min_loss", formatNumber(losses.min())), ("max_loss", formatNumber(losses.max())),
                     ("min_error", formatNumber(errors.min())), ("max_error", formatNumber(errors.max())),
                     ("seconds", String(format: "%.2f", seconds)), ("out", out)])
        for p in grid.inputs + grid.projected {
            printRecord([("point", p.label), ("x", formatNumber(p.x)), ("y", formatNumber(p.y)),
                         ("distance", formatNumber(p.distance))])
        }
    }
}

/// The loss plane through three checkpoints.
struct Plane: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and error on the plane through three checkpoints (resumable, shardable).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @OptionGroup var gridRun: GridRunOptions
    @Argument(help: "Three checkpoints A B C: origin A, u along C - A, v the part of B - A orthogonal to u.")
    var checkpoints: [String]
    @Option(help: "Project this checkpoint onto the plane (repeatable).") var project: [String] = []
    @Option(help: "Grid points: N (N x N) or NXxNY.") var grid: GridSize = GridSize(argument: "21")!
    @Option(help: "Margin around the three points, as a fraction of their extent on each side.") var margin: Double = 0.2

    func validate() throws {
        guard checkpoints.count == 3 else { throw ValidationError("plane needs exactly three checkpoints, got \(checkpoints.count)") }
        guard margin >= 0, margin.isFinite else { throw ValidationError("--margin must be 0 or more, got \(margin)") }
    }

    func run() throws {
        compute.apply()
        let all = try AnalysisCheckpoint.loadAll(checkpoints + project)
        let (a, b, c) = (all[0], all[1], all[2])
        let taskData = try AnalysisData(checkpoints: Array(all.prefix(3)), taskOptions: analysis.taskOptions, data: data)
        let basis = try PlaneBasis.through(a: a.parameters, b: b.parameters, c: c.parameters)
        func point(_ ck: AnalysisCheckpoint, exactDistance: Bool) -> LandscapePoint {
            let p = basis.project(ck.parameters)
            return LandscapePoint(label: ck.path, sha256: ck.sha256, x: p.x, y: p.y, distance: exactDistance ? 0 : p.distance,
                                  role: ck.checkpoint.metadata.role.rawValue)
        }
        // The defining points lie on the plane by construction; their computed residual is rounding.
        let inputs = [a, b, c].map { point($0, exactDistance: true) }
        let projected = all.dropFirst(3).map { point($0, exactDistance: false) }
        let axes = coveringAxes(points: inputs.map { ($0.x, $0.y) }, margin: margin, nx: grid.nx, ny: grid.ny)
        let evaluator = try taskData.evaluator(model: try a.makeModel(), options: analysis,
                                               extraSplits: try gridRun.extraSplits(taskData, batchSize: analysis.batchSize))
        var settings = gridRun.settings(analysis, task: taskData.task, evaluator: evaluator)
        settings["margin"] = .float64(margin)
        settings["basis"] = .string("gram-schmidt: origin A, u along C - A, v the part of B - A orthogonal to u")
        var landscape = LandscapeGrid(kind: "plane", architecture: a.architecture.rawValue, numClasses: a.numClasses,
                                      x: axes.x, y: axes.y, settings: settings, origin: basis.origin, u: basis.u, v: basis.v,
                                      inputs: inputs, projected: Array(projected), train: gridRun.train)
        try gridRun.run(&landscape, evaluator: evaluator)
    }
}

/// Joins the shards of one plane or surface.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Join shard files of one plane or surface into one results file.")

    @Argument(help: "Shard files written with --shard.") var shards: [String]
    @Option(help: "Merged results file (HDF5).") var out: String
    @Flag(help: "Write the merged file even when cells are missing (they stay missing; a later merge can add them).")
    var allowIncomplete = false

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("merge needs at least one shard file") }
    }

    func run() throws {
        let grids = try shards.map { (path: $0, grid: try LandscapeGrid.read(path: $0)) }
        let merged = try LandscapeGrid.merge(grids)
        let missing = merged.missingCells
        if !missing.isEmpty && !allowIncomplete {
            throw AnalysisError("merge: \(Merge.describeMissing(missing, of: merged, shards: grids.map(\.grid)));"
                                + " nothing written (--allow-incomplete writes the partial grid)")
        }
        try merged.write(to: out)
        printRecord([("kind", merged.kind), ("shards", String(shards.count)),
                     ("cells_done", String(merged.cellsDone)),
                     ("cells_missing", String(merged.missingCount)), ("out", out)])
    }

    /// "3 of 121 cells missing: (x 2, y 0), ...; shard 2/4 not given": the cells by grid
    /// position (the first few), and the shards of the split that no file was given for.
    static func describeMissing(_ missing: [Int], of grid: LandscapeGrid, shards: [LandscapeGrid]) -> String {
        let shown = missing.prefix(6).map { "(x \($0 % grid.nx), y \($0 / grid.nx))" }.joined(separator: ", ")
        var text = "\(missing.count) of \(grid.domainCount) cells missing: \(shown)\(missing.count > 6 ? ", ..." : "")"
        let counts = Set(shards.map(\.shardCount))
        if counts.count == 1, let count = counts.first, count > 1 {
            let given = Set(shards.map(\.shardIndex))
            let absent = (0..<count).filter { !given.contains($0) }.map { "\($0)/\(count)" }
            if !absent.isEmpty { text += "; shard\(absent.count > 1 ? "s" : "") \(absent.joined(separator: ", ")) not given" }
        }
        return text
    }
}
