import ArgumentParser
import BasinCore
import BasinData
import BasinRecipes
import CBLAS
import Foundation

/// The workloads of ../shared/bench/WORKLOADS.md, one line per figure.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one benchmark workload (W1 train epoch, W2 eval, W5 sgemm) and print its figure.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @Argument(help: "Workload: W1, W2 or W5.") var workload: String
    @Argument(help: "Model for W1 and W2: mlp, cnn or resnet20.") var model: Architecture?
    @Option(help: "W1: train on the first N images of the shuffled order (default: all).") var images: Int?
    @Option(help: "W2 and W5: timed repetitions after one warm-up.") var reps: Int = 3
    @Option(help: "W1 and W2: seed of the initialization and the data order.") var seed: UInt64 = 0
    // Analysis hook (W3, W4 in BenchAnalysis.swift).
    @Option(help: "W3 and W4: folder caching the three one-epoch cnn checkpoints.") var ckptDir: String = "/tmp/basin_bench_ckpt"

    func validate() throws {
        guard (["W1", "W2", "W5"] + AnalysisBench.workloads).contains(workload) else {
            throw ValidationError("unknown workload '\(workload)' (known: W1, W2, W3, W4, W5)")
        }
        if ["W1", "W2"].contains(workload) && model == nil { throw ValidationError("\(workload) needs a model: mlp, cnn or resnet20") }
        guard reps > 0 else { throw ValidationError("--reps must be positive") }
    }

    func run() throws {
        compute.apply()
        switch workload {
        case "W5": try sgemmBenchmark()
        case "W1": try trainBenchmark(model!)
        case "W3", "W4": try AnalysisBench.run(workload, ckptDir: ckptDir, threads: compute.threads, data: data)  // analysis hook
        default: try evalBenchmark(model!)
        }
    }

    func sgemmBenchmark() throws {
        let n = 1024
        let a = randomMatrix(n * n, seed: 1), b = randomMatrix(n * n, seed: 2)
        var c = [Float](repeating: 0, count: n * n)
        openblas_set_num_threads(Int32(compute.threads))
        defer { openblas_set_num_threads(1) }
        var best = Double.infinity
        for rep in 0...reps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b,
                        Int32(n), 0, &c, Int32(n))
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if rep > 0 { best = min(best, dt) }
        }
        print(String(format: "W5 sgemm gflops=%.1f m=%d n=%d k=%d threads=%d seconds=%.4f", 2 * pow(Double(n), 3) / best / 1e9,
                     n, n, n, compute.threads, best))
    }

    func trainBenchmark(_ arch: Architecture) throws {
        var train = try data.load(.train)
        let test = try data.load(.test)
        if let images, images < train.count {
            let sampler = try BatchSampler(count: train.count, batchSize: 128, seed: seed)
            train = try train.subset(indices: Array(sampler.permutation(epoch: 0).prefix(images)))
        }
        let config = TrainingConfig(architecture: arch, epochs: 1, batchSize: 128, learningRate: 0.05, schedule: "constant",
                                    seed: seed)
        let model = Model(arch, numClasses: 10, seed: seed)
        let sgd = SGD(momentum: 0.9, weightDecay: 5e-4)
        var progress = ProgressReporter(label: "W1 \(arch)")
        let start = Date()
        let steps = (train.count + 127) / 128
        _ = try Training.runEpoch(model: model, optimizer: sgd, config: config, data: train, epoch: 0,
                                  schedule: .constant(0.05), globalStepOffset: 0, augmentation: nil,
                                  progress: &progress, runStart: start, totalSteps: steps)
        let dt = Date().timeIntervalSince(start)
        let eval = try Training.evaluate(model, on: test)
        print(String(format: "W1 %@ train_images_per_s=%.1f test_acc=%.4f epoch_s=%.2f images=%d test_loss=%.4f threads=%d seed=%d",
                     arch.rawValue, Double(train.count) / dt, eval.accuracy, dt, train.count, eval.loss, compute.threads,
                     seed))
    }

    func evalBenchmark(_ arch: Architecture) throws {
        let test = try data.load(.test)
        let model = Model(arch, numClasses: 10, seed: seed)
        _ = try Training.evaluate(model, on: test)
        var times: [Double] = []
        var last = Evaluation(loss: 0, accuracy: 0, count: 0)
        for _ in 0..<reps {
            let t0 = Date()
            last = try Training.evaluate(model, on: test)
            times.append(Date().timeIntervalSince(t0))
        }
        times.sort()
        print(String(format: "W2 %@ eval_images_per_s=%.1f median_images_per_s=%.1f reps=%d test_loss=%.4f test_acc=%.4f weights=random_init threads=%d",
                     arch.rawValue, Double(test.count) / times[0], Double(test.count) / times[times.count / 2], reps,
                     last.loss, last.accuracy, compute.threads))
    }

    func randomMatrix(_ count: Int, seed: UInt64) -> [Float] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in rng.uniform(-1, 1) }
    }
}
