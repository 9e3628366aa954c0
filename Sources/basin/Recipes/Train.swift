import ArgumentParser
import BasinCheckpoint
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// Trains a model from scratch on all classes of the data set and reports test accuracy.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from random initialization on all classes of the data set and print its test accuracy.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var runOptions: RunOptions
    @Option(help: "Model: mlp, cnn or resnet20.") var model: Architecture = .cnn
    @Option(help: "Epochs.") var epochs: Int = 4
    @Option(help: "Peak learning rate (cosine to 0).") var lr: Float = 0.05
    @Option(help: "Batch size.") var batchSize: Int = 128
    @Option(help: "Seed for initialization, data order and augmentation.") var seed: UInt64 = 0
    @Flag(help: "Random crop and horizontal flip.") var augment = false
    @Option(help: "Write the final checkpoint here (and resume checkpoints next to it).") var out: String?

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if runOptions.resume && out == nil { throw ValidationError("--resume needs --out") }
    }

    func run() throws {
        compute.apply()
        if let out { try ensureFolder(of: out) }
        let loaded = try data.load()
        let task = TaskConfig(classes: Array(0..<loaded.config.numClasses), dataset: loaded.config)
        let taskData = try TaskData(task, from: loaded)
        let training = TrainingConfig(architecture: model, epochs: epochs, batchSize: batchSize, learningRate: lr,
                                      augment: augment, seed: seed)
        let config = RunConfig(training: training, task: task, role: "pretrained", method: "train")
        let (net, optimizer) = try startState(for: config, architecture: model)
        let trainingRun = TrainingRun(config: config, model: net, optimizer: optimizer, data: taskData,
                                      progressLabel: "train \(model)")
        trainingRun.policy = runOptions.policy
        trainingRun.quiet = runOptions.quiet
        trainingRun.savePredictions = false
        let start = Date()
        trainingRun.onEpochEnd = { epoch, record in
            var line = String(format: "epoch=%d train_loss=%.4f train_acc=%.4f lr=%.5f epoch_s=%.1f", epoch + 1,
                              record.trainLoss, record.trainAccuracy, record.learningRate, record.seconds)
            let eval = try Training.evaluate(net, on: taskData.evaluation)
            line += String(format: " test_loss=%.4f test_acc=%.4f", eval.loss, eval.accuracy)
            print(line)
        }
        let final = try trainingRun.run(out: out, resume: runOptions.resume,
                                        metadata: CheckpointMetadata(architecture: model.rawValue, numClasses: net.numClasses,
                                                                     role: .pretrained))
        let m = final.metadata.metrics
        print(String(format: "model=%@ epochs=%d test_loss=%.4f test_acc=%.4f total_s=%.1f", model.rawValue, epochs,
                     m["test_loss"] ?? .nan, m["test_acc"] ?? .nan, Date().timeIntervalSince(start)) + (out.map { " file=\($0)" } ?? ""))
    }
}
