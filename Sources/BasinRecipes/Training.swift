// BasinRecipes owns training recipes: the training loop, pre-training, fine-tuning and the
// ensemble methods (Local DE, Global DE, SSE, StarSSE, FGE).
import BasinCore
import BasinData
import Foundation

/// Everything that determines a training run; saved as JSON with every checkpoint.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var architecture: Architecture
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    public var warmupEpochs: Int
    /// "cosine" (to 0 over the run, after the warmup) or "constant".
    public var schedule: String
    public var augment: Bool
    public var seed: UInt64

    public init(architecture: Architecture, epochs: Int, batchSize: Int = 128, learningRate: Float,
                momentum: Float = 0.9, weightDecay: Float = 5e-4, nesterov: Bool = false, warmupEpochs: Int = 0,
                schedule: String = "cosine", augment: Bool = false, seed: UInt64) {
        self.architecture = architecture
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.warmupEpochs = warmupEpochs
        self.schedule = schedule
        self.augment = augment
        self.seed = seed
    }

    public func learningRateSchedule(stepsPerEpoch: Int) -> Schedule {
        schedule == "constant"
            ? .constant(learningRate)
            : .cosine(base: learningRate, totalSteps: epochs * stepsPerEpoch, warmupSteps: warmupEpochs * stepsPerEpoch)
    }
}

/// One epoch's record in a run's history.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var learningRate: Float
    public var seconds: Double
    public var testLoss: Double?
    public var testAccuracy: Double?
}

/// Loss and accuracy of a model on a data set, with its predictive probabilities if asked.
public struct Evaluation: Sendable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int
    public var probabilities: Tensor?

    public init(loss: Double, accuracy: Double, count: Int, probabilities: Tensor? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.count = count
        self.probabilities = probabilities
    }
}

/// Writes progress lines to stderr: results go to stdout and files, never here.
public struct ProgressReporter {
    public var label: String
    public var quiet: Bool
    private var lastReport = Date.distantPast

    public init(label: String, quiet: Bool = false) {
        self.label = label
        self.quiet = quiet
    }

    public mutating func report(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double, lr: Float,
                                elapsed: Double, done: Double, force: Bool = false) {
        guard !quiet, force || Date().timeIntervalSince(lastReport) >= 2 else { return }
        lastReport = Date()
        let eta = done > 0 ? elapsed * (1 - done) / done : 0
        let line = String(format: "%@ epoch %d/%d step %d/%d loss %.4f lr %.5f elapsed %.0fs eta %.0fs\n",
                          label, epoch + 1, epochs, step, steps, loss, lr, elapsed, eta)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}

public enum Training {
    /// Evaluates `model` in eval mode over `dataset` in order, in batches.
    public static func evaluate(_ model: Model, on dataset: Dataset, batchSize: Int = 1000,
                                keepProbabilities: Bool = false) throws -> Evaluation {
        var total = 0.0, correct = 0
        var probs: [Float] = []
        var batch = Tensor(zeros: [0])
        var start = 0
        while start < dataset.count {
            let indices = Array(start..<min(start + batchSize, dataset.count))
            let labels = try dataset.batch(indices: indices, into: &batch)
            let logits = try model.predict(batch)
            let ce = try CrossEntropy.evaluate(logits: logits, labels: labels, wantGradient: false)
            total += ce.loss * Double(indices.count)
            correct += ce.correct
            if keepProbabilities { probs += CrossEntropy.softmax(logits).storage }
            start += batchSize
        }
        return Evaluation(loss: total / Double(dataset.count), accuracy: Double(correct) / Double(dataset.count),
                          count: dataset.count,
                          probabilities: keepProbabilities ? Tensor(shape: [dataset.count, model.numClasses], storage: probs) : nil)
    }

    /// Runs the steps of one epoch from `startStep`, updating `model` and `optimizer`.
    /// The data order comes from (config.seed, epoch), the augmentation of each step from
    /// (config.seed, epoch, step): a run resumed at any step sees the same batches.
    /// Returns the mean training loss and accuracy over the steps run.
    public static func runEpoch(model: Model, optimizer: SGD, config: TrainingConfig, data: Dataset,
                                epoch: Int, startStep: Int = 0, schedule: Schedule, globalStepOffset: Int,
                                augmentation: Augmentation?, progress: inout ProgressReporter,
                                runStart: Date, totalSteps: Int,
                                afterStep: ((Int) throws -> Void)? = nil) throws -> (loss: Double, accuracy: Double) {
        let sampler = try BatchSampler(count: data.count, batchSize: config.batchSize, seed: config.seed)
        var batches = try sampler.epoch(epoch, startingAt: startStep)
        var images = Tensor(zeros: [0])
        var augmented = Tensor(zeros: [0])
        var lossSum = 0.0, correct = 0, seen = 0
        let steps = sampler.batchesPerEpoch
        while let indices = batches.next() {
            let step = batches.step - 1
            let labels = try data.batch(indices: indices, into: &images)
            var input = images
            if let augmentation {
                var rng = RandomGenerator.stream(seed: config.seed, purpose: "augment-\(epoch)-\(step)")
                try augmentation.apply(images, into: &augmented, rng: &rng)
                input = augmented
            }
            let globalStep = globalStepOffset + epoch * steps + step
            let lr = schedule.learningRate(step: epoch * steps + step)
            model.zeroGradients()
            let (logits, cache) = try model.forward(input, .train)
            let ce = try CrossEntropy.evaluate(logits: logits, labels: labels)
            guard ce.loss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: step, loss: ce.loss) }
            model.backward(ce.gradient, cache)
            optimizer.step(model.parameters, lr: lr)
            lossSum += ce.loss * Double(indices.count)
            correct += ce.correct
            seen += indices.count
            progress.report(epoch: epoch, epochs: config.epochs, step: step + 1, steps: steps, loss: ce.loss, lr: lr,
                            elapsed: Date().timeIntervalSince(runStart),
                            done: Double(globalStep + 1 - globalStepOffset) / Double(max(totalSteps, 1)))
            try afterStep?(step + 1)
        }
        return (lossSum / Double(max(seen, 1)), Double(correct) / Double(max(seen, 1)))
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case diverged(epoch: Int, step: Int, loss: Double)

    public var description: String {
        switch self {
        case let .diverged(epoch, step, loss):
            return "training diverged: loss \(loss) at epoch \(epoch + 1) step \(step + 1) (lower the learning rate)"
        }
    }
}
