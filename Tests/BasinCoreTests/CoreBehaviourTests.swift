import BasinCore
import TestSupport
import XCTest

/// Determinism, mode handling, errors and the small pieces of the core.
final class CoreBehaviourTests: XCTestCase {
    override func setUp() { Threads.configure(2) }

    /// A few SGD steps of `arch` on fixed random data; returns the final parameters.
    func shortRun(_ arch: Architecture, threads: Int, seed: UInt64) throws -> [Tensor] {
        Threads.configure(threads)
        let model = Model(arch, numClasses: 10, seed: seed)
        let sgd = SGD(momentum: 0.9, weightDecay: 5e-4, nesterov: true)
        var rng = RandomGenerator.stream(seed: seed, purpose: "data")
        for step in 0..<4 {
            let x = randomTensor([16, 1, 28, 28], seed: seed &+ UInt64(step))
            let labels = (0..<16).map { _ in rng.nextInt(below: 10) }
            model.zeroGradients()
            let (logits, cache) = try model.forward(x, .train)
            let ce = try CrossEntropy.evaluate(logits: logits, labels: labels)
            model.backward(ce.gradient, cache)
            sgd.step(model.parameters, lr: 0.05)
        }
        return model.parameters.map(\.value) + model.buffers.map(\.value)
    }

    func testSameSeedSameThreadCountSameBits() throws {
        for arch in Architecture.allCases {
            let a = try shortRun(arch, threads: 2, seed: 11)
            let b = try shortRun(arch, threads: 2, seed: 11)
            XCTAssertEqual(a, b, "\(arch): two identical runs differ")
            let c = try shortRun(arch, threads: 2, seed: 12)
            XCTAssertNotEqual(a, c, "\(arch): another seed gave the same weights")
        }
    }

    /// The cache-free in-place path (fused BatchNorm+ReLU, argmax-free pooling) must give the
    /// same bits as the caching forward pass, in eval mode and for a BatchNorm recompute.
    func testInferenceWithoutCachesMatchesTheCachingForwardBitForBit() throws {
        for arch in Architecture.allCases {
            let a = Model(arch, numClasses: 10, seed: 5), b = Model(arch, numClasses: 10, seed: 5)
            // Move the running statistics and BatchNorm parameters away from their initial values.
            _ = try a.forward(randomTensor([8, 1, 28, 28], seed: 6), .train)
            _ = try b.forward(randomTensor([8, 1, 28, 28], seed: 6), .train)
            for (pa, pb) in zip(a.parameters, b.parameters) where pa.path.hasSuffix("bias") || pa.value.rank == 1 {
                pa.value = randomTensor(pa.value.shape, seed: 7)
                pb.value = pa.value
            }
            let x = randomTensor([6, 1, 28, 28], seed: 8)
            for (mode, statistics) in [(Mode.eval, StatisticsUpdate.exponential(momentum: 0.1)), (.train, .cumulative)] {
                let cached = try a.forward(x, ForwardContext(mode: mode, statistics: statistics, keepsCaches: true)).0
                let inferred = try b.predict(x, ForwardContext(mode: mode, statistics: statistics, keepsCaches: false))
                XCTAssertEqual(cached, inferred, "\(arch) \(mode): cache-free inference differs")
                XCTAssertEqual(a.buffers.map(\.value), b.buffers.map(\.value), "\(arch) \(mode): running statistics differ")
            }
        }
    }

