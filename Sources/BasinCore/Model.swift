/// The models of ../shared/bench/WORKLOADS.md by name, with parameter and buffer paths equal
/// to the PyTorch `state_dict` keys of bench/reference_models.py.
public enum Architecture: String, CaseIterable, Sendable, Codable {
    case mlp
    case cnn
    case resnet20

    public init(name: String) throws {
        guard let a = Architecture(rawValue: name) else { throw UnknownArchitecture(name: name) }
        self = a
    }
}

public struct UnknownArchitecture: Error, CustomStringConvertible {
    public let name: String
    public var description: String {
        "unknown model '\(name)' (known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
    }
}

/// A network: a feature extractor and a linear classifier head named `head`.
/// x [N, inChannels, H, W] -> logits [N, numClasses]. The convolutional models take any H and W
/// (global pooling); the mlp's first layer takes exactly inChannels * imageHeight * imageWidth values.
public final class Model {
    public let architecture: Architecture
    public private(set) var numClasses: Int
    public let features: Sequential
    public private(set) var head: Linear

    public init(_ architecture: Architecture, numClasses: Int, inChannels: Int = 1, imageHeight: Int = 28,
                imageWidth: Int = 28, seed: UInt64) {
        var rng = RandomGenerator.stream(seed: seed, purpose: "init")
        self.architecture = architecture
        self.numClasses = numClasses
        let width: Int
        switch architecture {
        case .mlp:
            features = Sequential("", [
                Flatten("flatten"),
                Linear("fc1", inFeatures: inChannels * imageHeight * imageWidth, outFeatures: 512, rng: &rng), ReLU("relu1"),
                Linear("fc2", inFeatures: 512, outFeatures: 512, rng: &rng), ReLU("relu2"),
            ])
            width = 512
        case .cnn:
            func block(_ i: Int, _ cin: Int, _ cout: Int) -> [any Layer] {
                [Conv2d("features.\(i)", inChannels: cin, outChannels: cout, kernel: 3, padding: 1, bias: false, rng: &rng),
                 BatchNorm2d("features.\(i + 1)", channels: cout), ReLU("features.\(i + 2)")]
            }
            features = Sequential("features",
                                  block(0, inChannels, 32) + block(3, 32, 32) + [MaxPool2d("features.6", kernel: 2)]
                                  + block(7, 32, 64) + block(10, 64, 64) + [MaxPool2d("features.13", kernel: 2),
                                                                            GlobalAveragePool("pool")])
            width = 64
        case .resnet20:
            var layers: [any Layer] = [
                Conv2d("conv1", inChannels: inChannels, outChannels: 16, kernel: 3, padding: 1, bias: false, rng: &rng),
                BatchNorm2d("bn1", channels: 16), ReLU("relu"),
            ]
            var cin = 16
            for (stage, (cout, firstStride)) in [(16, 1), (32, 2), (64, 2)].enumerated() {
                for b in 0..<3 {
                    let stride = b == 0 ? firstStride : 1
                    let p = "layer\(stage + 1).\(b)"
                    let main = Sequential(p, [
                        Conv2d("\(p).conv1", inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1,
                               bias: false, rng: &rng),
                        BatchNorm2d("\(p).bn1", channels: cout), ReLU("\(p).relu1"),
                        Conv2d("\(p).conv2", inChannels: cout, outChannels: cout, kernel: 3, padding: 1, bias: false,
                               rng: &rng),
                        BatchNorm2d("\(p).bn2", channels: cout),
                    ])
                    let shortcut = (stride != 1 || cin != cout)
                        ? Sequential("\(p).shortcut", [
                            Conv2d("\(p).shortcut.0", inChannels: cin, outChannels: cout, kernel: 1, stride: stride,
                                   bias: false, rng: &rng),
                            BatchNorm2d("\(p).shortcut.1", channels: cout)])
                        : Sequential("\(p).shortcut", [])
                    layers.append(Residual(p, main: main, shortcut: shortcut))
                    layers.append(ReLU("\(p).relu2"))
                    cin = cout
                }
            }
            layers.append(GlobalAveragePool("pool"))
            features = Sequential("", layers)
            width = 64
        }
        head = Linear("head", inFeatures: width, outFeatures: numClasses, rng: &rng)
    }

    /// Parameters in `state_dict` order (features first, then the head).
    public var parameters: [Parameter] { features.parameters + head.parameters }
    /// Buffers in `state_dict` order.
    public var buffers: [Buffer] { features.buffers }

    public var parameterSpecs: [TensorSpec] { parameters.map { TensorSpec(path: $0.path, shape: $0.value.shape) } }
    public var bufferSpecs: [TensorSpec] { buffers.map { TensorSpec(path: $0.path, shape: $0.value.shape, dtype: $0.dtype) } }

    public var batchNorms: [BatchNorm2d] {
        func collect(_ s: Sequential) -> [BatchNorm2d] {
            s.layers.flatMap { layer -> [BatchNorm2d] in
                if let bn = layer as? BatchNorm2d { return [bn] }
                if let r = layer as? Residual { return collect(r.main) + collect(r.shortcut) }
                if let q = layer as? Sequential { return collect(q) }
                return []
            }
        }
        return collect(features)
    }

    /// A freshly initialized classifier head with `numClasses` outputs (what fine-tuning does).
    public func replaceHead(numClasses: Int, seed: UInt64) {
        var rng = RandomGenerator.stream(seed: seed, purpose: "head")
        self.numClasses = numClasses
        head = Linear("head", inFeatures: head.inFeatures, outFeatures: numClasses, rng: &rng)
    }

    public struct Cache { let features: [Any]; let head: Linear.Cache }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        let (h, featureCache) = try features.forward(x, context)
        let (logits, headCache) = try head.forward(h, context)
        return (logits, Cache(features: featureCache, head: headCache))
    }

    /// Logits only, in eval mode unless told otherwise.
    public func predict(_ x: Tensor, _ context: ForwardContext = .eval) throws -> Tensor {
        guard !context.keepsCaches else { return try forward(x, context).0 }
        var h = x
        try features.infer(&h, context)
        try head.infer(&h, context)
        return h
    }

    /// Accumulates parameter gradients for dLoss/dlogits.
    public func backward(_ dLogits: Tensor, _ cache: Cache) {
        guard let dh = head.backward(dLogits, cache.head, needInputGradient: true) else { return }
        _ = features.backward(dh, cache.features, needInputGradient: false)
    }

    public func zeroGradients() {
        for p in parameters { p.zeroGrad() }
    }

    /// All parameters as one float64 vector in `parameters` order (for landscape geometry).
    public func flatParameters() -> [Double] {
        var v: [Double] = []
        v.reserveCapacity(parameters.reduce(0) { $0 + $1.value.count })
        for p in parameters { v.append(contentsOf: p.value.storage.lazy.map(Double.init)) }
        return v
    }

    /// Sets every parameter from a flat vector in `parameters` order.
    public func setFlatParameters(_ v: [Double]) {
        var offset = 0
        for p in parameters {
            for i in 0..<p.value.count { p.value.storage[i] = Float(v[offset + i]) }
            offset += p.value.count
        }
        precondition(offset == v.count, "flat parameter vector of \(v.count) for \(offset) parameters")
    }
}
