import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// When a run writes its resume checkpoint.
public struct CheckpointPolicy: Sendable, Equatable {
    /// Every this many optimizer steps; nil: at every epoch's end.
    public var everySteps: Int?
    /// Also whenever this much wall time passed since the last save (nil: never by time).
    public var everySeconds: Double?

    public init(everySteps: Int? = nil, everySeconds: Double? = 60) {
        self.everySteps = everySteps
        self.everySeconds = everySeconds
    }
}

/// The per-epoch record of a run, stored as `/state/history_*` arrays.
public struct History: Equatable, Sendable {
    public var trainLoss: [Double] = []
    public var trainAccuracy: [Double] = []
    /// LR of each epoch's first step.
    public var learningRate: [Double] = []

    public init() {}

    var stateArrays: [StateArray] {
        [StateArray(name: "history_train_loss", array: HDF5Array(shape: [trainLoss.count], values: .float64(trainLoss))),
         StateArray(name: "history_train_acc", array: HDF5Array(shape: [trainAccuracy.count], values: .float64(trainAccuracy))),
         StateArray(name: "history_lr", array: HDF5Array(shape: [learningRate.count], values: .float64(learningRate)))]
    }

    public init(checkpoint: Checkpoint) {
        trainLoss = checkpoint.stateArray(named: "history_train_loss")?.array.values.asDoubles ?? []
        trainAccuracy = checkpoint.stateArray(named: "history_train_acc")?.array.values.asDoubles ?? []
        learningRate = checkpoint.stateArray(named: "history_lr")?.array.values.asDoubles ?? []
    }
}

public enum RunError: Error, CustomStringConvertible, Equatable {
    case configMismatch(file: String, differences: [String])
    case resumeFileExists(String)
    case badResumeState(file: String, detail: String)
    case missingStart(String)

    public var description: String {
        switch self {
        case let .configMismatch(file, differences):
            return "cannot resume from \(file): it was saved with a different configuration ("
                + differences.prefix(6).joined(separator: "; ") + ")"
        case .resumeFileExists(let file):
            return "resume checkpoint \(file) exists: pass --resume to continue that run, or delete it to start over"
        case let .badResumeState(file, detail):
            return "resume checkpoint \(file): \(detail)"
        case .missingStart(let detail):
            return detail
        }
    }
}

/// A SHA-256 over every parameter's float32 bits in `parameters` order: equal digests mean
/// bit-identical weights.
public func parameterDigest(_ model: Model) -> String {
    var hash = SHA256()
    for p in model.parameters {
        hash.update(Array(p.path.utf8))
        p.value.storage.withUnsafeBytes { hash.update(buffer: $0) }
    }
    return hash.finalizeHex()
}

/// One training run: from its start weights (or its resume checkpoint) to its final
/// checkpoint. Data order of epoch e and augmentation of (epoch, step) are functions of the
/// seed, so a resume checkpoint needs only weights, buffers, momentum, (epoch, step), the
/// partial epoch sums and the history to continue bit-identically.
public final class TrainingRun {
    public let config: RunConfig
    public let model: Model
    public let optimizer: SGD
    public let data: TaskData
    public var policy = CheckpointPolicy()
    public var progressLabel: String
    public var quiet = false
    /// Called after each epoch with its index and record (e.g. to print per-epoch test accuracy).
    public var onEpochEnd: ((Int, EpochRecord) throws -> Void)?
    /// Keep the evaluation split's predictions in the final checkpoint.
    public var savePredictions = true
    public var allowNonFinite = false

    /// `model` and `optimizer` hold the start state; a resume replaces it.
    public init(config: RunConfig, model: Model, optimizer: SGD? = nil, data: TaskData, progressLabel: String) {
        self.config = config
        self.model = model
        self.optimizer = optimizer ?? SGD(momentum: config.training.momentum, weightDecay: config.training.weightDecay,
                                          nesterov: config.training.nesterov)
        self.data = data
        self.progressLabel = progressLabel
    }

    public static func resumePath(for out: String) -> String { out + ".resume.h5" }

    public var stepsPerEpoch: Int { (data.train.count + config.training.batchSize - 1) / config.training.batchSize }

