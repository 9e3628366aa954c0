import BasinCore
import BasinData
import Foundation

/// The data a run trains and evaluates on: a class subset of a data set, relabelled
/// 0..<classes.count, optionally with `perClass` training images drawn with `dataSeed`.
public struct TaskConfig: Codable, Hashable, Sendable {
    public var classes: [Int]
    public var perClass: Int?
    public var dataSeed: UInt64
    /// The data set the classes index, its image shape and normalization.
    public var dataset: DatasetConfig

    public init(classes: [Int], perClass: Int? = nil, dataSeed: UInt64 = 0, dataset: DatasetConfig = .fashionMNIST) {
        self.classes = classes
        self.perClass = perClass
        self.dataSeed = dataSeed
        self.dataset = dataset
    }

    private enum CodingKeys: String, CodingKey { case classes, perClass, dataSeed, dataset }

    /// Configurations written before the data set was recorded were all trained on Fashion-MNIST
    /// from its default folder: they decode as that.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        classes = try c.decode([Int].self, forKey: .classes)
        perClass = try c.decodeIfPresent(Int.self, forKey: .perClass)
        dataSeed = try c.decode(UInt64.self, forKey: .dataSeed)
        dataset = try c.decodeIfPresent(DatasetConfig.self, forKey: .dataset) ?? .fashionMNIST
    }

    /// Pre-training of the default task: source classes, every training image.
    public static let defaultSource = TaskConfig(classes: TransferTask.fashionMNISTSourceClasses)
    /// Fine-tuning of the default task: target classes, 200 training images per class.
    public static let defaultTarget = TaskConfig(classes: TransferTask.fashionMNISTTargetClasses, perClass: 200)
    /// Every class of Fashion-MNIST (what `basin train` uses).
    public static let allClasses = TaskConfig(classes: Array(0..<10))

    public var transferTask: TransferTask { TransferTask(classes: classes, perClass: perClass, dataSeed: dataSeed) }
}

/// A task's training set and one evaluation split, normalized.
public struct TaskData: Sendable {
    public var train: Dataset
    public var evaluation: Dataset
    public var evaluationSplit: Split
    /// The statistics the images were normalized with: augmentation pads with their black.
    public var normalization: Normalization

    public init(train: Dataset, evaluation: Dataset, evaluationSplit: Split = .test,
                normalization: Normalization = .fashionMNIST) {
        self.train = train
        self.evaluation = evaluation
        self.evaluationSplit = evaluationSplit
        self.normalization = normalization
    }

    /// The task's images from a loaded data set: its training split is the per-class sample,
    /// its test split every test image of the task's classes.
    public init(_ task: TaskConfig, from data: LoadedData, evaluationSplit: Split = .test) throws {
        let transfer = task.transferTask
        try transfer.check(classCount: data.config.numClasses, dataName: data.config.source.description)
        let train = try transfer.trainingSet(from: data.train)
        let evaluation = evaluationSplit == .train ? train : try transfer.evaluationSet(from: data.test)
        self.init(train: train, evaluation: evaluation, evaluationSplit: evaluationSplit,
                  normalization: data.config.normalization)
    }

    /// Loads the task's data set and selects the task. The data must still be what the
    /// configuration recorded (same shape, classes and statistics).
    public static func load(_ task: TaskConfig, evaluationSplit: Split = .test) throws -> TaskData {
        let data = try task.dataset.source.load()
        guard data.config == task.dataset else {
            throw DataError.invalidArgument("the \(task.dataset.source) changed since the run was configured: "
                                            + "recorded \(task.dataset.inputShape), \(task.dataset.numClasses) classes, "
                                            + "mean \(task.dataset.normalization.mean); found \(data.config.inputShape), "
                                            + "\(data.config.numClasses) classes, mean \(data.config.normalization.mean)")
        }
        return try TaskData(task, from: data, evaluationSplit: evaluationSplit)
    }
}

/// The checkpoint a run starts from, pinned by its SHA-256 so a resumed run cannot silently
/// continue from different weights.
public struct StartPoint: Codable, Equatable, Sendable {
    public var path: String
    public var sha256: String
    /// Replace the classifier head with a fresh one drawn from the run's seed (fine-tuning).
    public var newHead: Bool
    /// Load the start file's momentum (FGE continues its trajectory); otherwise SGD starts fresh.
    public var keepOptimizer: Bool

