import BasinCore
import Foundation
import TestSupport
import XCTest

/// A fixture written by scripts/make_golden.py with PyTorch: named float32 tensors.
struct Fixture {
    let tensors: [String: Tensor]
    let meta: [String: Any]

    init(_ name: String) throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"),
                                "fixture \(name).json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        meta = json["meta"] as? [String: Any] ?? [:]
        var tensors: [String: Tensor] = [:]
        for (key, value) in try XCTUnwrap(json["tensors"] as? [String: [String: Any]]) {
            let shape = try XCTUnwrap(value["shape"] as? [Int])
            let bytes = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(value["b64"] as? String)))
            let floats = bytes.withUnsafeBytes { raw in
                (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
            tensors[key] = Tensor(shape: shape, storage: floats)
        }
        self.tensors = tensors
    }

    subscript(_ key: String) -> Tensor {
        get throws { try XCTUnwrap(tensors[key], "fixture tensor \(key)") }
    }

    func labels(_ key: String) throws -> [Int] { try self[key].storage.map { Int($0) } }

    /// Loads `param/<path>` and `buffer/<path>` into the model's tensors of the same paths.
    func load(into model: Model) throws {
        for p in model.parameters { p.value = try self["param/\(p.path)"] }
        for b in model.buffers { b.value = try self["buffer/\(b.path)"] }
    }
}

/// basin against PyTorch on fixed weights and inputs (scripts/make_golden.py).
///
/// Tolerances: both sides compute in float32 but sum in different orders (GEMM blocking,
/// BatchNorm statistics in double here); forward values agree to a few ulps times the depth
/// of the network, so 1e-5 relative plus a small absolute floor for single layers and 1e-4
/// for whole networks, whose gradients pass through up to 20 layers of such differences.
final class GoldenTests: XCTestCase {
    override func setUp() { Threads.configure(2) }

    func checkLayer<L: Layer>(_ layer: L, _ f: Fixture, context: ForwardContext, name: String) throws {
        let context = ForwardContext(mode: context.mode, statistics: context.statistics, keepsCaches: true)
        let (y, cache) = try layer.forward(try f["input"], context)
        assertClose(y.storage, try f["output"].storage, atol: 1e-5, rtol: 1e-5, "\(name) output")
        for p in layer.parameters { p.zeroGrad() }
        let dx = try XCTUnwrap(layer.backward(try f["grad_output"], cache, needInputGradient: true))
        assertClose(dx.storage, try f["grad_input"].storage, atol: 1e-5, rtol: 1e-5, "\(name) grad_input")
        for p in layer.parameters {
            let short = String(p.path.split(separator: ".").last!)
            assertClose(p.grad.storage, try f["grad/\(short)"].storage, atol: 1e-4, rtol: 1e-5, "\(name) grad/\(short)")
        }
    }

    func testLinear() throws {
        let f = try Fixture("linear")
        var rng = RandomGenerator(seed: 0)
        let layer = Linear("l", inFeatures: 7, outFeatures: 5, rng: &rng)
        layer.weight.value = try f["param/weight"]
        layer.bias.value = try f["param/bias"]
        try checkLayer(layer, f, context: .train, name: "linear")
    }

    func testConvolutions() throws {
        for (name, cin, cout, k, stride, pad, bias) in [("conv_pad1", 3, 4, 3, 1, 1, false),
                                                        ("conv_stride2_bias", 3, 5, 3, 2, 1, true),
                                                        ("conv_1x1_stride2", 4, 6, 1, 2, 0, false)] {
            let f = try Fixture(name)
            var rng = RandomGenerator(seed: 0)
            let conv = Conv2d("c", inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad,
                              bias: bias, rng: &rng)
            conv.weight.value = try f["param/weight"]
            if let b = conv.bias { b.value = try f["param/bias"] }
            try checkLayer(conv, f, context: .train, name: name)
        }
    }

    func makeBatchNorm(_ f: Fixture) throws -> BatchNorm2d {
        let bn = BatchNorm2d("bn", channels: 3)
        bn.weight.value = try f["param/weight"]
        bn.bias.value = try f["param/bias"]
        bn.runningMean.value = try f["buffer/running_mean"]
        bn.runningVar.value = try f["buffer/running_var"]
        bn.batchesTracked.value = try f["buffer/num_batches_tracked"]
        return bn
    }

    func checkBuffersAfter(_ bn: BatchNorm2d, _ f: Fixture, _ name: String) throws {
        assertClose(bn.runningMean.value.storage, try f["buffer_after/running_mean"].storage, atol: 1e-6, rtol: 1e-5,
                    "\(name) running_mean")
        assertClose(bn.runningVar.value.storage, try f["buffer_after/running_var"].storage, atol: 1e-6, rtol: 1e-5,
                    "\(name) running_var")
        XCTAssertEqual(bn.batchesTracked.value.storage, try f["buffer_after/num_batches_tracked"].storage, name)
    }