    /// Trains to the end and writes `out` (atomically), then removes the resume file.
    /// With `resume`, continues from `<out>.resume.h5` when it exists. Without `out` the run
    /// writes nothing and returns the final checkpoint value.
    @discardableResult
    public func run(out: String?, resume: Bool, metadata base: CheckpointMetadata) throws -> Checkpoint {
        for (name, set) in [("training", data.train), ("evaluation", data.evaluation)] {
            if let problem = ModelInput(model: model).mismatch(imageShape: set.imageShape,
                                                               data: "the \(name) split of the \(config.task.dataset.source)") {
                throw ModelInputError(model: "\(progressLabel) (\(model.architecture.rawValue))", detail: problem)
            }
        }
        if let out {
            try AtomicFile.removeStaleTemporaries(in: URL(fileURLWithPath: out).deletingLastPathComponent().path)
        }
        let resumeFile = out.map(Self.resumePath(for:))
        let steps = stepsPerEpoch
        let epochs = config.training.epochs
        let configJSON = try config.json()
        let startDigest = parameterDigest(model)

        var epoch = 0, step = 0
        var history = History()
        var sums = [0.0, 0.0, 0.0]  // loss sum, correct, seen of the current epoch so far
        var startDigestSaved = startDigest
        if let resumeFile, FileManager.default.fileExists(atPath: resumeFile) {
            guard resume else { throw RunError.resumeFileExists(resumeFile) }
            (epoch, step, sums, history, startDigestSaved) = try restore(from: resumeFile)
        }

        var progress = ProgressReporter(label: progressLabel, quiet: quiet)
        let runStart = Date()
        var lastSave = Date()
        let firstGlobal = epoch * steps + step
        let totalSteps = epochs * steps
        func state(epoch: Int, step: Int) -> [StateArray] {
            [StateArray(name: "epoch", int64: [Int64(epoch)]), StateArray(name: "step", int64: [Int64(step)]),
             StateArray(name: "epoch_sums", array: HDF5Array(shape: [3], values: .float64(sums)))]
                + history.stateArrays + [digestArray(startDigestSaved)]
        }
        func saveResume(epoch: Int, step: Int) throws {
            guard let resumeFile else { return }
            var meta = base
            meta.role = CheckpointRole(rawValue: config.role) ?? .finetuned
            meta.config = configJSON
            meta.seed = config.training.seed
            meta.epoch = epoch
            meta.step = epoch * steps + step
            meta.method = config.method
            meta.member = config.member
            meta.created = CheckpointMetadata.timestamp()
            try Checkpoint(model: model, metadata: meta, optimizer: optimizer, state: state(epoch: epoch, step: step))
                .write(to: resumeFile)
            lastSave = Date()
        }

        let sampler = try BatchSampler(count: data.train.count, batchSize: config.training.batchSize, seed: config.training.seed)
        // Padding is black before normalization, as torchvision pads the raw image: the data's own normalized zero.
        let augmentation = config.training.augment
            ? Augmentation(padding: 2, flipProbability: 0.5, normalization: data.normalization) : nil
        var images = Tensor(zeros: [0]), augmented = Tensor(zeros: [0])
        while epoch < epochs {
            var batches = try sampler.epoch(epoch, startingAt: step)
            let epochStart = Date()
            while let indices = batches.next() {
                let s = batches.step - 1
                let labels = try data.train.batch(indices: indices, into: &images)
                var input = images
                if let augmentation {
                    var rng = RandomGenerator.stream(seed: config.training.seed, purpose: "augment-\(epoch)-\(s)")
                    try augmentation.apply(images, into: &augmented, rng: &rng)
                    input = augmented
                }
                let global = epoch * steps + s
                let lr = config.learningRate(step: global, stepsPerEpoch: steps)
                if s == 0 { history.learningRate.append(Double(lr)) }
                model.zeroGradients()
                let (logits, cache) = try model.forward(input, .train)
                let ce = try CrossEntropy.evaluate(logits: logits, labels: labels)
                guard ce.loss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: s, loss: ce.loss) }
                model.backward(ce.gradient, cache)
                optimizer.step(model.parameters, lr: lr)
                sums[0] += ce.loss * Double(indices.count)
                sums[1] += Double(ce.correct)
                sums[2] += Double(indices.count)
                let done = Double(global + 1 - firstGlobal) / Double(max(totalSteps - firstGlobal, 1))
                progress.report(epoch: epoch, epochs: epochs, step: s + 1, steps: steps, loss: ce.loss, lr: lr,
                                elapsed: Date().timeIntervalSince(runStart), done: done)
                let next = s + 1
                if next < steps {
                    let byCount = policy.everySteps.map { (global + 1) % $0 == 0 } ?? false
                    let byTime = policy.everySeconds.map { Date().timeIntervalSince(lastSave) >= $0 } ?? false
                    if byCount || byTime { try saveResume(epoch: epoch, step: next) }
                }
            }
            let record = EpochRecord(epoch: epoch, trainLoss: sums[0] / max(sums[2], 1),
                                     trainAccuracy: sums[1] / max(sums[2], 1),
                                     learningRate: Float(history.learningRate.last ?? 0),
                                     seconds: Date().timeIntervalSince(epochStart))
            history.trainLoss.append(record.trainLoss)
            history.trainAccuracy.append(record.trainAccuracy)
            sums = [0, 0, 0]
            epoch += 1
            step = 0
            try onEpochEnd?(epoch - 1, record)
            if epoch < epochs {
                let byCount = policy.everySteps.map { (epoch * steps) % $0 == 0 } ?? true
                let byTime = policy.everySeconds.map { Date().timeIntervalSince(lastSave) >= $0 } ?? false
                if byCount || byTime { try saveResume(epoch: epoch, step: 0) }
            }
        }

        let evaluation = try Training.evaluate(model, on: data.evaluation, keepProbabilities: savePredictions)
        var meta = base
        meta.role = CheckpointRole(rawValue: config.role) ?? .finetuned
        meta.config = configJSON
        meta.seed = config.training.seed
        meta.epoch = epochs
        meta.step = totalSteps
        meta.method = config.method
        meta.member = config.member
        meta.created = CheckpointMetadata.timestamp()
        let split = data.evaluationSplit.rawValue
        meta.metrics["\(split)_loss"] = evaluation.loss
        meta.metrics["\(split)_acc"] = evaluation.accuracy
        if let loss = history.trainLoss.last, let acc = history.trainAccuracy.last {
            meta.metrics["train_loss"] = loss
            meta.metrics["train_acc"] = acc
        }
        var predictions: [String: Predictions] = [:]
        if let probs = evaluation.probabilities {
            predictions[split] = Predictions(probs: probs, labels: data.evaluation.labels.map(Int64.init))
        }
        // FGE carries its momentum into the next cycle, so its snapshots keep the optimizer.
        let keepOptimizer = config.training.schedule == "fge"
        let final = Checkpoint(model: model, metadata: meta, optimizer: keepOptimizer ? optimizer : nil,
                               state: history.stateArrays + [digestArray(startDigestSaved)], predictions: predictions)
        guard let out, let resumeFile else { return final }
        try final.write(to: out)
        if unlink(resumeFile) != 0 && errno != ENOENT {
            throw FileError(file: resumeFile, step: "remove finished resume checkpoint", detail: String(cString: strerror(errno)))
        }
        return final
    }

    private func digestArray(_ hex: String) -> StateArray {
        // The 32 digest bytes as int64 values 0...255: plain numbers in any HDF5 viewer.
        var bytes: [Int64] = []
        var chars = Array(hex)
        while chars.count >= 2 {
            bytes.append(Int64(String(chars.prefix(2)), radix: 16) ?? 0)
            chars.removeFirst(2)
        }
        return StateArray(name: "start_params_sha256", int64: bytes)
    }

    private func restore(from file: String) throws
        -> (epoch: Int, step: Int, sums: [Double], history: History, startDigest: String) {
        let checkpoint = try readCheckpoint(path: file, expecting: CheckpointExpectation(model: model, requireOptimizer: true),
                                            allowNonFinite: allowNonFinite)
        let saved: RunConfig
        do {
            saved = try RunConfig.decode(json: checkpoint.metadata.config)
        } catch {
            throw RunError.badResumeState(file: file, detail: "config attribute is not a run configuration (\(error))")
        }
        let differences = config.differences(from: saved)
        guard differences.isEmpty else { throw RunError.configMismatch(file: file, differences: differences) }
        func integer(_ name: String) throws -> Int {
            guard let a = checkpoint.stateArray(named: name), a.array.values.count == 1,
                  let v = a.array.values.asDoubles.first, v >= 0 else {
                throw RunError.badResumeState(file: file, detail: "state/\(name) missing or malformed")
            }
            return Int(v)
        }
        let epoch = try integer("epoch"), step = try integer("step")
        guard epoch < config.training.epochs, step < stepsPerEpoch else {
            throw RunError.badResumeState(file: file, detail: "position epoch \(epoch) step \(step) outside the run")
        }
        guard let sums = checkpoint.stateArray(named: "epoch_sums"), case .float64(let values) = sums.array.values,
              values.count == 3 else {
            throw RunError.badResumeState(file: file, detail: "state/epoch_sums missing or malformed")
        }
        let history = History(checkpoint: checkpoint)
        guard history.trainLoss.count == epoch, history.learningRate.count == epoch + (step > 0 ? 1 : 0) else {
            throw RunError.badResumeState(file: file, detail: "history length does not match epoch \(epoch)")
        }
        let digest = startDigest(of: checkpoint) ?? ""
        checkpoint.load(into: model)
        checkpoint.loadOptimizerState(into: optimizer)
        return (epoch, step, values, history, digest)
    }
}

/// The digest of the start weights a checkpoint recorded (`/state/start_params_sha256`), as
/// hex, comparable with `parameterDigest`.
public func startDigest(of checkpoint: Checkpoint) -> String? {
    guard let a = checkpoint.stateArray(named: "start_params_sha256"), case .int64(let bytes) = a.array.values,
          bytes.count == 32, bytes.allSatisfy({ (0...255).contains($0) }) else { return nil }
    return bytes.map { String(format: "%02x", Int($0)) }.joined()
}
