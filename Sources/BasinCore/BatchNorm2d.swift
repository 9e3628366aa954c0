/// Batch normalization over [N, C, H, W], per channel.
/// Train: batch statistics (biased variance to normalize), running statistics updated with
/// unbiased variance. Eval: running statistics, nothing updated.
/// Parameters weight [C], bias [C]; buffers running_mean [C], running_var [C],
/// num_batches_tracked [] (int64).
public final class BatchNorm2d: Layer {
    public let name: String
    public let channels: Int
    public let eps: Float = 1e-5
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let batchesTracked: Buffer

    public init(_ name: String, channels: Int) {
        self.name = name
        self.channels = channels
        weight = Parameter(path: "\(name).weight", value: Tensor(filling: 1, shape: [channels]))
        bias = Parameter(path: "\(name).bias", value: Tensor(zeros: [channels]))
        runningMean = Buffer(path: "\(name).running_mean", value: Tensor(zeros: [channels]))
        runningVar = Buffer(path: "\(name).running_var", value: Tensor(filling: 1, shape: [channels]))
        batchesTracked = Buffer(path: "\(name).num_batches_tracked", value: Tensor(zeros: []), dtype: .int64)
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVar, batchesTracked] }

    /// Running statistics back to their initial state (mean 0, variance 1, no batches), as
    /// before a cumulative recomputation.
    public func resetRunningStatistics() {
        runningMean.value = Tensor(zeros: [channels])
        runningVar.value = Tensor(filling: 1, shape: [channels])
        batchesTracked.value = Tensor(zeros: [])
    }

    public struct Cache {
        /// The input; backward recomputes the normalized values (x - mean) * inverseStd from it,
        /// the same float expression as the forward pass, instead of keeping a second tensor.
        let input: Tensor
        let mean: [Float]
        /// 1 / sqrt(var + eps) per channel, of the statistics that normalized the input.
        let inverseStd: [Float]
        /// Whether the statistics were the batch's own (their gradient flows) or the running ones.
        let batchStatistics: Bool
    }

    // MARK: forward

    /// `moments`: the input's per-image plane moments when a convolution already computed them
    /// as its epilogue (train mode); computed here otherwise. With `thenReLU` the output is
    /// max(y, 0), the same values as this layer followed by a ReLU.
    public func forward(_ x: Tensor, _ context: ForwardContext, moments: PlaneMoments? = nil,
                        thenReLU: Bool = false) throws -> (Tensor, Cache) {
        let training = try check(x, context)
        let statistics = channelStatistics(x, training: training, moments: moments)
        var y = Tensor(uninitialized: x.shape)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                normalize(xp.baseAddress!, into: yp.baseAddress!, shape: x.shape, statistics, thenReLU: thenReLU)
            }
        }
        if training { updateRunningStatistics(mean: statistics.mean, unbiasedVariance: statistics.unbiasedVariance, context.statistics) }
        return (y, Cache(input: x, mean: statistics.mean, inverseStd: statistics.inverseStd, batchStatistics: training))
    }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        try forward(x, context, moments: nil, thenReLU: false)
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        try infer(&x, context, moments: nil, thenReLU: false)
    }

    /// In place; with `thenReLU` also applies a following ReLU in the same pass (bit-identical
    /// to the two layers one after the other).
    public func infer(_ x: inout Tensor, _ context: ForwardContext, moments: PlaneMoments? = nil, thenReLU: Bool) throws {
        let training = try check(x, context)
        let statistics = channelStatistics(x, training: training, moments: moments)
        let shape = x.shape
        x.storage.withUnsafeMutableBufferPointer { xp in
            normalize(xp.baseAddress!, into: xp.baseAddress!, shape: shape, statistics, thenReLU: thenReLU)
        }
        if training { updateRunningStatistics(mean: statistics.mean, unbiasedVariance: statistics.unbiasedVariance, context.statistics) }
    }

    /// In eval mode, the normalization (and a following ReLU) of one image's [C, pixels] block,
    /// as a convolution's epilogue: the same per-element arithmetic as `infer`.
    public func evalEpilogue(thenReLU: Bool) -> Conv2d.Epilogue {
        let statistics = channelStatistics(Tensor(zeros: [0, channels, 0, 0]), training: false, moments: nil)
        let gamma = weight.value.storage, beta = bias.value.storage
        let channels = channels
        return { _, block, plane in
            for c in 0..<channels {
                normalizeRow(block + c * plane, into: block + c * plane, count: plane, mean: statistics.mean[c],
                             inverseStd: statistics.inverseStd[c], gamma: gamma[c], beta: beta[c], thenReLU: thenReLU)
            }
        }
    }

    /// In train mode, a convolution's epilogue that records each image's plane moments while
    /// its output is still in cache, so the statistics need no pass over the batch.
    public func momentsEpilogue(_ moments: PlaneMoments) -> Conv2d.Epilogue {
        let channels = channels
        return { image, block, plane in
            for c in 0..<channels {
                let (sum, m2) = planeMoments(block + c * plane, count: plane)
                moments.store(image: image, channel: c, sum: sum, m2: m2)
            }
        }
    }

    /// Whether the batch's own statistics normalize (train mode), after checking the shape.
    private func check(_ x: Tensor, _ context: ForwardContext) throws -> Bool {
        try expectShape(x, [nil, channels, nil, nil], layer: name, describe: "[N, \(channels), H, W]")
        let training = context.mode == .train
        if training && x.shape[0] * x.shape[2] * x.shape[3] < 2 {
            throw ShapeMismatch(layer: name, expected: "more than one value per channel in train mode", actual: x.shape)
        }
        return training
    }

    struct ChannelStatistics {
        var mean: [Float]
        var inverseStd: [Float]
        /// Of the batch, for the running statistics (train mode only).
        var unbiasedVariance: [Float]
    }

    /// Per channel: the batch's mean and variance in train mode, the running ones in eval mode.
    /// The batch's come from per-image plane moments merged in image order in double
    /// (Chan et al.'s pairwise update), so they do not depend on the thread count.
    private func channelStatistics(_ x: Tensor, training: Bool, moments given: PlaneMoments?) -> ChannelStatistics {
        var stats = ChannelStatistics(mean: runningMean.value.storage, inverseStd: [Float](repeating: 0, count: channels),
                                      unbiasedVariance: [Float](repeating: 0, count: channels))
        var variance = runningVar.value.storage
        if training {
            let n = x.shape[0], plane = x.shape[2] * x.shape[3]
            let moments = given ?? PlaneMoments.of(x)
            precondition(moments.images == n && moments.channels == channels, "\(name): moments of another batch")
            let m = Double(n * plane), p = Double(plane)
            for c in 0..<channels {
                var sum = 0.0
                for i in 0..<n { sum += Double(moments.sum(image: i, channel: c)) }
                let mean = sum / m
                var m2 = 0.0
                for i in 0..<n {
                    let d = Double(moments.sum(image: i, channel: c)) / p - mean
                    m2 += Double(moments.m2(image: i, channel: c)) + p * d * d
                }
                stats.mean[c] = Float(mean)
                variance[c] = Float(m2 / m)
                stats.unbiasedVariance[c] = Float(m2 / max(m - 1, 1))
            }
        }
        for c in 0..<channels { stats.inverseStd[c] = 1 / (variance[c] + eps).squareRoot() }
        return stats
    }

    /// y = (x - mean) * inverseStd * weight + bias per channel (then max(y, 0) with `thenReLU`).
    /// `y` may be `x`.
    private func normalize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: [Int],
                           _ statistics: ChannelStatistics, thenReLU: Bool) {
        let n = shape[0], plane = shape[2] * shape[3], channels = channels
        let gamma = weight.value.storage, beta = bias.value.storage
        // Image-major, so each worker streams through its own contiguous part of the batch.
        parallelChunks(n) { _, images in
            for i in images {
                for c in 0..<channels {
                    let off = (i * channels + c) * plane
                    normalizeRow(x + off, into: y + off, count: plane, mean: statistics.mean[c],
                                 inverseStd: statistics.inverseStd[c], gamma: gamma[c], beta: beta[c], thenReLU: thenReLU)
                }
            }
        }
    }

    private func updateRunningStatistics(mean: [Float], unbiasedVariance: [Float], _ rule: StatisticsUpdate) {
        let tracked = batchesTracked.value.storage[0] + 1
        batchesTracked.value.storage[0] = tracked
        let factor: Float
        switch rule {
        case .exponential(let momentum): factor = momentum
        case .cumulative: factor = 1 / tracked
        }
        for c in 0..<channels {
            runningMean.value.storage[c] = (1 - factor) * runningMean.value.storage[c] + factor * mean[c]
            runningVar.value.storage[c] = (1 - factor) * runningVar.value.storage[c] + factor * unbiasedVariance[c]
        }
    }

    // MARK: backward

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        backward(dy, cache, reluOutput: nil, needInputGradient: needInputGradient)
    }

    /// With `reluOutput` (the output of a ReLU that followed this layer), `dy` is the gradient
    /// of that ReLU's output and the ReLU's backward (dy where the output is positive, else 0)
    /// is applied on the fly: the same values as the two backward passes one after the other.
    public func backward(_ dy: Tensor, _ cache: Cache, reluOutput: Tensor?, needInputGradient: Bool) -> Tensor? {
        let n = dy.shape[0], plane = dy.shape[2] * dy.shape[3], channels = channels
        precondition(cache.input.shape == dy.shape,
                     "\(name): backward gradient \(shapeString(dy.shape)) for a forward input \(shapeString(cache.input.shape))")
        precondition(reluOutput.map { $0.shape == dy.shape } ?? true, "\(name): ReLU output of another shape")
        var dx = needInputGradient ? Tensor(uninitialized: dy.shape) : Tensor(zeros: [0])
        // Per image and channel: sum of dy and of dy * xhat, merged in image order below.
        var partial = [Float](repeating: 0, count: 2 * n * channels)
        let maskTensor = reluOutput ?? Tensor(zeros: [0])
        dy.storage.withUnsafeBufferPointer { dyp in
            cache.input.storage.withUnsafeBufferPointer { xp in
                maskTensor.storage.withUnsafeBufferPointer { mp in
                    partial.withUnsafeMutableBufferPointer { pp in
                        let mask = reluOutput == nil ? nil : mp.baseAddress
                        parallelChunks(n) { _, images in
                            for i in images {
                                for c in 0..<channels {
                                    let off = (i * channels + c) * plane
                                    let (s, sh) = gradientSums(dy: dyp.baseAddress! + off, x: xp.baseAddress! + off,
                                                               mask: mask.map { $0 + off }, count: plane,
                                                               mean: cache.mean[c], inverseStd: cache.inverseStd[c])
                                    pp[2 * (i * channels + c)] = s
                                    pp[2 * (i * channels + c) + 1] = sh
                                }
                            }
                        }
                    }
                }
            }
        }
        var sumDy = [Float](repeating: 0, count: channels), sumDyH = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            var s = 0.0, sh = 0.0
            for i in 0..<n {
                s += Double(partial[2 * (i * channels + c)])
                sh += Double(partial[2 * (i * channels + c) + 1])
            }
            sumDy[c] = Float(s)
            sumDyH[c] = Float(sh)
            weight.grad.storage[c] += sumDyH[c]
            bias.grad.storage[c] += sumDy[c]
        }
        guard needInputGradient else { return nil }
        let m = Float(n * plane), gamma = weight.value.storage
        dy.storage.withUnsafeBufferPointer { dyp in
            cache.input.storage.withUnsafeBufferPointer { xp in
                maskTensor.storage.withUnsafeBufferPointer { mp in
                    dx.storage.withUnsafeMutableBufferPointer { dxp in
                        let mask = reluOutput == nil ? nil : mp.baseAddress
                        parallelChunks(n) { _, images in
                            for i in images {
                                for c in 0..<channels {
                                    let off = (i * channels + c) * plane
                                    inputGradientRow(dy: dyp.baseAddress! + off, x: xp.baseAddress! + off,
                                                     mask: mask.map { $0 + off }, into: dxp.baseAddress! + off, count: plane,
                                                     mean: cache.mean[c], inverseStd: cache.inverseStd[c],
                                                     scale: gamma[c] * cache.inverseStd[c],
                                                     meanDy: sumDy[c] / m, meanDyH: sumDyH[c] / m,
                                                     batchStatistics: cache.batchStatistics)
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Per image and channel of a batch: the plane's sum and the sum of squared deviations from
/// the plane's own mean, what BatchNorm's batch statistics are merged from.
public final class PlaneMoments: @unchecked Sendable {
    public let images: Int
    public let channels: Int
    // Written by disjoint (image, channel) slots from several threads, so raw storage.
    private let values: UnsafeMutableBufferPointer<Float>

    public init(images: Int, channels: Int) {
        self.images = images
        self.channels = channels
        values = .allocate(capacity: max(1, 2 * images * channels))
        values.initialize(repeating: 0)
    }

    deinit { values.deallocate() }

    @inline(__always) func store(image: Int, channel: Int, sum: Float, m2: Float) {
        values[2 * (image * channels + channel)] = sum
        values[2 * (image * channels + channel) + 1] = m2
    }
    @inline(__always) func sum(image: Int, channel: Int) -> Float { values[2 * (image * channels + channel)] }
    @inline(__always) func m2(image: Int, channel: Int) -> Float { values[2 * (image * channels + channel) + 1] }

    /// The moments of every plane of x [N, C, H, W].
    static func of(_ x: Tensor) -> PlaneMoments {
        let n = x.shape[0], channels = x.shape[1], plane = x.shape[2] * x.shape[3]
        let moments = PlaneMoments(images: n, channels: channels)
        x.storage.withUnsafeBufferPointer { xp in
            parallelChunks(n) { _, images in
                for i in images {
                    for c in 0..<channels {
                        let (s, m2) = planeMoments(xp.baseAddress! + (i * channels + c) * plane, count: plane)
                        moments.store(image: i, channel: c, sum: s, m2: m2)
                    }
                }
            }
        }
        return moments
    }
}

// The row kernels below run over one image's plane of one channel (a few hundred floats, in
// L1). Sums use 16 float lanes in a fixed order, so they vectorize and stay deterministic.

/// (sum of p, sum of (p - mean(p))^2).
@inline(__always)
func planeMoments(_ p: UnsafePointer<Float>, count: Int) -> (Float, Float) {
    let raw = UnsafeRawPointer(p)
    var a = SIMD8<Float>(), b = SIMD8<Float>()
    var j = 0
    while j + 16 <= count {
        a += raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
        b += raw.loadUnaligned(fromByteOffset: 4 * j + 32, as: SIMD8<Float>.self)
        j += 16
    }
    var sum = (a + b).sum()
    while j < count { sum += p[j]; j += 1 }
    let mean = sum / Float(count)
    let mv = SIMD8<Float>(repeating: mean)
    a = SIMD8<Float>()
    b = SIMD8<Float>()
    j = 0
    while j + 16 <= count {
        let u = raw.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) - mv
        let v = raw.loadUnaligned(fromByteOffset: 4 * j + 32, as: SIMD8<Float>.self) - mv
        a += u * u
        b += v * v
        j += 16
    }
    var m2 = (a + b).sum()
    while j < count { let d = p[j] - mean; m2 += d * d; j += 1 }
    return (sum, m2)
}

/// y = (x - mean) * inverseStd * gamma + beta, then max(y, 0) with `thenReLU` (NaN maps to 0).
@inline(__always)
func normalizeRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, mean: Float,
                  inverseStd: Float, gamma: Float, beta: Float, thenReLU: Bool) {
    let rx = UnsafeRawPointer(x), out = UnsafeMutableRawPointer(y)
    let zero = SIMD8<Float>(), mv = SIMD8<Float>(repeating: mean), iv = SIMD8<Float>(repeating: inverseStd)
    let gv = SIMD8<Float>(repeating: gamma), bv = SIMD8<Float>(repeating: beta)
    var j = 0
    while j + 8 <= count {
        var v = (rx.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) - mv) * iv * gv + bv
        if thenReLU { v = zero.replacing(with: v, where: v .> zero) }
        out.storeBytes(of: v, toByteOffset: 4 * j, as: SIMD8<Float>.self)
        j += 8
    }
    while j < count {
        let v = (x[j] - mean) * inverseStd * gamma + beta
        y[j] = thenReLU ? (v > 0 ? v : 0) : v
        j += 1
    }
}

/// (sum of g, sum of g * xhat) with g = dy masked by mask > 0 when a mask is given and
/// xhat = (x - mean) * inverseStd.
@inline(__always)
func gradientSums(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mask: UnsafePointer<Float>?, count: Int,
                  mean: Float, inverseStd: Float) -> (Float, Float) {
    let rd = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x)
    let mv = SIMD8<Float>(repeating: mean), iv = SIMD8<Float>(repeating: inverseStd), zero = SIMD8<Float>()
    var s = SIMD8<Float>(), sh = SIMD8<Float>()
    var j = 0
    if let mask {
        let rm = UnsafeRawPointer(mask)
        while j + 8 <= count {
            var g = rd.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            g = zero.replacing(with: g, where: rm.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) .> zero)
            let h = (rx.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) - mv) * iv
            s += g
            sh += g * h
            j += 8
        }
    } else {
        while j + 8 <= count {
            let g = rd.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            let h = (rx.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) - mv) * iv
            s += g
            sh += g * h
            j += 8
        }
    }
    var sum = s.sum(), sumH = sh.sum()
    while j < count {
        let g = mask.map { $0[j] > 0 ? dy[j] : 0 } ?? dy[j]
        sum += g
        sumH += g * ((x[j] - mean) * inverseStd)
        j += 1
    }
    return (sum, sumH)
}

