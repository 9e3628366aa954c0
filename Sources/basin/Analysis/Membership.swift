import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// Did a checkpoint leave the basin of a reference? The loss barrier on the segment between them.
struct Membership: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss barrier from a reference checkpoint to each checkpoint, and whether it lies in the same basin.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @Option(help: "The reference checkpoint (e.g. the first fine-tuned model).") var reference: String
    @Argument(help: "Checkpoints to test.") var checkpoints: [String]
    @Option(help: "In the basin when the test loss barrier is below this.") var threshold: Double
    @Option(help: "Points on each segment, alpha 0 to 1.") var points: Int = 11
    @Option(help: "Table (CSV).") var csv: String?

    func validate() throws {
        guard !checkpoints.isEmpty else { throw ValidationError("membership needs at least one checkpoint") }
        guard threshold.isFinite else { throw ValidationError("--threshold must be a number") }
        guard points >= 2 else { throw ValidationError("--points must be at least 2") }
    }

    func run() throws {
        compute.apply()
        let all = try AnalysisCheckpoint.loadAll([reference] + checkpoints)
        let ref = all[0]
        let taskData = try AnalysisData(checkpoints: all, taskOptions: analysis.taskOptions, data: data)
        let evaluator = try taskData.evaluator(model: try ref.makeModel(), options: analysis)
        let alphas = try Interpolation.alphas(points: points)
        var rows: [[String]] = []
        for ck in all.dropFirst() {
            let curve = try Interpolation.run(evaluator: evaluator, a: (ref.parameters, ref.buffers), b: (ck.parameters, ck.buffers),
                                              alphas: alphas, splits: ["eval"], progressLabel: "membership \(ck.path)")
            let (loss, error) = try curve.barriers("eval")
            let inBasin = loss.linear.value < threshold
            let row = [ck.path, ck.sha256, formatNumber(loss.linear.value), formatNumber(loss.linear.alpha),
                       formatNumber(error.linear.value), formatNumber(loss.mean.value), formatNumber(error.mean.value),
                       formatNumber(threshold), inBasin ? "1" : "0"]
            rows.append(row)
            printRecord(zip(Membership.header, row).filter { $0.0 != "sha256" }.map { ($0.0, $0.1) })
        }
        if let csv { try writeCSV(path: csv, header: Membership.header, rows: rows) }
    }

    static let header = ["checkpoint", "sha256", "barrier_loss", "barrier_loss_alpha", "barrier_error", "barrier_loss_mean",
                         "barrier_error_mean", "threshold", "in_basin"]
}
