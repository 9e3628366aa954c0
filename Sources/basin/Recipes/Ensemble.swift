import ArgumentParser
import BasinCheckpoint
import BasinCore
import BasinData
import BasinRecipes
import Foundation

extension EnsembleMethod: ExpressibleByArgument {}

/// Cycle settings of SSE, StarSSE and FGE, absolute or relative to the fine-tuning run.
struct CycleOptions: ParsableArguments {
    @Option(help: "Cycle peak LR.") var cycleLr: Float?
    @Option(help: "Cycle peak LR as a multiple of the fine-tuning LR (default 1).") var cycleLrRatio: Double?
    @Option(help: "Cycle length in epochs.") var cycleEpochs: Int?
    @Option(help: "Cycle length as a multiple of the fine-tuning epochs, rounded (default 1).") var cycleEpochRatio: Double?
    @Option(help: "Linear warmup epochs at each SSE/StarSSE cycle start.") var cycleWarmupEpochs: Int = 0
    @Option(help: "FGE: the low LR as a fraction of the cycle LR.") var fgeLowRatio: Float = 0.01

    func validate() throws {
        if cycleLr != nil && cycleLrRatio != nil { throw ValidationError("give --cycle-lr or --cycle-lr-ratio, not both") }
        if cycleEpochs != nil && cycleEpochRatio != nil {
            throw ValidationError("give --cycle-epochs or --cycle-epoch-ratio, not both")
        }
        if let cycleLr, !(cycleLr > 0 && cycleLr.isFinite) { throw ValidationError("--cycle-lr must be positive") }
        if let r = cycleLrRatio, !(r > 0 && r.isFinite) { throw ValidationError("--cycle-lr-ratio must be positive") }
        if let e = cycleEpochs, e < 1 { throw ValidationError("--cycle-epochs must be at least 1") }
        if let r = cycleEpochRatio, !(r > 0 && r.isFinite) { throw ValidationError("--cycle-epoch-ratio must be positive") }
        guard cycleWarmupEpochs >= 0 else { throw ValidationError("--cycle-warmup-epochs must be non-negative") }
        guard fgeLowRatio > 0, fgeLowRatio < 1 else { throw ValidationError("--fge-low-ratio must be in (0, 1)") }
    }

    func settings(fineTuning: TrainingConfig, lrRatio: Double? = nil, epochRatio: Double? = nil) throws -> CycleSettings {
        var cycle = CycleSettings(fineTuning: fineTuning, lrRatio: lrRatio ?? cycleLrRatio ?? 1,
                                  epochRatio: epochRatio ?? cycleEpochRatio ?? 1, warmupEpochs: cycleWarmupEpochs,
                                  fgeLowRatio: fgeLowRatio)
        if lrRatio == nil, let cycleLr { cycle.learningRate = cycleLr }
        if epochRatio == nil, let cycleEpochs { cycle.epochs = cycleEpochs }
        guard cycle.warmupEpochs < cycle.epochs else {
            throw ValidationError("--cycle-warmup-epochs \(cycle.warmupEpochs) must be below the cycle's \(cycle.epochs) epochs")
        }
        return cycle
    }
}

/// What ensemble and sweep share: the fine-tuning of member 1, seeds and output handling.
struct EnsembleCommon: ParsableArguments {
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var task: TaskOptions
    @OptionGroup var sgd: OptimizerOptions
    @OptionGroup var runOptions: RunOptions
    @Option(name: .customShort("n"), help: "Ensemble size.") var count: Int
    @Option(help: "Output folder.") var outDir: String
    @Option(help: "Seed of member 1; member k uses seed + k - 1.") var seed: UInt64 = 0
    @Option(help: "Model for scratch-de: mlp, cnn or resnet20.") var model: Architecture = .cnn

    func validate() throws {
        guard count >= 1 else { throw ValidationError("-n must be at least 1, got \(count)") }
    }

    /// The architecture of the first start checkpoint (validated), or --model, and the data set
    /// that checkpoint records (members train on it unless --dataset says otherwise).
    func architecture(from files: [String]) throws -> (Architecture, DatasetConfig?) {
        guard let first = files.first else { return (model, nil) }
        let (net, checkpoint) = try loadModel(path: first, allowNonFinite: runOptions.allowNonfinite)
        return (net.architecture, try recordedDataset(checkpoint, path: first))
    }

