import ArgumentParser
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import BasinRecipes
import Foundation

/// Fine-tuning of a pre-trained checkpoint with a new head (or the scratch baseline).
struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a pre-trained checkpoint on the target classes with a new random head.",
        discussion: "Default task: classes 2,4,6,7,9 with 200 training images per class (data seed 0), evaluated on every "
            + "test image of those classes. Defaults: \(Recipe.fineTuning.epochs) epochs, batch \(Recipe.fineTuning.batchSize), "
            + "LR \(Recipe.fineTuning.learningRate) cosine to 0.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var task: TaskOptions
    @OptionGroup var sgd: OptimizerOptions
    @OptionGroup var runOptions: RunOptions
    @Option(help: "Pre-trained checkpoint.") var from: String?
    @Flag(help: "Train the same network from random initialization instead (the no-transfer baseline).") var scratch = false
    @Option(help: "Model for --scratch: mlp, cnn or resnet20.") var model: Architecture = .cnn
    @Option(help: "Seed for the new head, data order and augmentation.") var seed: UInt64 = 0
    @Option(help: "Output checkpoint (.h5).") var out: String

    func validate() throws {
        if scratch && from != nil { throw ValidationError("--scratch and --from exclude each other") }
        if !scratch && from == nil { throw ValidationError("give --from PT.h5 (or --scratch for the no-transfer baseline)") }
    }

    func run() throws {
        compute.apply()
        try ensureFolder(of: out)
        var taskConfig = try task.task(default: .defaultTarget)
        var architecture = model
        var start: StartPoint?
        var recorded: DatasetConfig?
        if let from {
            let (pt, checkpoint) = try loadModel(path: from, allowNonFinite: runOptions.allowNonfinite)
            architecture = pt.architecture
            start = StartPoint(path: from, sha256: try sha256(ofFile: from), newHead: true)
            recorded = try recordedDataset(checkpoint, path: from)
        }
        // Without --dataset, fine-tuning continues on the pre-trained model's data set.
        let loaded = try data.load(recorded: recorded, recordedBy: from)
        taskConfig.dataset = loaded.config
        let training = sgd.config(architecture, seed: seed, defaults: .fineTuning)
        let config = RunConfig(training: training, task: taskConfig, role: scratch ? "pretrained" : "finetuned",
                               method: scratch ? "scratch" : "finetune", start: start)
        let taskData = try TaskData(taskConfig, from: loaded)
        let (net, optimizer) = try startState(for: config, architecture: architecture,
                                              allowNonFinite: runOptions.allowNonfinite)
        let trainingRun = TrainingRun(config: config, model: net, optimizer: optimizer, data: taskData,
                                      progressLabel: "\(scratch ? "scratch" : "finetune") seed \(seed)")
        trainingRun.policy = runOptions.policy
        trainingRun.quiet = runOptions.quiet
        trainingRun.allowNonFinite = runOptions.allowNonfinite
        let begin = Date()
        let meta = CheckpointMetadata(architecture: architecture.rawValue, numClasses: net.numClasses,
                                      role: scratch ? .pretrained : .finetuned, parent: start?.path, parentSHA256: start?.sha256)
        let final = try trainingRun.run(out: out, resume: runOptions.resume, metadata: meta)
        printSummary(out, metrics: final.metadata.metrics, extra: String(format: " seconds=%.1f", Date().timeIntervalSince(begin)))
    }
}
