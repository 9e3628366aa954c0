import ArgumentParser
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// Which classes a run uses; every field is optional so each command supplies its default task.
struct TaskOptions: ParsableArguments {
    @Option(help: "Comma-separated class indices, relabelled 0..C-1 in this order (default: the command's task, or the checkpoints' for analyses).")
    var classes: String?
    @Option(help: "Training images per class, drawn with --data-seed (default: the command's task, or the checkpoints' for analyses).")
    var perClass: Int?
    @Option(help: "Seed of the per-class training sample.") var dataSeed: UInt64?

    func validate() throws {
        if let perClass, perClass < 1 { throw ValidationError("--per-class must be at least 1, got \(perClass)") }
        _ = try parsedClasses()
    }

    func parsedClasses() throws -> [Int]? {
        guard let classes else { return nil }
        let parts = classes.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.count == parts.count else {
            throw ValidationError("--classes must be comma-separated integers, got '\(classes)'")
        }
        guard Set(values).count == values.count else { throw ValidationError("--classes repeats a class: '\(classes)'") }
        return values
    }

    /// `base` with the flags given applied.
    func task(default base: TaskConfig) throws -> TaskConfig {
        var task = base
        if let classes = try parsedClasses() {
            task.classes = classes
            // A new class list with the default task's per-class count would surprise: keep all
            // images unless --per-class says otherwise.
            if perClass == nil { task.perClass = base.classes == classes ? base.perClass : nil }
        }
        if let perClass { task.perClass = perClass }
        if let dataSeed { task.dataSeed = dataSeed }
        return task
    }
}

/// Output, resume and checkpoint cadence of a training command.
struct RunOptions: ParsableArguments {
    @Flag(help: "Continue from <out>.resume.h5 (bit-identical to an uninterrupted run).") var resume = false
    @Option(help: "Write the resume checkpoint every N optimizer steps (default: every epoch and every 60 s).")
    var checkpointEvery: Int?
    @Flag(help: "Accept NaN/Inf values in loaded checkpoints.") var allowNonfinite = false
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func validate() throws {
        if let checkpointEvery, checkpointEvery < 1 {
            throw ValidationError("--checkpoint-every must be at least 1, got \(checkpointEvery)")
        }
    }

    var policy: CheckpointPolicy {
        checkpointEvery.map { CheckpointPolicy(everySteps: $0, everySeconds: nil) } ?? CheckpointPolicy()
    }
}

/// SGD settings of a training run, with per-command defaults.
struct OptimizerOptions: ParsableArguments {
    @Option(help: "Epochs (default: the command's).") var epochs: Int?
    @Option(help: "Peak learning rate (default: the command's).") var lr: Float?
    @Option(help: "Batch size (default: the command's).") var batchSize: Int?
    @Option(help: "Linear warmup epochs before the cosine.") var warmupEpochs: Int = 0
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "Weight decay.") var weightDecay: Float = 5e-4
    @Flag(help: "Turn off random crop (pad 2) and horizontal flip.") var noAugment = false

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard warmupEpochs >= 0 else { throw ValidationError("--warmup-epochs must be non-negative") }
        guard momentum >= 0, momentum < 1 else { throw ValidationError("--momentum must be in [0, 1)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw ValidationError("--weight-decay must be non-negative") }
        if let epochs, warmupEpochs >= epochs { throw ValidationError("--warmup-epochs must be below --epochs") }
    }

    func config(_ arch: Architecture, seed: UInt64, defaults: Recipe) -> TrainingConfig {
        TrainingConfig(architecture: arch, epochs: epochs ?? defaults.epochs, batchSize: batchSize ?? defaults.batchSize,
                       learningRate: lr ?? defaults.learningRate, momentum: momentum, weightDecay: weightDecay,
                       warmupEpochs: warmupEpochs, schedule: "cosine", augment: !noAugment, seed: seed)
    }
}

func ensureFolder(of path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try ensureFolder(folder)
}

func ensureFolder(_ folder: String) throws {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
        guard isDir.boolValue else { throw ValidationError("\(folder) exists and is not a folder") }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw ValidationError("cannot create folder \(folder): \(error.localizedDescription)")
    }
}

func printSummary(_ checkpoint: String, metrics: [String: Double], extra: String = "") {
    let keys = metrics.keys.sorted()
    let values = keys.map { String(format: "%@=%.4f", $0, metrics[$0] ?? .nan) }.joined(separator: " ")
    print("file=\(checkpoint) \(values)\(extra)")
    // Ensembles print a line per member over minutes: let a log file see each one as it comes.
    fflush(stdout)
}
