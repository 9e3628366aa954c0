import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// Loss and error along the segment between two checkpoints, and the barriers on it.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the segment between two checkpoints (BatchNorm recomputed at every point) and report barriers.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @Argument(help: "Checkpoint at alpha 0.") var a: String
    @Argument(help: "Checkpoint at alpha 1.") var b: String
    @Option(help: "Evenly spaced points from alpha 0 to 1, both included.") var points: Int = 25
    @Option(help: "Results file (HDF5).") var out: String
    @Option(help: "Also write the curve as CSV.") var csv: String?
    @Flag(help: "Also evaluate on the training split.") var train = false
    @Option(help: "With --train: the first N training images (default: all).") var trainImages: Int?
    @Flag(help: "Keep the interpolated running statistics instead of recomputing them.") var noBnReset = false

    func validate() throws {
        guard points >= 2 else { throw ValidationError("--points must be at least 2, got \(points)") }
        if let trainImages, trainImages <= 0 { throw ValidationError("--train-images must be positive") }
    }

    func run() throws {
        compute.apply()
        let ends = try AnalysisCheckpoint.loadAll([a, b])
        let taskData = try AnalysisData(checkpoints: ends, taskOptions: analysis.taskOptions, data: data)
        var extra: [String: FixedBatches] = [:]
        if train, let trainSet = taskData.train {
            extra["train"] = try FixedBatches(trainSet, limit: trainImages, batchSize: analysis.batchSize)
        }
        let evaluator = try taskData.evaluator(model: try ends[0].makeModel(), options: analysis, reset: !noBnReset,
                                               extraSplits: extra)
        let splits = train ? ["eval", "train"] : ["eval"]
        let alphas = try Interpolation.alphas(points: points)
        let start = Date()
        let curve = try Interpolation.run(evaluator: evaluator, a: (ends[0].parameters, ends[0].buffers),
                                          b: (ends[1].parameters, ends[1].buffers), alphas: alphas, splits: splits,
                                          progressLabel: "interpolate")
        let seconds = Date().timeIntervalSince(start)
        var settings = analysis.settings(task: taskData.task, evalCount: evaluator.splits["eval"]!.count)
        settings["bn_reset"] = .int64(evaluator.resetBatchNorm ? 1 : 0)
        if let t = evaluator.splits["train"] { settings["train_images"] = .int64(Int64(t.count)) }
        try InterpolationFile.write(path: out, ends: ends, curve: curve, splits: splits, settings: settings)
        if let csv { try InterpolationFile.writeCSV(path: csv, curve: curve, splits: splits) }
        for split in splits {
            let (loss, error) = try curve.barriers(split)
            let r = curve.results[split]!
            printRecord([("split", split == "eval" ? "test" : "train"),
                         ("barrier_loss", formatNumber(loss.linear.value)), ("barrier_loss_alpha", formatNumber(loss.linear.alpha)),
                         ("barrier_error", formatNumber(error.linear.value)), ("barrier_error_alpha", formatNumber(error.linear.alpha)),
                         ("barrier_loss_mean", formatNumber(loss.mean.value)), ("barrier_loss_mean_alpha", formatNumber(loss.mean.alpha)),
                         ("barrier_error_mean", formatNumber(error.mean.value)),
                         ("barrier_error_mean_alpha", formatNumber(error.mean.alpha)),
                         ("loss_a", formatNumber(r.first!.loss)), ("loss_b", formatNumber(r.last!.loss)),
                         ("error_a", formatNumber(r.first!.error)), ("error_b", formatNumber(r.last!.error))])
        }
        printRecord([("points", String(points)), ("seconds", String(format: "%.2f", seconds)), ("out", out)])
    }
}

/// The results file of `basin interpolate` (docs/ANALYSIS.md).
enum InterpolationFile {
    static func write(path: String, ends: [AnalysisCheckpoint], curve: InterpolationCurve, splits: [String],
                      settings: [String: HDF5AttributeValue]) throws {
        try HDF5File.writeAtomically(path: path) { root in
            try root.setAttribute("format", .string("basin-interpolation"))
            try root.setAttribute("format_version", .int64(1))
            try root.setAttribute("architecture", .string(ends[0].architecture.rawValue))
            try root.setAttribute("num_classes", .int64(Int64(ends[0].numClasses)))
            try root.setAttribute("a_path", .string(ends[0].path))
            try root.setAttribute("a_sha256", .string(ends[0].sha256))
            try root.setAttribute("b_path", .string(ends[1].path))
            try root.setAttribute("b_sha256", .string(ends[1].sha256))
            try root.setAttribute("points", .int64(Int64(curve.alphas.count)))
            try root.setAttribute("basin_version", .string(BasinCheckpoint.basinVersion))
            for key in settings.keys.sorted() { try root.setAttribute(key, settings[key]!) }
            try root.writeDataset("alpha", HDF5Array(shape: [curve.alphas.count], values: .float64(curve.alphas)))
            for split in splits {
                let name = split == "eval" ? "test" : "train"
                let g = try root.createGroup(name)
                let r = curve.results[split]!
                try g.writeDataset("loss", HDF5Array(shape: [r.count], values: .float64(r.map(\.loss))))
                try g.writeDataset("accuracy", HDF5Array(shape: [r.count], values: .float64(r.map(\.accuracy))))
                try g.writeDataset("error", HDF5Array(shape: [r.count], values: .float64(r.map(\.error))))
                let (loss, error) = try curve.barriers(split)
                for (metric, b) in [("loss", loss), ("error", error)] {
                    try g.setAttribute("barrier_\(metric)", .float64(b.linear.value))
                    try g.setAttribute("barrier_\(metric)_alpha", .float64(b.linear.alpha))
                    try g.setAttribute("barrier_\(metric)_mean", .float64(b.mean.value))
                    try g.setAttribute("barrier_\(metric)_mean_alpha", .float64(b.mean.alpha))
                }
            }
        }
    }

    static func writeCSV(path: String, curve: InterpolationCurve, splits: [String]) throws {
        var header = ["alpha"]
        for split in splits {
            let name = split == "eval" ? "test" : "train"
            header += ["\(name)_loss", "\(name)_accuracy", "\(name)_error"]
        }
        let rows = curve.alphas.indices.map { i -> [String] in
            var row = [formatNumber(curve.alphas[i])]
            for split in splits {
                let e = curve.results[split]![i]
                row += [formatNumber(e.loss), formatNumber(e.accuracy), formatNumber(e.error)]
            }
            return row
        }
        try BasinAnalysis.writeCSV(path: path, header: header, rows: rows)
    }
}
