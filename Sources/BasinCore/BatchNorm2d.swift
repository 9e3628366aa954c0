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
        try expectShape(x, [nil, channels, nil, nil], layer: name, describe: "[N, \(channels), H, W]")
        let n = x.shape[0], plane = x.shape[2] * x.shape[3]
        let m = n * plane
        let training = context.mode == .train
        if training && m < 2 {
            throw ShapeMismatch(layer: name, expected: "more than one value per channel in train mode", actual: x.shape)
        }
        var y = Tensor(uninitialized: x.shape)
        // The normalized input is only needed by a backward pass.
        var xhat = context.keepsCaches ? Tensor(uninitialized: x.shape) : Tensor(zeros: [0])
        let keepNormalized = context.keepsCaches
        var inverseStd = [Float](repeating: 0, count: channels)
        var batchMean = [Float](repeating: 0, count: channels)
        var batchVar = [Float](repeating: 0, count: channels)
        let stride = channels * plane
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                xhat.storage.withUnsafeMutableBufferPointer { hp in
                    inverseStd.withUnsafeMutableBufferPointer { isp in
                        batchMean.withUnsafeMutableBufferPointer { bmp in
                            batchVar.withUnsafeMutableBufferPointer { bvp in
                                let gamma = weight.value.storage, beta = bias.value.storage
                                let rMean = runningMean.value.storage, rVar = runningVar.value.storage
                                parallelChunks(channels) { _, range in
                                    for c in range {
                                        let mean: Float, variance: Float
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
                                            mean = Float(mu)
                                            variance = Float(ss / Double(m))
                                            bmp[c] = mean
                                            bvp[c] = Float(ss / Double(max(m - 1, 1)))
                                        } else {
                                            mean = rMean[c]
                                            variance = rVar[c]
                                        }
                                        let inv = 1 / (variance + eps).squareRoot()
                                        isp[c] = inv
                                        let g = gamma[c], b = beta[c]
                                        for i in 0..<n {
                                            let off = i * stride + c * plane
                                            let src = xp.baseAddress! + off, h = hp.baseAddress.map { $0 + off }

                                            let dst = yp.baseAddress! + off
                                            if keepNormalized {
                                                for j in 0..<plane {
                                                    let v = (src[j] - mean) * inv
                                                    h![j] = v
                                                    dst[j] = v * g + b
                                                }
                                            } else {
                                                for j in 0..<plane { dst[j] = (src[j] - mean) * inv * g + b }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if training { updateRunningStatistics(mean: batchMean, unbiasedVariance: batchVar, context.statistics) }
        return (y, Cache(normalized: xhat, inverseStd: inverseStd, batchStatistics: training))
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
