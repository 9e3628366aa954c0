/// Train or eval, passed explicitly to every forward pass.
public enum Mode: Sendable {
    /// Batch statistics in BatchNorm, running statistics updated.
    case train
    /// Running statistics in BatchNorm, nothing updated.
    case eval
}

/// How BatchNorm folds batch statistics into its running statistics in train mode.
public enum StatisticsUpdate: Sendable, Equatable {
    /// running = (1 - momentum) * running + momentum * batch (PyTorch's default, momentum 0.1).
    case exponential(momentum: Float)
    /// Cumulative average over the batches seen since the last reset
    /// (PyTorch with momentum=None, as torch.optim.swa_utils.update_bn uses it).
    case cumulative
}

public struct ForwardContext: Sendable {
    public var mode: Mode
    public var statistics: StatisticsUpdate
    /// Whether containers keep the caches a backward pass needs (by default only in train
    /// mode: inference drops them as it goes).
    public var keepsCaches: Bool

    public init(mode: Mode, statistics: StatisticsUpdate = .exponential(momentum: 0.1), keepsCaches: Bool? = nil) {
        self.mode = mode
        self.statistics = statistics
        self.keepsCaches = keepsCaches ?? (mode == .train)
    }

    public static let train = ForwardContext(mode: .train)
    public static let eval = ForwardContext(mode: .eval)
}

/// A layer: a forward pass that returns its output and the cache its backward pass needs,
/// and a backward pass that takes that cache, accumulates parameter gradients into
/// `Parameter.grad` and returns the gradient with respect to the input (when asked for).
public protocol Layer: AnyObject {
    associatedtype Cache

    /// The path prefix of this layer's parameters and buffers (its PyTorch module name).
    var name: String { get }
    var parameters: [Parameter] { get }
    var buffers: [Buffer] { get }

    func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache)
    func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor?

    /// The forward pass when no backward pass follows (inference, BatchNorm recompute): no
    /// cache, and free to overwrite `x`'s storage. Same values as `forward`.
    func infer(_ x: inout Tensor, _ context: ForwardContext) throws
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        x = try forward(x, context).0
    }

    /// Type-erased backward for containers holding heterogeneous layers.
    func backwardErased(_ dy: Tensor, _ cache: Any, needInputGradient: Bool) -> Tensor? {
        guard let typed = cache as? Cache else {
            preconditionFailure("cache of \(type(of: cache)) passed to \(type(of: self))")
        }
        return backward(dy, typed, needInputGradient: needInputGradient)
    }

    func forwardErased(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Any) {
        let (y, cache) = try forward(x, context)
        return (y, cache)
    }
}

/// Layers applied in order. Unless the context keeps caches, they are dropped as soon as made.
public final class Sequential: Layer {
    public let name: String
    public private(set) var layers: [any Layer]