    /// The fused train-mode paths of Sequential (BatchNorm statistics from the convolution's
    /// epilogue, BatchNorm+ReLU in one pass, the ReLU mask inside BatchNorm's backward) must
    /// give the same bits as the three layers run one after the other.
    func testFusedConvolutionBatchNormReLUMatchesTheLayersOneByOne() throws {
        for threads in [1, 2] {
            Threads.configure(threads)
            func layers() -> (Conv2d, BatchNorm2d, ReLU) {
                var rng = RandomGenerator.stream(seed: 21, purpose: "init")
                let norm = BatchNorm2d("b", channels: 5)
                norm.weight.value = randomTensor([5], seed: 22)
                norm.bias.value = randomTensor([5], seed: 23)
                return (Conv2d("c", inChannels: 3, outChannels: 5, kernel: 3, padding: 1, bias: false, rng: &rng), norm, ReLU("r"))
            }
            let (c1, b1, r1) = layers(), (c2, b2, r2) = layers()
            let fused = Sequential("", [c1, b1, r1])
            // 11 x 13 planes: vector bodies plus scalar tails in every row kernel.
            let x = randomTensor([4, 3, 11, 13], seed: 24), dy = randomTensor([4, 5, 11, 13], seed: 25)
            for step in 0..<2 {
                let (yFused, cache) = try fused.forward(x, .train)
                let (h, convCache) = try c2.forward(x, .train)
                let (z, normCache) = try b2.forward(h, .train)
                let (y, reluCache) = try r2.forward(z, .train)
                XCTAssertEqual(yFused, y, "threads \(threads) step \(step): forward differs")
                XCTAssertEqual(b1.buffers.map(\.value), b2.buffers.map(\.value), "running statistics differ")
                let dxFused = fused.backward(dy, cache, needInputGradient: true)
                let dz = try XCTUnwrap(r2.backward(dy, reluCache, needInputGradient: true))
                let dh = try XCTUnwrap(b2.backward(dz, normCache, needInputGradient: true))
                let dx = c2.backward(dh, convCache, needInputGradient: true)
                XCTAssertEqual(dxFused, dx, "threads \(threads) step \(step): input gradient differs")
                XCTAssertEqual(fused.parameters.map(\.grad), [c2.weight.grad, b2.weight.grad, b2.bias.grad],
                               "threads \(threads) step \(step): parameter gradients differ")
            }
        }
    }

    /// 2x2 max pooling against the direct window maximum, for widths that exercise the 8-wide
    /// and 4-wide vector groups, their overlapping last group and the scalar path, with ties
    /// (first in window order wins) and NaN (wins). Exact: no arithmetic.
    func testMaxPoolMatchesTheWindowMaximum() throws {
        let pool = MaxPool2d("p", kernel: 2)
        for (h, w) in [(4, 2), (6, 5), (4, 8), (5, 14), (4, 17), (3, 28), (2, 33)] {
            var x = randomTensor([2, 3, h, w], seed: UInt64(h * 100 + w))
            // Ties: round to a few levels; and a NaN somewhere.
            x.storage = x.storage.map { ($0 * 2).rounded() }
            x.storage[w + 1] = .nan
            let (y, cache) = try pool.forward(x, .train)
            let dy = Tensor(shape: y.shape, storage: (0..<y.count).map { Float($0 + 1) })
            let dx = try XCTUnwrap(pool.backward(dy, cache, needInputGradient: true))
            var expectedY = [Float](), expectedDx = [Float](repeating: 0, count: x.count)
            for plane in 0..<6 {
                for oh in 0..<(h / 2) {
                    for ow in 0..<(w / 2) {
                        let base = plane * h * w + 2 * oh * w + 2 * ow
                        var best = base
                        for i in [base + 1, base + w, base + w + 1] {
                            let v = x.storage[i], b = x.storage[best]
                            if v > b || (v.isNaN && !b.isNaN) { best = i }
                        }
                        expectedY.append(x.storage[best])
                        expectedDx[best] += Float(expectedY.count)
                    }
                }
            }
            XCTAssertEqual(y.storage.map(\.bitPattern), expectedY.map(\.bitPattern), "\(h)x\(w): pooled values")
            XCTAssertEqual(dx.storage, expectedDx, "\(h)x\(w): gradient not at the window maxima")
            var inferred = x
            try pool.infer(&inferred, .eval)
            XCTAssertEqual(inferred.storage.map(\.bitPattern), expectedY.map(\.bitPattern), "\(h)x\(w): infer")
        }
    }

