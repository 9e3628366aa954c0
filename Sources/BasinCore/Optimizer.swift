/// SGD as PyTorch's torch.optim.SGD: d = g + wd * p; buf = momentum * buf + d (buf = d on the
/// first step); d = nesterov ? d + momentum * buf : buf; p -= lr * d.
/// Momentum buffers are addressed by the parameter paths (checkpoint `/optimizer/<path>`).
public final class SGD {
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    public private(set) var momentumBuffers: [String: Tensor] = [:]

    public init(momentum: Float = 0.9, weightDecay: Float = 5e-4, nesterov: Bool = false) {
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// Forgets the momentum (a new cycle starts with fresh optimizer state).
    public func reset() { momentumBuffers = [:] }

    public func setMomentumBuffer(_ t: Tensor, for path: String) { momentumBuffers[path] = t }

    public func step(_ parameters: [Parameter], lr: Float) {
        for p in parameters {
            let hadBuffer = momentumBuffers[p.path] != nil
            var buf = momentumBuffers.removeValue(forKey: p.path) ?? Tensor(zeros: p.value.shape)
            let (mu, wd, nest) = (momentum, weightDecay, nesterov)
            p.value.storage.withUnsafeMutableBufferPointer { w in
                p.grad.storage.withUnsafeBufferPointer { g in
                    buf.storage.withUnsafeMutableBufferPointer { b in
                        // Elementwise, so any split across threads gives the same bits; the
                        // cases are separate loops so that each vectorizes.
                        parallelChunks(w.count, minPerWorker: 1 << 15) { _, range in
                            switch (mu != 0, hadBuffer, nest) {
                            case (false, _, _):
                                for i in range { w[i] -= lr * (g[i] + wd * w[i]) }
                            case (true, false, false):
                                for i in range { let d = g[i] + wd * w[i]; b[i] = d; w[i] -= lr * d }
                            case (true, true, false):
                                // The every-step case, in explicit vectors (the scalar loop does not
                                // vectorize: the compiler cannot rule out aliasing); same arithmetic.
                                let rw = UnsafeMutableRawPointer(w.baseAddress!), rg = UnsafeRawPointer(g.baseAddress!)
                                let rb = UnsafeMutableRawPointer(b.baseAddress!)
                                let wdv = SIMD8<Float>(repeating: wd), muv = SIMD8<Float>(repeating: mu)
                                let lrv = SIMD8<Float>(repeating: lr)
                                var i = range.lowerBound
                                while i + 8 <= range.upperBound {
                                    let wi = rw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                                    let d = rg.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) + wdv * wi
                                    let bi = muv * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) + d
                                    rb.storeBytes(of: bi, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                                    rw.storeBytes(of: wi - lrv * bi, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                                    i += 8
                                }
                                for i in i..<range.upperBound { let d = g[i] + wd * w[i]; b[i] = mu * b[i] + d; w[i] -= lr * b[i] }
                            case (true, false, true):
                                for i in range { let d = g[i] + wd * w[i]; b[i] = d; w[i] -= lr * (d + mu * d) }
                            case (true, true, true):
                                for i in range {
                                    let d = g[i] + wd * w[i]
                                    b[i] = mu * b[i] + d
                                    w[i] -= lr * (d + mu * b[i])
                                }
                            }
                        }
                    }
                }
            }
            if momentum != 0 { momentumBuffers[p.path] = buf }
        }
    }
}
