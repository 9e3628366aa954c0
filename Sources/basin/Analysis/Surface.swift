import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// `--range lo:hi`.
struct RangeSpec: ExpressibleByArgument, CustomStringConvertible {
    let lo: Double, hi: Double
    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map { Double($0) }
        guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo.isFinite, hi.isFinite, lo < hi else { return nil }
        self.lo = lo
        self.hi = hi
    }
    var description: String { "\(lo):\(hi)" }
}

/// The landscape around one checkpoint along random filter-normalized directions.
struct Surface: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and error around a checkpoint along 1 or 2 random filter-normalized directions (Li et al. 2018).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @OptionGroup var gridRun: GridRunOptions
    @Argument(help: "The checkpoint at the centre.") var checkpoint: String
    @Option(help: "Number of directions: 1 or 2.") var dims: Int = 2
    @Option(parsing: .unconditional, help: "Coordinate range along each direction, lo:hi.")
    var range: RangeSpec = RangeSpec(argument: "-1:1")!
    @Option(help: "Points along each direction.") var points: Int = 21
    @Option(help: "Seed of the random directions.") var seed: UInt64 = 0
    @Flag(help: "Give 1-D tensors (biases, BatchNorm) a direction equal to the weights instead of zero.")
    var include1d = false

    func validate() throws {
        guard dims == 1 || dims == 2 else { throw ValidationError("--dims must be 1 or 2, got \(dims)") }
        guard points >= 2 else { throw ValidationError("--points must be at least 2, got \(points)") }
    }

    func run() throws {
        compute.apply()
        let center = try AnalysisCheckpoint(path: checkpoint)
        let taskData = try AnalysisData(checkpoints: [center], taskOptions: analysis.taskOptions, data: data)
        var rng = RandomGenerator.stream(seed: seed, purpose: "surface-directions")
        let u = filterNormalizedDirection(shapes: center.parameterShapes, weights: center.parameters, rng: &rng,
                                          include1D: include1d)
        let v = dims == 2 ? filterNormalizedDirection(shapes: center.parameterShapes, weights: center.parameters, rng: &rng,
                                                      include1D: include1d)
            : [Double](repeating: 0, count: u.count)
        let axis = linspace(range.lo, range.hi, points)
        let evaluator = try taskData.evaluator(model: try center.makeModel(), options: analysis,
                                               extraSplits: try gridRun.extraSplits(taskData, batchSize: analysis.batchSize))
        var settings = gridRun.settings(analysis, task: taskData.task, evaluator: evaluator)
        settings["dims"] = .int64(Int64(dims))
        settings["seed"] = .int64(Int64(bitPattern: seed))
        settings["range_lo"] = .float64(range.lo)
        settings["range_hi"] = .float64(range.hi)
        settings["include_1d"] = .int64(include1d ? 1 : 0)
        settings["basis"] = .string("filter-normalized random directions (Li et al. 2018) around the checkpoint")
        var landscape = LandscapeGrid(kind: "surface", architecture: center.architecture.rawValue,
                                      numClasses: center.numClasses, x: axis, y: dims == 2 ? axis : [0], settings: settings,
                                      origin: center.parameters, u: u, v: v,
                                      inputs: [LandscapePoint(label: center.path, sha256: center.sha256, x: 0, y: 0, distance: 0,
                                                              role: center.checkpoint.metadata.role.rawValue)],
                                      projected: [], train: gridRun.train)
        try gridRun.run(&landscape, evaluator: evaluator)
    }
}
