import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import BasinRecipes
import Foundation
import TestSupport
import XCTest

/// Tiny in-memory tasks: 8x8 single-channel images whose class is a bright column, so a few
/// steps of a CNN move the weights and every test runs in well under a second per run.
final class RecipeTests: TemporaryFolderTestCase {
    override var folderPrefix: String { "basin-recipes" }

    func dataset(count: Int, classes: Int, seed: UInt64) throws -> Dataset {
        var rng = RandomGenerator(seed: seed)
        var pixels = [Float](repeating: 0, count: count * 64)
        var labels: [Int] = []
        for i in 0..<count {
            let c = i % classes
            labels.append(c)
            for y in 0..<8 { for x in 0..<8 { pixels[i * 64 + y * 8 + x] = (x == c ? 1.5 : -0.5) + rng.uniform(-0.3, 0.3) } }
        }
        return try Dataset(images: Tensor(shape: [count, 1, 8, 8], storage: pixels), labels: labels, numClasses: classes)
    }

    func taskData() throws -> TaskData {
        TaskData(train: try dataset(count: 40, classes: 3, seed: 1), evaluation: try dataset(count: 12, classes: 3, seed: 2))
    }

    /// A "pre-trained" checkpoint: a randomly initialized 4-class CNN is enough, fine-tuning replaces the head.
    func pretrained(seed: UInt64) throws -> String {
        let path = dir + "/pt-\(seed).h5"
        let model = Model(.cnn, numClasses: 4, seed: seed)
        try Checkpoint(model: model, metadata: CheckpointMetadata(architecture: "cnn", numClasses: 4, role: .pretrained))
            .write(to: path)
        return path
    }

    let task = TaskConfig(classes: [0, 1, 2])
    func fineTuning() -> TrainingConfig {
        TrainingConfig(architecture: .cnn, epochs: 2, batchSize: 8, learningRate: 0.05, augment: true, seed: 10)
    }

    func plan(_ method: EnsembleMethod, count: Int, pretrained: [String], folder: String) throws -> EnsemblePlan {
        try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
        return try EnsemblePlan(method: method, count: count, seed: 10, pretrained: pretrained, architecture: .cnn,
                                task: task, fineTuning: fineTuning(),
                                cycle: CycleSettings(learningRate: 0.1, epochs: 1), outDir: dir + "/" + folder)
    }

    func runAll(_ plan: EnsemblePlan, data: TaskData) throws {
        for k in 1...plan.count {
            try runMember(k, of: plan, dataDirectory: "", data: data, resume: false, policy: CheckpointPolicy(), quiet: true)
        }
        try writeManifest(plan)
    }

    func members(_ plan: EnsemblePlan) throws -> [(Model, Checkpoint)] {
        try (1...plan.count).map { try loadModel(path: plan.memberPath($0)) }
    }