    /// Conv2d against the textbook sum, on non-square images, for the shapes with a lowering of
    /// their own (same padding at stride 1) and the general one. Float sums of at most 75
    /// products of values below 3: 1e-5 absolute.
    func testConvolutionMatchesTheDirectSum() throws {
        var rng = RandomGenerator(seed: 21)
        for (k, stride, pad) in [(3, 1, 1), (5, 1, 2), (3, 2, 1), (3, 1, 0), (1, 1, 0)] {
            let conv = Conv2d("c", inChannels: 3, outChannels: 4, kernel: k, stride: stride, padding: pad, bias: false, rng: &rng)
            let (h, w) = (7, 5)
            let x = randomTensor([2, 3, h, w], seed: 22)
            let y = try conv.forward(x, .eval).0
            let ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1
            XCTAssertEqual(y.shape, [2, 4, ho, wo])
            var expected = [Float]()
            for i in 0..<2 { for o in 0..<4 { for oh in 0..<ho { for ow in 0..<wo {
                var sum: Float = 0
                for c in 0..<3 { for kh in 0..<k { for kw in 0..<k {
                    let ih = oh * stride - pad + kh, iw = ow * stride - pad + kw
                    guard ih >= 0, ih < h, iw >= 0, iw < w else { continue }
                    sum += x.storage[((i * 3 + c) * h + ih) * w + iw] * conv.weight.value.storage[((o * 3 + c) * k + kh) * k + kw]
                } } }
                expected.append(sum)
            } } } }
            assertClose(y.storage, expected, atol: 1e-5, rtol: 0, "conv k=\(k) stride=\(stride) pad=\(pad)")
        }
    }

    func testInferenceNeverChangesRunningStatistics() throws {
        let model = Model(.resnet20, numClasses: 10, seed: 1)
        _ = try model.forward(randomTensor([4, 1, 28, 28], seed: 2), .train)
        let before = model.buffers.map(\.value)
        _ = try model.predict(randomTensor([4, 1, 28, 28], seed: 3))
        _ = try model.forward(randomTensor([4, 1, 28, 28], seed: 4), ForwardContext(mode: .eval, keepsCaches: true))
        XCTAssertEqual(model.buffers.map(\.value), before)
    }

