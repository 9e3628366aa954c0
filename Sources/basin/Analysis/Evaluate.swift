import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// Loss and accuracy of checkpoints on their task's evaluation split.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate checkpoints on the task they were trained on (from their config; flags override).",
        discussion: "Prints one key=value line per checkpoint. With --save-predictions the probabilities and labels "
            + "are written into the checkpoint as /predictions/<split> (the file is rewritten atomically).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var task: TaskOptions
    @Argument(help: "Checkpoint files.") var files: [String]
    @Option(help: "Split: test (every test image of the task's classes) or train (the task's training sample).")
    var split: String = "test"
    @Flag(help: "Store the predictions in each checkpoint.") var savePredictions = false
    @Flag(help: "Accept NaN/Inf values in the checkpoints.") var allowNonfinite = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one checkpoint") }
        guard split == "test" || split == "train" else { throw ValidationError("--split must be test or train, got '\(split)'") }
    }

    func run() throws {
        compute.apply()
        var loadedSets: [DataSource: LoadedData] = [:]
        var cache: [TaskConfig: TaskData] = [:]
        for file in files {
            let (model, checkpoint) = try loadModel(path: file, allowNonFinite: allowNonfinite)
            let recorded = try recordedDataset(checkpoint, path: file)
            let saved = try? RunConfig.decode(json: checkpoint.metadata.config)
            guard saved != nil || task.classes != nil else {
                throw ValidationError("\(file): its config names no task; give --classes (and --per-class, --data-seed)")
            }
            var taskConfig = try task.task(default: saved?.task ?? TaskConfig(classes: []))
            guard taskConfig.classes.count == model.numClasses else {
                throw ValidationError("\(file): the model has \(model.numClasses) classes, the task \(taskConfig.classes.count)")
            }
            let source = try data.source(recorded: recorded, recordedBy: file)
            let loaded = try loadedSets[source] ?? data.load(recorded: recorded, recordedBy: file)
            loadedSets[source] = loaded
            if let problem = ModelInput(model: model).mismatch(imageShape: loaded.config.inputShape, data: "the \(loaded.config.source)") {
                throw ModelInputError(model: "checkpoint \(file)", detail: problem)
            }
            taskConfig.dataset = loaded.config
            let taskData: TaskData
            if let hit = cache[taskConfig] {
                taskData = hit
            } else {
                taskData = try TaskData(taskConfig, from: loaded, evaluationSplit: split == "train" ? .train : .test)
                cache[taskConfig] = taskData
            }
            let evaluation = try Training.evaluate(model, on: taskData.evaluation, keepProbabilities: savePredictions)
            if savePredictions, let probs = evaluation.probabilities {
                var updated = checkpoint
                updated.predictions[split] = Predictions(probs: probs, labels: taskData.evaluation.labels.map(Int64.init))
                try updated.write(to: file)
            }
            print(String(format: "file=%@ split=%@ loss=%.6f acc=%.6f count=%d classes=%@", file, split, evaluation.loss,
                         evaluation.accuracy, evaluation.count, taskConfig.classes.map(String.init).joined(separator: ",")))
        }
    }
}
