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
        /// Normalized input, same shape as the input.
        let normalized: Tensor
        /// 1 / sqrt(var + eps) per channel, of the statistics that normalized the input.
        let inverseStd: [Float]
        /// Whether the statistics were the batch's own (their gradient flows) or the running ones.
        let batchStatistics: Bool
    }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        let training = try check(x, context)
        let statistics = channelStatistics(x, training: training)
        var y = Tensor(uninitialized: x.shape)
        // The normalized input is only needed by a backward pass.
        var xhat = context.keepsCaches ? Tensor(uninitialized: x.shape) : Tensor(zeros: [0])
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                xhat.storage.withUnsafeMutableBufferPointer { hp in
                    normalize(xp.baseAddress!, into: yp.baseAddress!, normalized: hp.baseAddress, shape: x.shape,
                              statistics, thenReLU: false)
                }
            }
        }
        if training { updateRunningStatistics(mean: statistics.mean, unbiasedVariance: statistics.unbiasedVariance, context.statistics) }
        return (y, Cache(normalized: xhat, inverseStd: statistics.inverseStd, batchStatistics: training))
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        try infer(&x, context, thenReLU: false)
    }

    /// In place; with `thenReLU` also applies a following ReLU in the same pass (bit-identical
    /// to the two layers one after the other).
    public func infer(_ x: inout Tensor, _ context: ForwardContext, thenReLU: Bool) throws {
        let training = try check(x, context)
        let statistics = channelStatistics(x, training: training)
        let shape = x.shape
        x.storage.withUnsafeMutableBufferPointer { xp in
            normalize(xp.baseAddress!, into: xp.baseAddress!, normalized: nil, shape: shape, statistics, thenReLU: thenReLU)
        }
        if training { updateRunningStatistics(mean: statistics.mean, unbiasedVariance: statistics.unbiasedVariance, context.statistics) }
    }

    /// In eval mode, the normalization (and a following ReLU) of one image's [C, pixels] block,
    /// as a convolution's epilogue: the same per-element arithmetic as `infer`.
    public func evalEpilogue(thenReLU: Bool) -> (UnsafeMutablePointer<Float>, Int) -> Void {
        let statistics = channelStatistics(Tensor(zeros: [0, channels, 0, 0]), training: false)
        let gamma = weight.value.storage, beta = bias.value.storage
        let channels = channels
        return { block, plane in
            for c in 0..<channels {
                let mean = statistics.mean[c], inv = statistics.inverseStd[c], g = gamma[c], b = beta[c]
                let row = block + c * plane
                if thenReLU {
                    for j in 0..<plane {
                        let v = (row[j] - mean) * inv * g + b
                        row[j] = v > 0 ? v : 0
                    }
                } else {
                    for j in 0..<plane { row[j] = (row[j] - mean) * inv * g + b }
                }
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
    private func channelStatistics(_ x: Tensor, training: Bool) -> ChannelStatistics {
        let n = x.shape[0], plane = x.shape[2] * x.shape[3]
        let m = n * plane, stride = channels * plane
        var stats = ChannelStatistics(mean: [Float](repeating: 0, count: channels),
                                      inverseStd: [Float](repeating: 0, count: channels),
                                      unbiasedVariance: [Float](repeating: 0, count: channels))
        let rMean = runningMean.value.storage, rVar = runningVar.value.storage
        x.storage.withUnsafeBufferPointer { xp in
            stats.mean.withUnsafeMutableBufferPointer { mp in
                stats.inverseStd.withUnsafeMutableBufferPointer { isp in
                    stats.unbiasedVariance.withUnsafeMutableBufferPointer { uvp in
                        parallelChunks(channels) { _, range in
                            for c in range {
                                let variance: Float
                                if training {
                                    // Two passes; each image's plane is summed in float (a loop
                                    // that vectorizes), the planes in double, always in the
                                    // same order.
                                    var s = 0.0
                                    for i in 0..<n {
                                        let p = xp.baseAddress! + i * stride + c * plane
                                        var part: Float = 0
                                        for j in 0..<plane { part += p[j] }
                                        s += Double(part)
                                    }
                                    let mu = s / Double(m)
                                    let muF = Float(mu)
                                    var ss = 0.0
                                    for i in 0..<n {
                                        let p = xp.baseAddress! + i * stride + c * plane
                                        var part: Float = 0
                                        for j in 0..<plane { let d = p[j] - muF; part += d * d }
                                        ss += Double(part)
                                    }
                                    mp[c] = muF
                                    variance = Float(ss / Double(m))
                                    uvp[c] = Float(ss / Double(max(m - 1, 1)))
                                } else {
                                    mp[c] = rMean[c]
                                    variance = rVar[c]
                                }
                                isp[c] = 1 / (variance + eps).squareRoot()
                            }
                        }
                    }
                }
            }
        }
        return stats
    }

    /// y = (x - mean) * inverseStd * weight + bias per channel (then max(y, 0) with `thenReLU`);
    /// `normalized` receives (x - mean) * inverseStd when given. `y` may be `x`.
    private func normalize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                           normalized: UnsafeMutablePointer<Float>?, shape: [Int], _ statistics: ChannelStatistics,
                           thenReLU: Bool) {
        let n = shape[0], plane = shape[2] * shape[3], stride = channels * plane
        let gamma = weight.value.storage, beta = bias.value.storage
        parallelChunks(channels) { _, range in
            for c in range {
                let mean = statistics.mean[c], inv = statistics.inverseStd[c]
                let g = gamma[c], b = beta[c]
                for i in 0..<n {
                    let off = i * stride + c * plane
                    let src = x + off, dst = y + off
                    if let h = normalized.map({ $0 + off }) {
                        for j in 0..<plane {
                            let v = (src[j] - mean) * inv
                            h[j] = v
                            dst[j] = v * g + b
                        }
                    } else if thenReLU {
                        for j in 0..<plane {
                            let v = (src[j] - mean) * inv * g + b
                            dst[j] = v > 0 ? v : 0
                        }
                    } else {
                        for j in 0..<plane { dst[j] = (src[j] - mean) * inv * g + b }
                    }
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

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        let n = dy.shape[0], plane = dy.shape[2] * dy.shape[3]
        let m = Float(n * plane), stride = channels * plane
        precondition(cache.normalized.count == dy.count,
                     "\(name): backward needs a forward run with keepsCaches (got \(cache.normalized.count) cached values for \(dy.count))")
        var dx = needInputGradient ? Tensor(zeros: dy.shape) : Tensor(zeros: [0])
        var dGamma = [Float](repeating: 0, count: channels)
        var dBeta = [Float](repeating: 0, count: channels)
        dy.storage.withUnsafeBufferPointer { dyp in
            cache.normalized.storage.withUnsafeBufferPointer { hp in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    dGamma.withUnsafeMutableBufferPointer { dgp in
                        dBeta.withUnsafeMutableBufferPointer { dbp in
                            let gamma = weight.value.storage
                            parallelChunks(channels) { _, range in
                                for c in range {
                                    var sumDy = 0.0, sumDyH = 0.0
                                    for i in 0..<n {
                                        let off = i * stride + c * plane
                                        let d = dyp.baseAddress! + off, h = hp.baseAddress! + off
                                        var partDy: Float = 0, partDyH: Float = 0
                                        for j in 0..<plane {
                                            partDy += d[j]
                                            partDyH += d[j] * h[j]
                                        }
                                        sumDy += Double(partDy)
                                        sumDyH += Double(partDyH)
                                    }
                                    dgp[c] = Float(sumDyH)
                                    dbp[c] = Float(sumDy)
                                    guard needInputGradient else { continue }
                                    let scale = gamma[c] * cache.inverseStd[c]
                                    let meanDy = Float(sumDy) / m, meanDyH = Float(sumDyH) / m
                                    for i in 0..<n {
                                        let off = i * stride + c * plane
                                        let d = dyp.baseAddress! + off, h = hp.baseAddress! + off
                                        let out = dxp.baseAddress! + off
                                        if cache.batchStatistics {
                                            for j in 0..<plane { out[j] = scale * (d[j] - meanDy - h[j] * meanDyH) }
                                        } else {
                                            for j in 0..<plane { out[j] = scale * d[j] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for c in 0..<channels {
            weight.grad.storage[c] += dGamma[c]
            bias.grad.storage[c] += dBeta[c]
        }
        return needInputGradient ? dx : nil
    }
}