    func testTrainModeUpdatesRunningStatisticsWithMomentumAndUnbiasedVariance() throws {
        let bn = BatchNorm2d("bn", channels: 1)
        let x = Tensor(shape: [2, 1, 1, 2], storage: [1, 2, 3, 6])
        _ = try bn.forward(x, .train)
        // mean 3, unbiased variance ((4 + 1 + 0 + 9) / 3); momentum 0.1 from (0, 1).
        XCTAssertEqual(bn.runningMean.value.storage[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.value.storage[0], 0.9 + 0.1 * 14 / 3, accuracy: 1e-6)
        XCTAssertEqual(bn.batchesTracked.value.storage[0], 1)
    }

    func testShapeMismatchNamesTheLayerAndBothShapes() throws {
        let model = Model(.cnn, numClasses: 10, seed: 0)
        XCTAssertThrowsError(try model.predict(Tensor(zeros: [2, 3, 28, 28]))) { error in
            XCTAssertEqual("\(error)", "shape mismatch at layer 'features.0': expected [N, 1, H, W], got [2, 3, 28, 28]")
        }
        let mlp = Model(.mlp, numClasses: 10, seed: 0)
        XCTAssertThrowsError(try mlp.predict(Tensor(zeros: [2, 1, 20, 20]))) { error in
            XCTAssertEqual("\(error)", "shape mismatch at layer 'fc1': expected [N, 784], got [2, 400]")
        }
        XCTAssertThrowsError(try CrossEntropy.evaluate(logits: Tensor(zeros: [2, 3]), labels: [0, 5])) { error in
            XCTAssertTrue("\(error)".contains("cross_entropy"), "\(error)")
        }
    }

    func testParameterPathsAreThePyTorchStateDictKeys() {
        let cnn = Model(.cnn, numClasses: 10, seed: 0)
        XCTAssertEqual(cnn.parameters.map(\.path), [
            "features.0.weight", "features.1.weight", "features.1.bias", "features.3.weight", "features.4.weight",
            "features.4.bias", "features.7.weight", "features.8.weight", "features.8.bias", "features.10.weight",
            "features.11.weight", "features.11.bias", "head.weight", "head.bias"])
        XCTAssertEqual(cnn.buffers.prefix(3).map(\.path),
                       ["features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"])
        let resnet = Model(.resnet20, numClasses: 10, seed: 0)
        XCTAssertEqual(resnet.parameters.count, 65)
        XCTAssertEqual(resnet.buffers.count, 63)
        XCTAssertEqual(resnet.parameters.reduce(0) { $0 + $1.value.count }, 272_186)
        XCTAssertTrue(resnet.parameters.contains { $0.path == "layer2.0.shortcut.0.weight" })
        XCTAssertFalse(resnet.parameters.contains { $0.path == "layer1.0.shortcut.0.weight" })
        XCTAssertEqual(Model(.mlp, numClasses: 10, seed: 0).parameters.reduce(0) { $0 + $1.value.count }, 669_706)
    }

    func testPyTorchDefaultInitializationBounds() {
        let model = Model(.cnn, numClasses: 10, seed: 5)
        for p in model.parameters {
            let values = p.value.storage
            let layer = p.path.split(separator: ".").dropLast().joined(separator: ".")
            if ["features.1", "features.4", "features.8", "features.11"].contains(layer) {
                XCTAssertTrue(values.allSatisfy { $0 == (p.path.hasSuffix("weight") ? 1 : 0) }, "\(p.path): BatchNorm init")
                continue
            }
            let fanIn = p.path.hasPrefix("head") ? 64 : p.value.count / p.value.shape[0]
            let bound = 1 / Float(fanIn).squareRoot()
            XCTAssertLessThanOrEqual(values.map(abs).max()!, bound, p.path)
            // A uniform draw fills most of its range.
            XCTAssertGreaterThan(values.map(abs).max()!, 0.8 * bound, p.path)
        }
    }

    func testReplacingTheHeadKeepsFeaturesAndDrawsFromTheSeed() {
        let model = Model(.cnn, numClasses: 5, seed: 1)
        let features = model.features.parameters.map(\.value)
        model.replaceHead(numClasses: 3, seed: 9)
        XCTAssertEqual(model.head.weight.value.shape, [3, 64])
        XCTAssertEqual(model.numClasses, 3)
        XCTAssertEqual(model.features.parameters.map(\.value), features)
        let again = Model(.cnn, numClasses: 5, seed: 1)
        again.replaceHead(numClasses: 3, seed: 9)
        XCTAssertEqual(again.head.weight.value, model.head.weight.value)
        again.replaceHead(numClasses: 3, seed: 10)
        XCTAssertNotEqual(again.head.weight.value, model.head.weight.value)
    }

    func testScheduleValues() {
        let cosine = Schedule.cosine(base: 0.1, totalSteps: 110, warmupSteps: 10)
        XCTAssertEqual(cosine.learningRate(step: 0), 0.01, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(step: 9), 0.1, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(step: 10), 0.1, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(step: 60), 0.05, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(step: 110), 0, accuracy: 1e-7)
        let triangle = Schedule.triangular(high: 0.1, low: 0.001, cycleSteps: 10)
        XCTAssertEqual(triangle.learningRate(step: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(triangle.learningRate(step: 5), 0.001, accuracy: 1e-7)
        XCTAssertEqual(triangle.learningRate(step: 10), 0.1, accuracy: 1e-7)
    }

    func testGeneratorStreamsAndPermutations() {
        var a = RandomGenerator.stream(seed: 1, purpose: "init")
        var b = RandomGenerator.stream(seed: 1, purpose: "init")
        var c = RandomGenerator.stream(seed: 1, purpose: "shuffle")
        let x = (0..<8).map { _ in a.next() }
        XCTAssertEqual(x, (0..<8).map { _ in b.next() })
        XCTAssertNotEqual(x, (0..<8).map { _ in c.next() })
        var p = RandomGenerator(seed: 3)
        let perm = p.permutation(1000)
        XCTAssertEqual(perm.sorted(), Array(0..<1000))
        XCTAssertNotEqual(perm, Array(0..<1000))
        var u = RandomGenerator(seed: 4)
        let draws = (0..<10_000).map { _ in u.nextFloat() }
        XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(draws.reduce(0, +) / 10_000, 0.5, accuracy: 0.01)
        let restored = RandomGenerator(state: u.stateWords)
        XCTAssertEqual(restored, u)
    }
}
