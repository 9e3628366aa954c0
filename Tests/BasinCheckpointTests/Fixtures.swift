// Shared test data: state_dict specs of the reference models (shared/bench/reference_models.py),
// deterministic values, and temporary folders.
import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation
import TestSupport
import XCTest

enum ReferenceSpecs {
    static func batchNorm(_ prefix: String, _ channels: Int) -> (params: [TensorSpec], buffers: [TensorSpec]) {
        ([TensorSpec(path: prefix + ".weight", shape: [channels]), TensorSpec(path: prefix + ".bias", shape: [channels])],
         [TensorSpec(path: prefix + ".running_mean", shape: [channels]),
          TensorSpec(path: prefix + ".running_var", shape: [channels]),
          TensorSpec(path: prefix + ".num_batches_tracked", shape: [], dtype: .int64)])
    }

    static func cnn(classes: Int = 10) -> CheckpointExpectation {
        var params: [TensorSpec] = [], buffers: [TensorSpec] = []
        for (conv, bn, cin, cout) in [(0, 1, 1, 32), (3, 4, 32, 32), (7, 8, 32, 64), (10, 11, 64, 64)] {
            params.append(TensorSpec(path: "features.\(conv).weight", shape: [cout, cin, 3, 3]))
            let norm = batchNorm("features.\(bn)", cout)
            params += norm.params
            buffers += norm.buffers
        }
        params += [TensorSpec(path: "head.weight", shape: [classes, 64]), TensorSpec(path: "head.bias", shape: [classes])]
        return CheckpointExpectation(params: params, buffers: buffers, architecture: "cnn", numClasses: classes)
    }

    static func mlp(classes: Int = 10) -> CheckpointExpectation {
        CheckpointExpectation(params: [
            TensorSpec(path: "fc1.weight", shape: [512, 784]), TensorSpec(path: "fc1.bias", shape: [512]),
            TensorSpec(path: "fc2.weight", shape: [512, 512]), TensorSpec(path: "fc2.bias", shape: [512]),
            TensorSpec(path: "head.weight", shape: [classes, 512]), TensorSpec(path: "head.bias", shape: [classes]),
        ], buffers: [], architecture: "mlp", numClasses: classes)
    }

    static func resnet20(classes: Int = 10) -> CheckpointExpectation {
        var params: [TensorSpec] = [TensorSpec(path: "conv1.weight", shape: [16, 1, 3, 3])]
        var buffers: [TensorSpec] = []
        func addNorm(_ prefix: String, _ c: Int) {
            let norm = batchNorm(prefix, c)
            params += norm.params
            buffers += norm.buffers
        }
        addNorm("bn1", 16)
        var cin = 16
        for (layer, (cout, stride)) in [(16, 1), (32, 2), (64, 2)].enumerated() {
            for block in 0..<3 {
                let p = "layer\(layer + 1).\(block)"
                let s = block == 0 ? stride : 1
                params.append(TensorSpec(path: p + ".conv1.weight", shape: [cout, cin, 3, 3]))
                addNorm(p + ".bn1", cout)
                params.append(TensorSpec(path: p + ".conv2.weight", shape: [cout, cout, 3, 3]))
                addNorm(p + ".bn2", cout)
                if s != 1 || cin != cout {
                    params.append(TensorSpec(path: p + ".shortcut.0.weight", shape: [cout, cin, 1, 1]))
                    addNorm(p + ".shortcut.1", cout)
                }
                cin = cout
            }
        }
        params += [TensorSpec(path: "head.weight", shape: [classes, 64]), TensorSpec(path: "head.bias", shape: [classes])]
        return CheckpointExpectation(params: params, buffers: buffers, architecture: "resnet20", numClasses: classes)
    }

    /// A two-layer model small enough that most of its file is metadata.
    static func tiny() -> CheckpointExpectation {
        CheckpointExpectation(params: [
            TensorSpec(path: "fc.weight", shape: [3, 4]), TensorSpec(path: "fc.bias", shape: [3]),
            TensorSpec(path: "bn.weight", shape: [3]),
        ], buffers: [
            TensorSpec(path: "bn.running_mean", shape: [3]),
            TensorSpec(path: "bn.num_batches_tracked", shape: [], dtype: .int64),
        ], architecture: "tiny", numClasses: 3)
    }
}

/// Deterministic values that exercise every bit pattern class: signs, tiny and large magnitudes.
struct ValueSource {
    var state: UInt64

    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let mantissa = Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        let exponent = Int((state >> 20) & 15) - 8
        return Float(sign: .plus, exponent: exponent, significand: 1) * mantissa
    }

    mutating func tensor(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in next() })
    }
}

func makeCheckpoint(_ expectation: CheckpointExpectation, seed: UInt64 = 1, withResumeState: Bool = false,
                    predictions: Bool = false) -> Checkpoint {
    var source = ValueSource(state: seed)
    let params = expectation.params.map { NamedTensor(path: $0.path, tensor: source.tensor($0.shape)) }
    let buffers = expectation.buffers.map { spec -> BufferTensor in
        spec.dtype == .int64
            ? BufferTensor(path: spec.path, tensor: Tensor(filling: 1234, shape: spec.shape), dtype: .int64)
            : BufferTensor(path: spec.path, tensor: source.tensor(spec.shape), dtype: .float32)
    }
    let classes = expectation.numClasses ?? 10
    let metadata = CheckpointMetadata(
        architecture: expectation.architecture ?? "tiny", numClasses: classes, role: .finetuned,
        config: #"{"lr":0.05,"epochs":3,"name":"ünïcode ✓"}"#, seed: seed, epoch: 3, step: 1407,
        created: "2024-05-01T12:00:00Z", method: "sgd", member: 2, parent: "runs/pre.h5",
        parentSHA256: String(repeating: "ab", count: 32), basinVersion: "0.1.0",
        metrics: ["test_acc": 0.9125, "test_loss": 0.25])
    var checkpoint = Checkpoint(metadata: metadata, params: params, buffers: buffers)
    if withResumeState {
        checkpoint.optimizer = expectation.params.map { NamedTensor(path: $0.path, tensor: source.tensor($0.shape)) }
        checkpoint.state = [
            StateArray(name: "rng.data_order", uint64: [0, 1, UInt64.max, 0x0123_4567_89AB_CDEF]),
            StateArray(name: "data_order", int64: [4, 2, 0, 3, 1, -7]),
            StateArray(name: "lr_history", float32: [0.1, 0.05, 0.025]),
            StateArray(name: "matrix", array: HDF5Array(shape: [2, 3], values: .float64([1, 2, 3, 4, 5, .pi]))),
        ]
    }
    if predictions {
        var probs = source.tensor([5, classes])
        probs.storage = probs.storage.map { abs($0) }
        checkpoint.predictions = [
            "test": Predictions(probs: probs, labels: (0..<5).map { Int64($0 % classes) }),
            "val": Predictions(probs: Tensor(zeros: [0, classes]), labels: []),
        ]
    }
    return checkpoint
}

/// Bit-exact comparison (NaN payloads and signed zeros included).
func bitPatterns(_ t: Tensor) -> [UInt32] { t.storage.map(\.bitPattern) }

/// Runs a tool and returns its standard output; fails the test if it exits non-zero.
func runTool(_ executable: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let result = try runProcess(executable, arguments)
    XCTAssertEqual(result.status, 0, "\(executable) \(arguments) failed", file: file, line: line)
    return result.stdout
}