    public init(path: String, sha256: String, newHead: Bool, keepOptimizer: Bool = false) {
        self.path = path
        self.sha256 = sha256
        self.newHead = newHead
        self.keepOptimizer = keepOptimizer
    }
}

/// Everything that determines a run's result; stored as the checkpoint's `config` JSON and
/// compared on resume.
public struct RunConfig: Codable, Equatable, Sendable {
    public var training: TrainingConfig
    public var task: TaskConfig
    /// pretrained, finetuned or snapshot
    public var role: String
    public var method: String?
    public var member: Int?
    /// nil: random initialization from the seed.
    public var start: StartPoint?
    /// FGE: the triangular schedule's low end as a fraction of the learning rate.
    public var lowLearningRateRatio: Float?

    public init(training: TrainingConfig, task: TaskConfig, role: String, method: String? = nil, member: Int? = nil,
                start: StartPoint? = nil, lowLearningRateRatio: Float? = nil) {
        self.training = training
        self.task = task
        self.role = role
        self.method = method
        self.member = member
        self.start = start
        self.lowLearningRateRatio = lowLearningRateRatio
    }

    /// Learning rate of optimizer step `step` (counted from the run's start).
    ///
    /// "cosine": linear warmup then cosine to 0 at the run's end. "constant". "fge": one
    /// triangular cycle over the run that starts and ends at `lr * lowLearningRateRatio`
    /// and peaks at `lr` mid-way, so the snapshot at the run's end is taken at the low LR
    /// (Garipov et al. 2018 collect models at the minimum of the cycle).
    public func learningRate(step: Int, stepsPerEpoch: Int) -> Float {
        let t = training
        let total = t.epochs * stepsPerEpoch
        switch t.schedule {
        case "fge":
            // Schedule.triangular starts at its high end; this cycle is the same triangle shifted
            // by half a cycle, written out so odd step counts still start exactly at the low LR.
            let low = Double(t.learningRate * (lowLearningRateRatio ?? 0.01))
            let u = Double(min(max(step, 0), total)) / Double(max(total, 1))
            return Float(low + (Double(t.learningRate) - low) * (1 - abs(2 * u - 1)))
        default:
            return t.learningRateSchedule(stepsPerEpoch: stepsPerEpoch).learningRate(step: step)
        }
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func decode(json: String) throws -> RunConfig {
        try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8))
    }

    /// The fields that differ from `other`, as `name: a vs b`, for refusing a resume.
    public func differences(from other: RunConfig) -> [String] {
        func flatten(_ c: RunConfig) -> [String: String] {
            guard let data = try? JSONEncoder().encode(c),
                  let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
            var out: [String: String] = [:]
            func walk(_ value: Any, _ prefix: String) {
                if let dict = value as? [String: Any] {
                    for (k, v) in dict { walk(v, prefix.isEmpty ? k : prefix + "." + k) }
                } else {
                    out[prefix] = "\(value)"
                }
            }
            walk(object, "")
            return out
        }
        let a = flatten(self), b = flatten(other)
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            a[key] == b[key] ? nil : "\(key): \(b[key] ?? "absent") vs \(a[key] ?? "absent")"
        }
    }
}

/// Default SGD settings of a recipe (docs/RECIPES.md says how they were chosen).
public struct Recipe: Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float

    public init(epochs: Int, batchSize: Int, learningRate: Float) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
    }

    /// Pre-training on the source classes (30,000 images).
    public static let pretraining = Recipe(epochs: 2, batchSize: 128, learningRate: 0.05)
    /// Fine-tuning on 1,000 target images. 100 epochs (3,200 steps) bring member 1 to convergence
    /// (train accuracy about 97%); after 40 it is still at 92%, and SSE/StarSSE cycles then look
    /// good partly because they add training (docs/RECIPES.md).
    public static let fineTuning = Recipe(epochs: 100, batchSize: 32, learningRate: 0.02)
}