/// dx = scale * (g - meanDy - xhat * meanDyH) with batch statistics, scale * g with running
/// ones; g and xhat as in `gradientSums`. Explicit vectors: the scalar loop does not vectorize.
@inline(__always)
func inputGradientRow(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mask: UnsafePointer<Float>?,
                      into dx: UnsafeMutablePointer<Float>, count: Int, mean: Float, inverseStd: Float,
                      scale: Float, meanDy: Float, meanDyH: Float, batchStatistics: Bool) {
    // The same expression in vector and scalar form, so every element gets identical arithmetic.
    @inline(__always) func value(_ g: Float, _ x: Float) -> Float {
        batchStatistics ? scale * (g - meanDy - (x - mean) * inverseStd * meanDyH) : scale * g
    }
    let rd = UnsafeRawPointer(dy), rx = UnsafeRawPointer(x), rm = mask.map(UnsafeRawPointer.init)
    let out = UnsafeMutableRawPointer(dx)
    let zero = SIMD8<Float>(), sv = SIMD8<Float>(repeating: scale), mv = SIMD8<Float>(repeating: mean)
    let iv = SIMD8<Float>(repeating: inverseStd), mdy = SIMD8<Float>(repeating: meanDy)
    let mdh = SIMD8<Float>(repeating: meanDyH)
    var j = 0
    while j + 8 <= count {
        var g = rd.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
        if let rm { g = zero.replacing(with: g, where: rm.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self) .> zero) }
        let v: SIMD8<Float>
        if batchStatistics {
            let h = rx.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            v = sv * (g - mdy - (h - mv) * iv * mdh)
        } else {
            v = sv * g
        }
        out.storeBytes(of: v, toByteOffset: 4 * j, as: SIMD8<Float>.self)
        j += 8
    }
    while j < count {
        let g = mask.map { $0[j] > 0 ? dy[j] : 0 } ?? dy[j]
        dx[j] = value(g, x[j])
        j += 1
    }
}