    func testBatchNormTrainEvalAndCumulative() throws {
        let train = try Fixture("batchnorm_train")
        let bn = try makeBatchNorm(train)
        try checkLayer(bn, train, context: .train, name: "batchnorm_train")
        // checkLayer ran one forward: the running statistics are those after one batch.
        try checkBuffersAfter(bn, train, "batchnorm_train")

        let eval = try Fixture("batchnorm_eval")
        let bnEval = try makeBatchNorm(eval)
        try checkLayer(bnEval, eval, context: .eval, name: "batchnorm_eval")
        try checkBuffersAfter(bnEval, eval, "batchnorm_eval")

        let cumulative = try Fixture("batchnorm_cumulative")
        let bnCumulative = try makeBatchNorm(cumulative)
        bnCumulative.resetRunningStatistics()
        for i in 0..<3 {
            _ = try bnCumulative.forward(try cumulative["input/\(i)"], ForwardContext(mode: .train, statistics: .cumulative))
        }
        try checkBuffersAfter(bnCumulative, cumulative, "batchnorm_cumulative")
    }

    func testPoolingActivationAndLoss() throws {
        try checkLayer(MaxPool2d("p", kernel: 2), try Fixture("maxpool"), context: .train, name: "maxpool")
        try checkLayer(ReLU("r"), try Fixture("relu"), context: .train, name: "relu")
        try checkLayer(GlobalAveragePool("g"), try Fixture("global_avg_pool"), context: .train, name: "global_avg_pool")
        let ce = try Fixture("cross_entropy")
        let result = try CrossEntropy.evaluate(logits: try ce["input"], labels: try ce.labels("target"))
        XCTAssertEqual(result.loss, Double(try ce["loss"].storage[0]), accuracy: 1e-6)
        assertClose(result.gradient.storage, try ce["grad_input"].storage, atol: 1e-7, rtol: 1e-5, "cross-entropy grad")
    }

    func checkModel(_ arch: Architecture) throws {
        let f = try Fixture("model_\(arch.rawValue)")
        let model = Model(arch, numClasses: 10, seed: 0)
        try f.load(into: model)
        model.zeroGradients()
        let (logits, cache) = try model.forward(try f["input"], .train)
        assertClose(logits.storage, try f["output"].storage, atol: 1e-4, rtol: 1e-4, "\(arch) logits")
        let ce = try CrossEntropy.evaluate(logits: logits, labels: try f.labels("target"))
        XCTAssertEqual(ce.loss, Double(try f["loss"].storage[0]), accuracy: 1e-5, "\(arch) loss")
        model.backward(ce.gradient, cache)
        for p in model.parameters {
            let expected = try f["grad/\(p.path)"].storage
            let scale = expected.map { abs($0) }.max() ?? 0
            assertClose(p.grad.storage, expected, atol: 1e-4 * max(scale, 1e-3), rtol: 1e-3, "\(arch) grad/\(p.path)")
        }
        for b in model.buffers {
            assertClose(b.value.storage, try f["buffer_after/\(b.path)"].storage, atol: 1e-5, rtol: 1e-5,
                        "\(arch) buffer_after/\(b.path)")
        }
        let evalLogits = try model.predict(try f["input"])
        assertClose(evalLogits.storage, try f["eval_output"].storage, atol: 1e-4, rtol: 1e-4, "\(arch) eval logits")
    }

    func testMLP() throws { try checkModel(.mlp) }
    func testCNN() throws { try checkModel(.cnn) }
    func testResNet20() throws { try checkModel(.resnet20) }

    func checkSGD(_ name: String, _ arch: Architecture, nesterov: Bool) throws {
        let f = try Fixture(name)
        let model = Model(arch, numClasses: 10, seed: 0)
        try f.load(into: model)
        let meta = f.meta
        let sgd = SGD(momentum: Float(meta["momentum"] as? Double ?? 0.9),
                      weightDecay: Float(try XCTUnwrap(meta["weight_decay"] as? Double)), nesterov: nesterov)
        let lr = Float(try XCTUnwrap(meta["lr"] as? Double))
        for step in 0..<3 {
            model.zeroGradients()
            let (logits, cache) = try model.forward(try f["input/\(step)"], .train)
            let ce = try CrossEntropy.evaluate(logits: logits, labels: try f.labels("target/\(step)"))
            XCTAssertEqual(ce.loss, Double(try f["loss/\(step)"].storage[0]), accuracy: 1e-4, "\(name) loss \(step)")
            model.backward(ce.gradient, cache)
            sgd.step(model.parameters, lr: lr)
        }
        for p in model.parameters {
            assertClose(p.value.storage, try f["param_after/\(p.path)"].storage, atol: 1e-5, rtol: 1e-4,
                        "\(name) param_after/\(p.path)")
            assertClose(try XCTUnwrap(sgd.momentumBuffers[p.path]).storage, try f["momentum_after/\(p.path)"].storage,
                        atol: 1e-4, rtol: 1e-3, "\(name) momentum_after/\(p.path)")
        }
    }

    func testSGDMomentumOnCNN() throws { try checkSGD("sgd_cnn", .cnn, nesterov: false) }
    func testSGDNesterovOnCNN() throws { try checkSGD("sgd_nesterov_cnn", .cnn, nesterov: true) }
}