    /// The task of the flags (default: the fine-tuning task) on the data set, loaded.
    func taskData(recorded: DatasetConfig?, recordedBy: String?) throws -> (TaskConfig, TaskData) {
        let loaded = try data.load(recorded: recorded, recordedBy: recordedBy)
        var config = try task.task(default: .defaultTarget)
        config.dataset = loaded.config
        return (config, try TaskData(config, from: loaded))
    }

    func summarize(_ plan: EnsemblePlan, label: String) throws {
        let paths = (1...plan.count).map(plan.memberPath)
        guard paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return }
        var predictions: [Predictions] = []
        for path in paths {
            let checkpoint = try readCheckpoint(path: path, allowNonFinite: runOptions.allowNonfinite)
            guard let p = checkpoint.predictions["test"] else {
                throw ValidationError("\(path) holds no test predictions (run basin evaluate --save-predictions)")
            }
            predictions.append(p)
        }
        let s = try EnsembleSummary(predictions)
        let mean = { (v: [Double]) in v.reduce(0, +) / Double(v.count) }
        print(String(format: "%@ n=%d member_acc_mean=%.4f member_nll_mean=%.4f ensemble_acc=%.4f ensemble_nll=%.4f member_acc=%@",
                     label, plan.count, mean(s.memberAccuracy), mean(s.memberNLL), s.ensembleAccuracy, s.ensembleNLL,
                     s.memberAccuracy.map { String(format: "%.4f", $0) }.joined(separator: ",")))
    }

    func runMembers(_ plan: EnsemblePlan, only: Int?, taskData: TaskData) throws {
        let members = only.map { [$0] } ?? Array(1...plan.count)
        for k in members {
            let begin = Date()
            let trained = try runMember(k, of: plan, data: taskData, resume: runOptions.resume,
                                        policy: runOptions.policy, allowNonFinite: runOptions.allowNonfinite,
                                        quiet: runOptions.quiet)
            let path = plan.memberPath(k)
            let metrics = try readCheckpoint(path: path, allowNonFinite: runOptions.allowNonfinite).metadata.metrics
            printSummary(path, metrics: metrics,
                         extra: " member=\(k) " + (trained ? String(format: "seconds=%.1f", Date().timeIntervalSince(begin)) : "skipped=1"))
            try writeManifest(plan)
        }
    }
}

/// Trains the members of one ensemble (all, or one with --member).
struct Ensemble: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an ensemble: local-de, global-de, sse, starsse, fge or scratch-de.",
        discussion: "Writes member-1.h5 ... member-N.h5 (each with test predictions) and manifest.json in --out-dir. "
            + "Members present are skipped, so rerunning continues an ensemble. Member 1 of sse/starsse/fge is the "
            + "local-de member 1 (a standard fine-tuning with --seed).")

    @Argument(help: "Method: local-de, global-de, sse, starsse, fge or scratch-de.") var method: EnsembleMethod
    @OptionGroup var common: EnsembleCommon
    @OptionGroup var cycle: CycleOptions
    @Option(parsing: .upToNextOption, help: "Pre-trained checkpoint(s): one, or one per member for global-de.")
    var from: [String] = []
    @Option(help: "Train only member K (its dependencies must exist).") var member: Int?

    func validate() throws {
        if let member, !(1...common.count).contains(member) {
            throw ValidationError("--member must be in 1...\(common.count), got \(member)")
        }
    }

    func run() throws {
        common.compute.apply()
        try ensureFolder(common.outDir)
        let (architecture, recorded) = try common.architecture(from: from)
        let fineTuning = common.sgd.config(architecture, seed: common.seed, defaults: .fineTuning)
        let cycleSettings = method.isCyclic ? try cycle.settings(fineTuning: fineTuning) : nil
        // The plan checks its arguments before the data set is read.
        var plan = try EnsemblePlan(method: method, count: common.count, seed: common.seed, pretrained: from,
                                    architecture: architecture, task: try common.task.task(default: .defaultTarget),
                                    fineTuning: fineTuning, cycle: cycleSettings, outDir: common.outDir)
        let taskData: TaskData
        (plan.task, taskData) = try common.taskData(recorded: recorded, recordedBy: from.first)
        try common.runMembers(plan, only: member, taskData: taskData)
        try common.summarize(plan, label: "method=\(method.rawValue)")
    }
}

