import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// The ensemble methods of the study.
public enum EnsembleMethod: String, CaseIterable, Codable, Sendable {
    /// Independent trainings from random initialization (the no-transfer baseline).
    case scratchDE = "scratch-de"
    /// Fine-tunings of one pre-trained checkpoint with different seeds.
    case localDE = "local-de"
    /// One fine-tuning of each of several pre-trained checkpoints.
    case globalDE = "global-de"
    /// Snapshot ensemble: cosine cycles, each from the previous member.
    case sse
    /// Cosine cycles that all start from member 1.
    case starsse
    /// Fast geometric ensembling: triangular cycles chained, momentum carried over.
    case fge

    public var isCyclic: Bool { self == .sse || self == .starsse || self == .fge }
}

/// The cycles of SSE, StarSSE and FGE (members 2...N).
public struct CycleSettings: Codable, Equatable, Sendable {
    public var learningRate: Float
    public var epochs: Int
    public var warmupEpochs: Int
    /// FGE's low LR as a fraction of `learningRate`.
    public var fgeLowRatio: Float

    public init(learningRate: Float, epochs: Int, warmupEpochs: Int = 0, fgeLowRatio: Float = 0.01) {
        self.learningRate = learningRate
        self.epochs = epochs
        self.warmupEpochs = warmupEpochs
        self.fgeLowRatio = fgeLowRatio
    }

    /// Cycles given relative to the fine-tuning run, as in the paper: LR `lrRatio` times the
    /// fine-tuning LR, `epochRatio` times its epochs (rounded, at least 1).
    public init(fineTuning: TrainingConfig, lrRatio: Double, epochRatio: Double, warmupEpochs: Int = 0,
                fgeLowRatio: Float = 0.01) {
        self.init(learningRate: Float(Double(fineTuning.learningRate) * lrRatio),
                  epochs: max(1, Int((Double(fineTuning.epochs) * epochRatio).rounded())),
                  warmupEpochs: warmupEpochs, fgeLowRatio: fgeLowRatio)
    }
}

public enum EnsembleError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}

/// How to build every member of one ensemble. Member k trains with seed `seed + k - 1`
/// (its new head, data order and augmentation); member 1 of every method except Global DE
/// and scratch DE is the same standard fine-tuning, so it can be shared between methods and
/// sweep cells.
public struct EnsemblePlan: Sendable {
    public var method: EnsembleMethod
    public var count: Int
    public var seed: UInt64
    /// Pre-trained checkpoints: one (or, for Global DE, `count`); none for scratch DE.
    public var pretrained: [String]
    public var architecture: Architecture
    public var task: TaskConfig
    /// The fine-tuning of member 1 (and of every DE member); its seed is replaced per member.
    public var fineTuning: TrainingConfig
    public var cycle: CycleSettings?
    public var outDir: String
    /// Where member 1 lives (default `outDir/member-1.h5`); a sweep points every cell at one file.
    public var memberOnePath: String?

    public init(method: EnsembleMethod, count: Int, seed: UInt64, pretrained: [String], architecture: Architecture,
                task: TaskConfig, fineTuning: TrainingConfig, cycle: CycleSettings?, outDir: String,
                memberOnePath: String? = nil) throws {
        self.method = method
        self.count = count
        self.seed = seed
        self.pretrained = pretrained
        self.architecture = architecture
        self.task = task
        self.fineTuning = fineTuning
        self.cycle = cycle
        self.outDir = outDir
        self.memberOnePath = memberOnePath
        guard count >= 1 else { throw EnsembleError.invalid("ensemble size -n must be at least 1, got \(count)") }
        switch method {
        case .scratchDE:
            guard pretrained.isEmpty else { throw EnsembleError.invalid("scratch-de takes no --from checkpoint") }
        case .globalDE:
            guard pretrained.count == count else {
                throw EnsembleError.invalid("global-de needs one --from checkpoint per member: \(pretrained.count) given for -n \(count)")
            }
        default:
            guard pretrained.count == 1 else {
                throw EnsembleError.invalid("\(method.rawValue) needs exactly one --from checkpoint, \(pretrained.count) given")
            }
        }
        if method.isCyclic && count > 1 && cycle == nil {
            throw EnsembleError.invalid("\(method.rawValue) needs cycle settings (--cycle-lr or --cycle-lr-ratio, --cycle-epochs or --cycle-epoch-ratio)")
        }
    }

    public func memberPath(_ k: Int) -> String {
        if k == 1, let memberOnePath { return memberOnePath }
        return outDir + "/member-\(k).h5"
    }

    /// The checkpoint member k starts from (nil: random initialization).
    public func startFile(member k: Int) -> String? {
        switch method {
        case .scratchDE: return nil
        case .globalDE: return pretrained[k - 1]
        case .localDE: return pretrained[0]
        case .sse, .fge: return k == 1 ? pretrained[0] : memberPath(k - 1)
        case .starsse: return k == 1 ? pretrained[0] : memberPath(1)
        }
    }

