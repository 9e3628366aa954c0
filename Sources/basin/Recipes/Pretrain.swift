import ArgumentParser
import BasinCheckpoint
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// Pre-training from random initialization on the source classes.
struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pre-train a model from random initialization on the source classes (default 0,1,3,5,8, all images).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var task: TaskOptions
    @OptionGroup var sgd: OptimizerOptions
    @OptionGroup var runOptions: RunOptions
    @Option(help: "Model: mlp, cnn or resnet20.") var model: Architecture = .cnn
    @Option(help: "Seed for initialization, data order and augmentation.") var seed: UInt64 = 0
    @Option(help: "Output checkpoint (.h5).") var out: String

    func run() throws {
        compute.apply()
        try ensureFolder(of: out)
        let loaded = try data.load()
        var taskConfig = try task.task(default: .defaultSource)
        taskConfig.dataset = loaded.config
        let training = sgd.config(model, seed: seed, defaults: .pretraining)
        let config = RunConfig(training: training, task: taskConfig, role: "pretrained", method: "pretrain")
        let taskData = try TaskData(taskConfig, from: loaded)
        let (net, optimizer) = try startState(for: config, architecture: model)
        let trainingRun = TrainingRun(config: config, model: net, optimizer: optimizer, data: taskData,
                                      progressLabel: "pretrain \(model) seed \(seed)")
        trainingRun.policy = runOptions.policy
        trainingRun.quiet = runOptions.quiet
        trainingRun.allowNonFinite = runOptions.allowNonfinite
        let start = Date()
        let final = try trainingRun.run(out: out, resume: runOptions.resume,
                                        metadata: CheckpointMetadata(architecture: model.rawValue, numClasses: net.numClasses,
                                                                     role: .pretrained))
        printSummary(out, metrics: final.metadata.metrics, extra: String(format: " seconds=%.1f", Date().timeIntervalSince(start)))
    }
}
