import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinRecipes
import Foundation

/// The share of the machine's CPU time this process used and the share others used over a
/// timed region, as torch_ref.py's CpuMeter reports it: the machine is shared.
struct CPUMeter {
    let start: (busy: Double, steal: Double, own: Double, time: Date)

    init() { start = CPUMeter.counters() }

    static func counters() -> (busy: Double, steal: Double, own: Double, time: Date) {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let cpu = stat.split(separator: "\n").first?.split(separator: " ").dropFirst().compactMap { Double($0) } ?? []
        let busy = cpu.count > 6 ? cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] : 0
        let steal = cpu.count > 7 ? cpu[7] : 0
        let selfStat = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)) ?? ""
        let fields = selfStat.split(separator: ")").last?.split(separator: " ").compactMap { Double($0) } ?? []
        // After the command name: state is not numeric, so utime and stime are fields 10 and 11 here.
        let own = fields.count > 11 ? fields[10] + fields[11] : 0
        return (busy, steal, own, Date())
    }

    var tag: String {
        let now = CPUMeter.counters()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cap = max(now.time.timeIntervalSince(start.time) * ticks * Double(ProcessInfo.processInfo.activeProcessorCount), 1e-9)
        let own = now.own - start.own
        return String(format: " own_cpu=%.2f foreign_cpu=%.2f steal=%.2f", own / cap, max(0, now.busy - start.busy - own) / cap,
                      (now.steal - start.steal) / cap)
    }
}

/// W3 (interpolation) and W4 (plane) of ../shared/bench/WORKLOADS.md, through the same
/// evaluation engine as `basin interpolate` and `basin plane`.
enum AnalysisBench {
    static let workloads = ["W3", "W4"]

    /// The cnn trained one epoch with `seed` as in torch_ref.py (SGD lr 0.05, momentum 0.9,
    /// weight decay 5e-4, batch 128, constant rate), cached as `cnn_seed<seed>.h5`.
    static func checkpoint(seed: UInt64, folder: String, train: Dataset, test: Dataset) throws -> AnalysisCheckpoint {
        let path = folder + "/cnn_seed\(seed).h5"
        if FileManager.default.fileExists(atPath: path) {
            print("# loaded checkpoint \(path)")
            return try AnalysisCheckpoint(path: path)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = TrainingConfig(architecture: .cnn, epochs: 1, batchSize: 128, learningRate: 0.05, schedule: "constant",
                                    seed: seed)
        let model = Model(.cnn, numClasses: 10, seed: seed)
        let sgd = SGD(momentum: 0.9, weightDecay: 5e-4)
        var progress = ProgressReporter(label: "bench checkpoint cnn seed \(seed)")
        let start = Date()
        _ = try Training.runEpoch(model: model, optimizer: sgd, config: config, data: train, epoch: 0,
                                  schedule: .constant(0.05), globalStepOffset: 0, augmentation: nil, progress: &progress,
                                  runStart: start, totalSteps: (train.count + 127) / 128)
        let seconds = Date().timeIntervalSince(start)
        let eval = try Training.evaluate(model, on: test)
        print(String(format: "CKPT cnn seed=%d epoch_s=%.2f test_loss=%.4f test_acc=%.4f", Int(seed), seconds, eval.loss,
                     eval.accuracy))
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try writeCheckpoint(Checkpoint(model: model, metadata: CheckpointMetadata(
            architecture: "cnn", numClasses: 10, role: .pretrained, config: json, seed: seed, epoch: 1,
            metrics: ["test_loss": eval.loss, "test_accuracy": eval.accuracy])), to: path)
        return try AnalysisCheckpoint(path: path)
    }

    static func run(_ workload: String, ckptDir: String, threads: Int, data: DataOptions) throws {
        let train = try data.load(.train), test = try data.load(.test)
        let seeds: [UInt64] = workload == "W3" ? [0, 1] : [0, 1, 2]
        let cks = try seeds.map { try checkpoint(seed: $0, folder: ckptDir, train: train, test: test) }
        let images = workload == "W3" ? 2000 : 1000
        let evaluator = try LandscapeEvaluator(model: try cks[0].makeModel(),
                                               bnBatches: try FixedBatches(train, limit: images, batchSize: 500),
                                               splits: ["eval": try FixedBatches(test, limit: images, batchSize: 500)])
        if workload == "W3" {
            let alphas = linspace(0, 1, 11)
            let meter = CPUMeter()
            let start = Date()
            let curve = try Interpolation.run(evaluator: evaluator, a: (cks[0].parameters, cks[0].buffers),
                                              b: (cks[1].parameters, cks[1].buffers), alphas: alphas, splits: ["eval"])
            let dt = Date().timeIntervalSince(start)
            let r = curve.results["eval"]!
            let (loss, _) = try curve.barriers("eval")
            print(String(format: "W3 cnn interpolation_s=%.2f points=11 s_per_point=%.3f barrier=%.4f barrier_alpha=%.4f "
                         + "loss_A=%.4f loss_B=%.4f acc_A=%.4f acc_B=%.4f min_acc=%.4f threads=%d%@", dt, dt / 11,
                         loss.linear.value, loss.linear.alpha, r.first!.loss, r.last!.loss, r.first!.accuracy,
                         r.last!.accuracy, r.map(\.accuracy).min()!, threads, meter.tag))
        } else {
            // torch_ref.py's basis: origin seed 0, u along seed 1 - seed 0. With the issue's
            // convention (u along C - A) that is A = seed 0, B = seed 2, C = seed 1.
            let basis = try PlaneBasis.through(a: cks[0].parameters, b: cks[2].parameters, c: cks[1].parameters)
            let xy = cks.map { basis.project($0.parameters) }
            let axes = coveringAxes(points: xy.map { ($0.x, $0.y) }, margin: 0.2, nx: 9, ny: 9)
            var errors: [Double] = []
            let meter = CPUMeter()
            let start = Date()
            for gx in axes.x {
                for gy in axes.y {
                    errors.append(try evaluator.evaluate(parameters: basis.point(x: gx, y: gy), on: ["eval"])[0].error)
                }
            }
            let dt = Date().timeIntervalSince(start)
            let n = errors.count
            print(String(format: "W4 cnn plane_points_per_s=%.4f grid_s=%.2f points=%d s_per_point=%.3f min_test_err=%.4f "
                         + "max_test_err=%.4f ckpt_xy=%@ threads=%d%@", Double(n) / dt, dt, n, dt / Double(n), errors.min()!,
                         errors.max()!, xy.map { String(format: "(%.3f, %.3f)", $0.x, $0.y) }.joined(separator: ","), threads,
                         meter.tag))
        }
    }
}
