import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// Loss and error over the convex combinations of three checkpoints, on a barycentric grid.
struct SimplexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simplex",
        abstract: "Loss and error over the triangle of convex combinations of three checkpoints (resumable, shardable).",
        discussion: "Weights a A + b B + (1 - a - b) C for a, b in 0, 1/n, ..., 1 with a + b <= 1, BatchNorm recomputed "
            + "at every point. The results file is a landscape file of kind simplex: origin C, u = A - C, v = B - C, "
            + "x = a, y = b; cells with a + b > 1 are outside the triangle and stay NaN. Plot it with basin plot simplex.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @OptionGroup var gridRun: GridRunOptions
    @Argument(help: "Three checkpoints A B C, the corners of the triangle.") var checkpoints: [String]
    @Option(help: "Divisions of each side (n): (n + 1)(n + 2) / 2 points.") var resolution: Int = 10

    func validate() throws {
        guard checkpoints.count == 3 else { throw ValidationError("simplex needs exactly three checkpoints, got \(checkpoints.count)") }
        guard resolution >= 1 else { throw ValidationError("--resolution must be at least 1, got \(resolution)") }
    }

    func run() throws {
        compute.apply()
        let all = try AnalysisCheckpoint.loadAll(checkpoints)
        let (a, b, c) = (all[0], all[1], all[2])
        let taskData = try AnalysisData(checkpoints: all, taskOptions: analysis.taskOptions, data: data)
        let u = subtract(a.parameters, c.parameters), v = subtract(b.parameters, c.parameters)
        guard norm(u) > 0, norm(v) > 0, norm(subtract(a.parameters, b.parameters)) > 0 else {
            throw AnalysisError("simplex: two of the three checkpoints have identical weights")
        }
        let corners = [(a, 1.0, 0.0), (b, 0.0, 1.0), (c, 0.0, 0.0)].map { ck, x, y in
            LandscapePoint(label: ck.path, sha256: ck.sha256, x: x, y: y, distance: 0, role: ck.checkpoint.metadata.role.rawValue)
        }
        let axis = linspace(0, 1, resolution + 1)
        let evaluator = try taskData.evaluator(model: try a.makeModel(), options: analysis,
                                               extraSplits: try gridRun.extraSplits(taskData, batchSize: analysis.batchSize))
        var settings = gridRun.settings(analysis, task: taskData.task, evaluator: evaluator)
        settings["resolution"] = .int64(Int64(resolution))
        settings["basis"] = .string("simplex: origin C, u = A - C, v = B - C; weights x of A, y of B, 1 - x - y of C")
        var landscape = LandscapeGrid(kind: "simplex", architecture: a.architecture.rawValue, numClasses: a.numClasses,
                                      x: axis, y: axis, settings: settings, origin: c.parameters, u: u, v: v,
                                      inputs: corners, projected: [], train: gridRun.train)
        try gridRun.run(&landscape, evaluator: evaluator)
    }
}