/// One SSE or StarSSE ensemble per (cycle LR ratio, cycle epoch ratio) cell.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sweep cycle LR and length ratios for sse or starsse: one ensemble per cell, member 1 shared.",
        discussion: "Member 1 is --out-dir/member-1.h5; cell (r, e) is the folder lr<r>_ep<e> with members 2..N "
            + "and its manifest.")

    @Argument(help: "Method: sse or starsse.") var method: EnsembleMethod
    @OptionGroup var common: EnsembleCommon
    @Option(help: "Pre-trained checkpoint.") var from: String
    @Option(help: "Comma-separated cycle LR ratios.") var lrRatios: String = "0.25,0.5,1,2,4"
    @Option(help: "Comma-separated cycle epoch ratios.") var epochRatios: String = "0.5,1,2,4"
    @Option(help: "Linear warmup epochs at each cycle start.") var cycleWarmupEpochs: Int = 0
    @Option(help: "Run only the cell with this LR ratio (with --cell-epoch-ratio), e.g. for make -j2.") var cellLrRatio: Double?
    @Option(help: "Run only the cell with this epoch ratio.") var cellEpochRatio: Double?

    func validate() throws {
        guard method == .sse || method == .starsse else { throw ValidationError("sweep takes sse or starsse, got \(method.rawValue)") }
        _ = try ratios(lrRatios, "--lr-ratios")
        _ = try ratios(epochRatios, "--epoch-ratios")
        if (cellLrRatio == nil) != (cellEpochRatio == nil) {
            throw ValidationError("give both --cell-lr-ratio and --cell-epoch-ratio, or neither")
        }
    }

    func ratios(_ text: String, _ flag: String) throws -> [Double] {
        let parts = text.split(separator: ",")
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ValidationError("\(flag) must be comma-separated positive numbers, got '\(text)'")
        }
        return values
    }

    static func label(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(x)
    }

    func run() throws {
        common.compute.apply()
        try ensureFolder(common.outDir)
        let (architecture, recorded) = try common.architecture(from: [from])
        let (taskConfig, taskData) = try common.taskData(recorded: recorded, recordedBy: from)
        let fineTuning = common.sgd.config(architecture, seed: common.seed, defaults: .fineTuning)
        let memberOne = common.outDir + "/member-1.h5"
        var cells: [(Double, Double)] = []
        for r in try ratios(lrRatios, "--lr-ratios") { for e in try ratios(epochRatios, "--epoch-ratios") { cells.append((r, e)) } }
        if let r = cellLrRatio, let e = cellEpochRatio { cells = [(r, e)] }
        for (r, e) in cells {
            let folder = common.outDir + "/lr\(Self.label(r))_ep\(Self.label(e))"
            try ensureFolder(folder)
            let cycle = CycleSettings(fineTuning: fineTuning, lrRatio: r, epochRatio: e, warmupEpochs: cycleWarmupEpochs)
            guard cycle.warmupEpochs < cycle.epochs else {
                throw ValidationError("--cycle-warmup-epochs \(cycleWarmupEpochs) must be below cell (\(r), \(e))'s \(cycle.epochs) epochs")
            }
            let plan = try EnsemblePlan(method: method, count: common.count, seed: common.seed, pretrained: [from],
                                        architecture: architecture, task: taskConfig, fineTuning: fineTuning, cycle: cycle,
                                        outDir: folder, memberOnePath: memberOne)
            try common.runMembers(plan, only: nil, taskData: taskData)
            try common.summarize(plan, label: "method=\(method.rawValue) lr_ratio=\(r) epoch_ratio=\(e) cycle_lr=\(cycle.learningRate) cycle_epochs=\(cycle.epochs)")
        }
    }
}