    func testCyclicMethodsStartPointsAndMembers() throws {
        let data = try taskData()
        let pt = try pretrained(seed: 1)
        let sse = try plan(.sse, count: 3, pretrained: [pt], folder: "sse")
        let star = try plan(.starsse, count: 3, pretrained: [pt], folder: "star")
        try runAll(sse, data: data)
        try runAll(star, data: data)
        let sseMembers = try members(sse), starMembers = try members(star)
        XCTAssertEqual(sseMembers.count, 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/star").sorted()
        XCTAssertEqual(files, ["manifest.json", "member-1.h5", "member-2.h5", "member-3.h5"])

        // Member 1 is the same standard fine-tuning in both: bit-identical weights.
        XCTAssertEqual(parameterDigest(sseMembers[0].0), parameterDigest(starMembers[0].0))
        let memberOne = parameterDigest(starMembers[0].0)
        // StarSSE: every cycle starts from member 1's exact weights.
        for k in 1..<3 { XCTAssertEqual(startDigest(of: starMembers[k].1), memberOne, "StarSSE member \(k + 1)") }
        // SSE: cycle k starts from member k-1.
        for k in 1..<3 {
            XCTAssertEqual(startDigest(of: sseMembers[k].1), parameterDigest(sseMembers[k - 1].0), "SSE member \(k + 1)")
        }
        XCTAssertEqual(startDigest(of: sseMembers[1].1), memberOne)
        XCTAssertNotEqual(startDigest(of: sseMembers[2].1), memberOne)
        // Cycles start at the cycle LR (no warmup) and are snapshots with their parent recorded.
        for k in 1..<3 {
            let lr = History(checkpoint: sseMembers[k].1).learningRate
            XCTAssertEqual(lr.first, Double(Float(0.1)))
            XCTAssertEqual(sseMembers[k].1.metadata.role, .snapshot)
            XCTAssertEqual(sseMembers[k].1.metadata.parentSHA256, try sha256(ofFile: sse.memberPath(k)))
            XCTAssertNotNil(sseMembers[k].1.predictions["test"])
        }
        XCTAssertEqual(History(checkpoint: sseMembers[0].1).learningRate.count, 2)

        // Optimizer reset: member 2 of SSE equals a fresh run from member 1 with fresh SGD,
        // bit for bit, even when the start file carries momentum.
        let withMomentum = dir + "/m1-momentum.h5"
        let (m1, c1) = try loadModel(path: sse.memberPath(1))
        let sgd = SGD()
        for p in m1.parameters { sgd.setMomentumBuffer(Tensor(shape: p.value.shape, storage: .init(repeating: 1, count: p.value.count)), for: p.path) }
        try Checkpoint(model: m1, metadata: c1.metadata, optimizer: sgd, state: c1.state).write(to: withMomentum)
        var config = sse.config(member: 2, startSHA256: try sha256(ofFile: withMomentum))
        config.start?.path = withMomentum
        let (start, optimizer) = try startState(for: config, architecture: .cnn)
        XCTAssertTrue(optimizer.momentumBuffers.isEmpty, "an SSE cycle must start with fresh SGD")
        let rerun = try TrainingRun(config: config, model: start, optimizer: optimizer, data: data, progressLabel: "t")
            .quietly().run(out: nil, resume: false, metadata: c1.metadata)
        XCTAssertEqual(rerun.params, sseMembers[1].1.params)
        // FGE keeps it: the same start with keepOptimizer loads the momentum.
        config.start?.keepOptimizer = true
        XCTAssertEqual(try startState(for: config, architecture: .cnn).optimizer.momentumBuffers.count, m1.parameters.count)
    }

    func testDeepEnsemblesAndFGE() throws {
        let data = try taskData()
        let pts = try [pretrained(seed: 1), pretrained(seed: 2)]
        let local = try plan(.localDE, count: 2, pretrained: [pts[0]], folder: "local")
        let global = try plan(.globalDE, count: 2, pretrained: pts, folder: "global")
        let scratch = try plan(.scratchDE, count: 2, pretrained: [], folder: "scratch")
        let fge = try plan(.fge, count: 3, pretrained: [pts[0]], folder: "fge")
        for p in [local, global, scratch, fge] { try runAll(p, data: data) }
        let l = try members(local), g = try members(global), s = try members(scratch), f = try members(fge)
        XCTAssertEqual([l.count, g.count, s.count, f.count], [2, 2, 2, 3])
        XCTAssertEqual(l[0].1.metadata.parentSHA256, try sha256(ofFile: pts[0]))
        XCTAssertEqual(l[1].1.metadata.parentSHA256, try sha256(ofFile: pts[0]))
        XCTAssertEqual(g[1].1.metadata.parentSHA256, try sha256(ofFile: pts[1]))
        XCTAssertNil(s[0].1.metadata.parentSHA256)
        // Different seeds: different heads and data order, so different weights.
        XCTAssertNotEqual(parameterDigest(l[0].0), parameterDigest(l[1].0))
        // FGE chains and carries momentum in its snapshots; each cycle starts at the low LR.
        XCTAssertEqual(startDigest(of: f[2].1), parameterDigest(f[1].0))
        XCTAssertFalse(f[1].1.optimizer.isEmpty)
        XCTAssertEqual(History(checkpoint: f[1].1).learningRate.first ?? 0, 0.001, accuracy: 1e-9)
        // Manifest lists every member as present.
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fge.outDir + "/manifest.json"))) as? [String: Any]
        let listed = manifest?["members"] as? [[String: Any]]
        XCTAssertEqual(listed?.count, 3)
        XCTAssertEqual(listed?.compactMap { $0["present"] as? Bool }, [true, true, true])
        // Member k of a chained method needs member k-1.
        let missing = try plan(.sse, count: 3, pretrained: [pts[0]], folder: "missing")
        XCTAssertThrowsError(try runMember(3, of: missing, dataDirectory: "", data: data, resume: false,
                                           policy: CheckpointPolicy(), quiet: true)) { error in
            XCTAssertTrue("\(error)".contains("run member 2 first"), "\(error)")
        }
        XCTAssertThrowsError(try EnsemblePlan(method: .globalDE, count: 3, seed: 0, pretrained: pts, architecture: .cnn,
                                              task: task, fineTuning: fineTuning(), cycle: nil, outDir: dir))
    }

    /// Schedule values at the boundaries of a run: these are what make cycles restart.
    func testScheduleValuesAtCycleBoundaries() {
        let steps = 10
        var cosine = RunConfig(training: TrainingConfig(architecture: .cnn, epochs: 3, learningRate: 0.2, seed: 0),
                               task: task, role: "snapshot")
        XCTAssertEqual(cosine.learningRate(step: 0, stepsPerEpoch: steps), 0.2)
        XCTAssertEqual(cosine.learningRate(step: 15, stepsPerEpoch: steps), 0.1, accuracy: 1e-6)  // half-way: base/2
        XCTAssertEqual(cosine.learningRate(step: 30, stepsPerEpoch: steps), 0, accuracy: 1e-9)
        XCTAssertLessThan(cosine.learningRate(step: 29, stepsPerEpoch: steps), 0.001)
        cosine.training.warmupEpochs = 1
        XCTAssertEqual(cosine.learningRate(step: 0, stepsPerEpoch: steps), 0.02, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(step: 9, stepsPerEpoch: steps), 0.2, accuracy: 1e-7)
        var fge = cosine
        fge.training.warmupEpochs = 0
        fge.training.schedule = "fge"
        fge.lowLearningRateRatio = 0.01
        XCTAssertEqual(fge.learningRate(step: 0, stepsPerEpoch: steps), 0.002, accuracy: 1e-7)
        XCTAssertEqual(fge.learningRate(step: 15, stepsPerEpoch: steps), 0.2, accuracy: 1e-7)
        XCTAssertLessThan(fge.learningRate(step: 29, stepsPerEpoch: steps), 0.02)
        // Ratios as in the paper.
        let cycle = CycleSettings(fineTuning: fineTuning(), lrRatio: 2, epochRatio: 0.5)
        XCTAssertEqual(cycle.learningRate, 0.1)
        XCTAssertEqual(cycle.epochs, 1)
    }

    /// An interrupted run resumed from its last (mid-epoch) checkpoint ends bit-identical.
    func testResumeIsBitIdenticalAndRefusesOtherConfigs() throws {
        let data = try taskData()
        let config = RunConfig(training: TrainingConfig(architecture: .cnn, epochs: 3, batchSize: 8, learningRate: 0.05,
                                                        augment: true, seed: 3),
                               task: task, role: "pretrained")
        let meta = CheckpointMetadata(architecture: "cnn", numClasses: 3, role: .pretrained)
        func fresh() throws -> TrainingRun {
            let (model, optimizer) = try startState(for: config, architecture: .cnn)
            let run = TrainingRun(config: config, model: model, optimizer: optimizer, data: data, progressLabel: "t").quietly()
            run.policy = CheckpointPolicy(everySteps: 3, everySeconds: nil)  // 5 steps per epoch: saves fall mid-epoch
            return run
        }
        let full = try fresh().run(out: dir + "/full.h5", resume: false, metadata: meta)

        struct Interrupt: Error {}
        let interrupted = try fresh()
        interrupted.onEpochEnd = { epoch, _ in if epoch == 1 { throw Interrupt() } }
        XCTAssertThrowsError(try interrupted.run(out: dir + "/cut.h5", resume: false, metadata: meta))
        let resumeFile = TrainingRun.resumePath(for: dir + "/cut.h5")
        let saved = try readCheckpoint(path: resumeFile)
        // The last save was at global step 9 = epoch 1, step 4: mid-epoch.
        XCTAssertEqual(saved.stateArray(named: "step")?.array.values.asDoubles, [4])
        XCTAssertEqual(saved.stateArray(named: "epoch")?.array.values.asDoubles, [1])
        XCTAssertFalse(saved.optimizer.isEmpty)

        // Without --resume an existing resume file is not silently overwritten.
        XCTAssertThrowsError(try fresh().run(out: dir + "/cut.h5", resume: false, metadata: meta)) { error in
            XCTAssertEqual(error as? RunError, .resumeFileExists(resumeFile))
        }
        // A different configuration is refused.
        var other = config
        other.training.learningRate = 0.07
        let (m, o) = try startState(for: other, architecture: .cnn)
        XCTAssertThrowsError(try TrainingRun(config: other, model: m, optimizer: o, data: data, progressLabel: "t").quietly()
            .run(out: dir + "/cut.h5", resume: true, metadata: meta)) { error in
            XCTAssertTrue("\(error)".contains("training.learningRate"), "\(error)")
        }

        let resumed = try fresh().run(out: dir + "/cut.h5", resume: true, metadata: meta)
        XCTAssertEqual(resumed.params, full.params)
        XCTAssertEqual(resumed.buffers, full.buffers)
        XCTAssertEqual(History(checkpoint: resumed), History(checkpoint: full))
        XCTAssertEqual(resumed.predictions, full.predictions)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumeFile), "a finished run removes its resume file")
    }

    func testEnsembleSummary() throws {
        // Two members on 2 examples; hand-computed: the mean fixes member b's mistake on example 0.
        let a = Predictions(probs: Tensor(shape: [2, 2], storage: [0.6, 0.4, 0.2, 0.8]), labels: [0, 1])
        let b = Predictions(probs: Tensor(shape: [2, 2], storage: [0.45, 0.55, 0.4, 0.6]), labels: [0, 1])
        let s = try EnsembleSummary([a, b])
        XCTAssertEqual(s.memberAccuracy, [1, 0.5])
        XCTAssertEqual(s.ensembleAccuracy, 1)
        // Float32 inputs: 1e-6 covers their rounding.
        XCTAssertEqual(s.memberNLL[0], -(log(0.6) + log(0.8)) / 2, accuracy: 1e-6)
        XCTAssertEqual(s.ensembleNLL, -(log(0.525) + log(0.7)) / 2, accuracy: 1e-6)
        XCTAssertThrowsError(try EnsembleSummary([]))
    }
}

extension TrainingRun {
    func quietly() -> TrainingRun {
        quiet = true
        return self
    }
}