    /// The configuration of member k, given the SHA-256 of its start file.
    public func config(member k: Int, startSHA256: String?) -> RunConfig {
        var training = fineTuning
        training.seed = seed &+ UInt64(k - 1)
        var start: StartPoint?
        if let file = startFile(member: k), let sha = startSHA256 {
            start = StartPoint(path: file, sha256: sha, newHead: !(method.isCyclic && k > 1),
                               keepOptimizer: method == .fge && k > 1)
        }
        var role = method == .scratchDE ? "pretrained" : "finetuned"
        var low: Float?
        if method.isCyclic && k > 1, let cycle {
            training.learningRate = cycle.learningRate
            training.epochs = cycle.epochs
            training.warmupEpochs = method == .fge ? 0 : cycle.warmupEpochs
            training.schedule = method == .fge ? "fge" : "cosine"
            low = method == .fge ? cycle.fgeLowRatio : nil
            role = "snapshot"
        }
        // Member 1 of the cyclic methods is Local DE's member 1: one file serves them all.
        let methodName = method.isCyclic && k == 1 ? EnsembleMethod.localDE.rawValue : method.rawValue
        return RunConfig(training: training, task: task, role: role, method: methodName, member: k, start: start,
                         lowLearningRateRatio: low)
    }

    /// Members k needs to exist before it can start.
    public func dependency(member k: Int) -> Int? {
        guard method.isCyclic, k > 1 else { return nil }
        return method == .starsse ? 1 : k - 1
    }
}

/// Builds the start model and optimizer of a run from its configuration: random init, or
/// the start file (checked against the SHA-256 in the config) with an optional new head.
public func startState(for config: RunConfig, architecture: Architecture, allowNonFinite: Bool = false) throws
    -> (model: Model, optimizer: SGD) {
    let t = config.training
    let optimizer = SGD(momentum: t.momentum, weightDecay: t.weightDecay, nesterov: t.nesterov)
    // The images the run will see.
    let shape = config.task.dataset.inputShape
    guard shape.count == 3 else {
        throw EnsembleError.invalid("the task's input shape \(shape) is not [C, H, W] (\(config.task.dataset.source))")
    }
    guard let start = config.start else {
        let model = Model(architecture, numClasses: config.task.classes.count, inChannels: shape[0], imageHeight: shape[1],
                          imageWidth: shape[2], seed: t.seed)
        if let problem = ModelInput(model: model).mismatch(imageShape: shape, data: "the \(config.task.dataset.source)") {
            throw ModelInputError(model: "a new \(architecture.rawValue)", detail: problem)
        }
        return (model, optimizer)
    }
    let (model, checkpoint) = try loadModel(path: start.path, imageShape: shape, dataName: "the \(config.task.dataset.source)",
                                            allowNonFinite: allowNonFinite)
    if start.newHead {
        model.replaceHead(numClasses: config.task.classes.count, seed: t.seed)
    } else if model.numClasses != config.task.classes.count {
        throw EnsembleError.invalid("\(start.path) has \(model.numClasses) classes, the task has \(config.task.classes.count)")
    }
    if start.keepOptimizer { checkpoint.loadOptimizerState(into: optimizer) }
    return (model, optimizer)
}

/// As `runMember(_:of:data:...)`; the data set is the plan's (`plan.task.dataset`), never a folder given here.
@available(*, deprecated, message: "the data set is plan.task.dataset; drop dataDirectory")
@discardableResult
public func runMember(_ k: Int, of plan: EnsemblePlan, dataDirectory: String, data: TaskData? = nil, resume: Bool,
                      policy: CheckpointPolicy, allowNonFinite: Bool = false, quiet: Bool = false) throws -> Bool {
    try runMember(k, of: plan, data: data, resume: resume, policy: policy, allowNonFinite: allowNonFinite, quiet: quiet)
}