    public init(_ name: String, _ layers: [any Layer]) {
        self.name = name
        self.layers = layers
    }

    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    public var buffers: [Buffer] { layers.flatMap { $0.buffers } }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, [Any]) {
        var h = x
        guard context.keepsCaches else {
            try infer(&h, context)
            return (h, [])
        }
        var caches: [Any] = []
        caches.reserveCapacity(layers.count)
        var i = 0
        while i < layers.count {
            switch fusion(at: i, context) {
            case .convolutionNormalization(let conv, let norm, let withReLU):
                // The batch statistics come from the convolution's epilogue, the ReLU from the
                // normalization's pass; each layer still leaves its own cache.
                let moments = PlaneMoments(images: h.shape.first ?? 0, channels: norm.channels)
                let (c, convCache) = try conv.forward(h, context, epilogue: norm.momentsEpilogue(moments))
                let (y, normCache) = try norm.forward(c, context, moments: moments, thenReLU: withReLU)
                caches.append(convCache)
                caches.append(normCache)
                if withReLU { caches.append(ReLU.Cache(output: y)) }
                h = y
                i += withReLU ? 3 : 2
            case .normalizationReLU(let norm):
                let (y, normCache) = try norm.forward(h, context, thenReLU: true)
                caches.append(normCache)
                caches.append(ReLU.Cache(output: y))
                h = y
                i += 2
            case nil:
                let (y, cache) = try layers[i].forwardErased(h, context)
                caches.append(cache)
                h = y
                i += 1
            }
        }
        return (h, caches)
    }

    /// In place, layer by layer; a convolution's BatchNorm and ReLU run on each image's output
    /// as it is made (eval mode), or take their statistics from it (train mode).
    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        var i = 0
        while i < layers.count {
            switch fusion(at: i, context) {
            case .convolutionNormalization(let conv, let norm, let withReLU):
                if context.mode == .eval {
                    try conv.infer(&x, context, epilogue: norm.evalEpilogue(thenReLU: withReLU))
                } else {
                    let moments = PlaneMoments(images: x.shape.first ?? 0, channels: norm.channels)
                    try conv.infer(&x, context, epilogue: norm.momentsEpilogue(moments))
                    try norm.infer(&x, context, moments: moments, thenReLU: withReLU)
                }
                i += withReLU ? 3 : 2
            case .normalizationReLU(let norm):
                try norm.infer(&x, context, thenReLU: true)
                i += 2
            case nil:
                try layers[i].infer(&x, context)
                i += 1
            }
        }
    }

    /// Layers that run as one pass over memory, with the same values as one after the other.
    private enum Fusion {
        case convolutionNormalization(Conv2d, BatchNorm2d, withReLU: Bool)
        case normalizationReLU(BatchNorm2d)
    }

    private func fusion(at i: Int, _ context: ForwardContext) -> Fusion? {
        let next = i + 1 < layers.count ? layers[i + 1] : nil
        if let conv = layers[i] as? Conv2d, let norm = next as? BatchNorm2d, norm.channels == conv.outChannels {
            return .convolutionNormalization(conv, norm, withReLU: i + 2 < layers.count && layers[i + 2] is ReLU)
        }
        if let norm = layers[i] as? BatchNorm2d, next is ReLU { return .normalizationReLU(norm) }
        return nil
    }

    public func backward(_ dy: Tensor, _ cache: [Any], needInputGradient: Bool) -> Tensor? {
        precondition(cache.count == layers.count, "Sequential '\(name)': backward needs a forward pass that kept its caches")
        var g = dy
        var i = layers.count - 1
        while i >= 0 {
            // A ReLU after a BatchNorm: its mask is applied inside the BatchNorm's backward.
            if i >= 1, layers[i] is ReLU, let norm = layers[i - 1] as? BatchNorm2d,
               let reluCache = cache[i] as? ReLU.Cache, let normCache = cache[i - 1] as? BatchNorm2d.Cache {
                guard let gi = norm.backward(g, normCache, reluOutput: reluCache.output,
                                             needInputGradient: i - 1 > 0 || needInputGradient) else { return nil }
                g = gi
                i -= 2
                continue
            }
            guard let gi = layers[i].backwardErased(g, cache[i], needInputGradient: i > 0 || needInputGradient) else {
                return nil
            }
            g = gi
            i -= 1
        }
        return g
    }

    /// Replaces the layer at `index` (used to put a fresh classifier head on a network).
    public func replace(at index: Int, with layer: any Layer) {
        layers[index] = layer
    }
}

/// Checks a tensor's shape at a layer boundary; nil entries match any size.
@inline(__always)
func expectShape(_ x: Tensor, _ pattern: [Int?], layer: String, describe: @autoclosure () -> String) throws {
    guard x.shape.count == pattern.count,
          zip(x.shape, pattern).allSatisfy({ $0.1 == nil || $0.0 == $0.1! }) else {
        throw ShapeMismatch(layer: layer, expected: describe(), actual: x.shape)
    }
}
