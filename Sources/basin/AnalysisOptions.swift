import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

extension TaskOptions {
    /// The task of a set of checkpoints: the flags given win, else the task in their configs
    /// (which must agree), else all `classCount` classes of the data set.
    func task(for checkpoints: [AnalysisCheckpoint], classCount: Int) throws -> AnalysisTask {
        try AnalysisTask.resolve(checkpoints: checkpoints, classes: try parsedClasses(), perClass: perClass, dataSeed: dataSeed,
                                 defaultClassCount: classCount)
    }
}

/// How weights are evaluated: BatchNorm recompute images, evaluation images, batch size.
struct AnalysisDataOptions: ParsableArguments {
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "BatchNorm recompute: the first N training images of the task (0 = no recompute).")
    var bnImages: Int = 2000
    @Option(help: "Evaluate on the first N images of the evaluation split (default: all).")
    var evalImages: Int?
    @Option(help: "Batch size of the BatchNorm pass and of evaluation.")
    var batchSize: Int = 500

    func validate() throws {
        guard bnImages >= 0 else { throw ValidationError("--bn-images must be 0 or more, got \(bnImages)") }
        if let evalImages, evalImages <= 0 { throw ValidationError("--eval-images must be positive, got \(evalImages)") }
        guard batchSize > 1 else { throw ValidationError("--batch-size must be at least 2, got \(batchSize)") }
    }

    /// Settings recorded in results files (and compared on resume).
    func settings(task: AnalysisTask, evalCount: Int) -> [String: HDF5AttributeValue] {
        ["task": .string(task.description), "bn_images": .int64(Int64(bnImages)),
         "eval_images": .int64(Int64(evalCount)), "batch_size": .int64(Int64(batchSize)), "eval_split": .string("test"),
         "dataset": .string((task.dataset ?? .fashionMNIST).description)]
    }
}

/// The task's data, loaded and normalized once.
struct AnalysisData {
    /// The task, its `dataset` the data set actually used.
    let task: AnalysisTask
    /// Both whole splits of the data set.
    let data: LoadedData
    let train: Dataset?
    let test: Dataset

    /// The data of `checkpoints`' task: the data set of `--dataset`, else the one their configs
    /// record; the classes of the task flags, else theirs. Every checkpoint must take its images.
    init(checkpoints: [AnalysisCheckpoint], taskOptions: TaskOptions, data options: DataOptions, needTrain: Bool = true) throws {
        let recorded = try AnalysisTask.configured(checkpoints)?.dataset
        let loaded = try options.load(recorded: recorded, recordedBy: checkpoints.first?.path)
        for c in checkpoints {
            if let error = c.inputError(imageShape: loaded.config.inputShape, dataName: "the \(loaded.config.source)") { throw error }
        }
        var task = try taskOptions.task(for: checkpoints, classCount: loaded.config.numClasses)
        task.dataset = loaded.config
        let t = task.transferTask
        try t.check(classCount: loaded.config.numClasses, dataName: loaded.config.source.description)
        self.task = task
        self.data = loaded
        train = needTrain ? try t.trainingSet(from: loaded.train) : nil
        test = try t.evaluationSet(from: loaded.test)
    }

    /// BatchNorm batches from the first `bnImages` training images and the evaluation batches.
    func evaluator(model: Model, options: AnalysisDataOptions, bnSource: Dataset? = nil, reset: Bool = true,
                   extraSplits: [String: FixedBatches] = [:]) throws -> LandscapeEvaluator {
        var bn: FixedBatches?
        if options.bnImages > 0, let source = bnSource ?? train {
            bn = try FixedBatches(source, limit: options.bnImages, batchSize: options.batchSize)
        }
        var splits = extraSplits
        splits["eval"] = try FixedBatches(test, limit: options.evalImages, batchSize: options.batchSize)
        return try LandscapeEvaluator(model: model, bnBatches: bn, splits: splits, resetBatchNorm: reset && options.bnImages > 0)
    }
}

/// Prints `key=value` pairs on one line of stdout.
func printRecord(_ pairs: [(String, String)]) {
    print(pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
}
