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
                        for i in 0..<w.count {
                            var d = g[i] + wd * w[i]
                            if mu != 0 {
                                b[i] = hadBuffer ? mu * b[i] + d : d
                                d = nest ? d + mu * b[i] : b[i]
                            }
                            w[i] -= lr * d
                        }
                    }
                }
            }
            if momentum != 0 { momentumBuffers[p.path] = buf }
        }
    }
}