/// Runs member k of `plan` unless its file exists, on `data` or else on the plan's task loaded
/// from its data set. Returns whether it trained.
@discardableResult
public func runMember(_ k: Int, of plan: EnsemblePlan, data: TaskData? = nil, resume: Bool,
                      policy: CheckpointPolicy, allowNonFinite: Bool = false, quiet: Bool = false) throws -> Bool {
    let out = plan.memberPath(k)
    if FileManager.default.fileExists(atPath: out) { return false }
    let file = plan.startFile(member: k)
    var sha: String?
    if let file {
        guard FileManager.default.fileExists(atPath: file) else {
            if let d = plan.dependency(member: k) {
                throw RunError.missingStart("member \(k) of \(plan.method.rawValue) starts from member \(d), but \(file) does not exist: run member \(d) first")
            }
            throw RunError.missingStart("start checkpoint \(file) does not exist")
        }
        sha = try sha256(ofFile: file)
    }
    let config = plan.config(member: k, startSHA256: sha)
    let (model, optimizer) = try startState(for: config, architecture: plan.architecture, allowNonFinite: allowNonFinite)
    let taskData = try data ?? TaskData.load(plan.task)
    let run = TrainingRun(config: config, model: model, optimizer: optimizer, data: taskData,
                          progressLabel: "\(plan.method.rawValue) member \(k)/\(plan.count)")
    run.policy = policy
    run.quiet = quiet
    run.allowNonFinite = allowNonFinite
    let meta = CheckpointMetadata(architecture: model.architecture.rawValue, numClasses: model.numClasses,
                                  role: .finetuned, parent: file, parentSHA256: sha)
    try run.run(out: out, resume: resume, metadata: meta)
    return true
}

/// Writes `outDir/manifest.json` listing the members present (atomically).
public func writeManifest(_ plan: EnsemblePlan, extra: [String: String] = [:]) throws {
    var members: [[String: Any]] = []
    for k in 1...plan.count {
        let path = plan.memberPath(k)
        var entry: [String: Any] = ["member": k, "file": relativePath(path, to: plan.outDir),
                                    "present": FileManager.default.fileExists(atPath: path)]
        if let start = plan.startFile(member: k) { entry["start"] = start }
        entry["seed"] = plan.seed &+ UInt64(k - 1)
        members.append(entry)
    }
    var object: [String: Any] = ["method": plan.method.rawValue, "n": plan.count, "seed": plan.seed,
                                 "architecture": plan.architecture.rawValue, "members": members]
    if let data = try? JSONEncoder().encode(plan.fineTuning),
       let json = try? JSONSerialization.jsonObject(with: data) { object["fine_tuning"] = json }
    if let cycle = plan.cycle, let data = try? JSONEncoder().encode(cycle),
       let json = try? JSONSerialization.jsonObject(with: data) { object["cycle"] = json }
    if let data = try? JSONEncoder().encode(plan.task),
       let json = try? JSONSerialization.jsonObject(with: data) { object["task"] = json }
    for (k, v) in extra { object[k] = v }
    let bytes = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(to: plan.outDir + "/manifest.json") { tmp in
        try bytes.write(to: URL(fileURLWithPath: tmp))
    }
}

func relativePath(_ path: String, to folder: String) -> String {
    let base = URL(fileURLWithPath: folder).standardizedFileURL.path
    let full = URL(fileURLWithPath: path).standardizedFileURL.path
    if full.hasPrefix(base + "/") { return String(full.dropFirst(base.count + 1)) }
    let parent = URL(fileURLWithPath: base).deletingLastPathComponent().path
    if full.hasPrefix(parent + "/") { return "../" + String(full.dropFirst(parent.count + 1)) }
    return full
}

/// Accuracy and NLL of members and of their ensemble (mean of predicted probabilities).
public struct EnsembleSummary: Equatable, Sendable {
    public var memberAccuracy: [Double]
    public var memberNLL: [Double]
    public var ensembleAccuracy: Double
    public var ensembleNLL: Double

    public init(_ predictions: [Predictions]) throws {
        guard let first = predictions.first else { throw EnsembleError.invalid("no member predictions to summarize") }
        for p in predictions where p.probs.shape != first.probs.shape || p.labels != first.labels {
            throw EnsembleError.invalid("member predictions disagree in shape or labels")
        }
        let n = first.labels.count, c = first.probs.shape[1]
        func score(_ probs: (Int, Int) -> Double) -> (Double, Double) {
            var correct = 0, nll = 0.0
            for i in 0..<n {
                var best = 0
                for j in 1..<max(c, 1) where probs(i, j) > probs(i, best) { best = j }
                if best == Int(first.labels[i]) { correct += 1 }
                // Clamped so one confident mistake gives a large but finite NLL.
                nll -= log(max(probs(i, Int(first.labels[i])), 1e-12))
            }
            return (Double(correct) / Double(max(n, 1)), nll / Double(max(n, 1)))
        }
        var acc: [Double] = [], nlls: [Double] = []
        for p in predictions {
            let (a, l) = score { Double(p.probs.storage[$0 * c + $1]) }
            acc.append(a)
            nlls.append(l)
        }
        var mean = [Double](repeating: 0, count: n * c)
        for p in predictions { for i in 0..<(n * c) { mean[i] += Double(p.probs.storage[i]) / Double(predictions.count) } }
        (ensembleAccuracy, ensembleNLL) = score { mean[$0 * c + $1] }
        memberAccuracy = acc
        memberNLL = nlls
    }
}
