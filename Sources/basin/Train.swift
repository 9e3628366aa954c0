import ArgumentParser
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// Trains a model from scratch on all classes of the data set and reports test accuracy.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from random initialization on all classes and print its test accuracy.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Option(help: "Model: mlp, cnn or resnet20.") var model: Architecture = .cnn
    @Option(help: "Epochs.") var epochs: Int = 4
    @Option(help: "Peak learning rate (cosine to 0).") var lr: Float = 0.05
    @Option(help: "Batch size.") var batchSize: Int = 128
    @Option(help: "Seed for initialization, data order and augmentation.") var seed: UInt64 = 0
    @Flag(help: "Random crop and horizontal flip.") var augment = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func run() throws {
        compute.apply()
        let train = try data.load(.train), test = try data.load(.test)
        let config = TrainingConfig(architecture: model, epochs: epochs, batchSize: batchSize, learningRate: lr,
                                    augment: augment, seed: seed)
        let net = Model(model, numClasses: train.numClasses, inChannels: train.channels, seed: seed)
        let sgd = SGD(momentum: config.momentum, weightDecay: config.weightDecay)
        let steps = (train.count + batchSize - 1) / batchSize
        let schedule = config.learningRateSchedule(stepsPerEpoch: steps)
        var progress = ProgressReporter(label: "train \(model)")
        let start = Date()
        let augmentation = augment ? Augmentation(padding: 2, flipProbability: 0.5, normalization: .fashionMNIST) : nil
        for epoch in 0..<epochs {
            let t0 = Date()
            let (loss, acc) = try Training.runEpoch(model: net, optimizer: sgd, config: config, data: train, epoch: epoch,
                                                    schedule: schedule, globalStepOffset: 0, augmentation: augmentation,
                                                    progress: &progress, runStart: start, totalSteps: epochs * steps)
            let eval = try Training.evaluate(net, on: test)
            print(String(format: "epoch=%d train_loss=%.4f train_acc=%.4f test_loss=%.4f test_acc=%.4f epoch_s=%.1f",
                         epoch + 1, loss, acc, eval.loss, eval.accuracy, Date().timeIntervalSince(t0)))
        }
        let final = try Training.evaluate(net, on: test)
        print(String(format: "model=%@ epochs=%d test_loss=%.4f test_acc=%.4f total_s=%.1f", model.rawValue, epochs,
                     final.loss, final.accuracy, Date().timeIntervalSince(start)))
    }
}
