/// ReLU: y = max(x, 0). Any shape. The cache is the output: its sign is the mask.
public final class ReLU: Layer {
    public let name: String
    public init(_ name: String) { self.name = name }

    public struct Cache { let output: Tensor }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        // A new tensor written once, not a copy of x changed in place (the caller still holds x).
        var y = Tensor(uninitialized: x.shape)
        x.storage.withUnsafeBufferPointer { p in
            y.storage.withUnsafeMutableBufferPointer { q in
                parallelChunks(p.count, minPerWorker: 1 << 14) { _, r in
                    // A select, not a branch, so the loop vectorizes; NaN maps to 0.
                    for i in r { q[i] = p[i] > 0 ? p[i] : 0 }
                }
            }
        }
        return (y, Cache(output: y))
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        x.storage.withUnsafeMutableBufferPointer { p in
            parallelChunks(p.count, minPerWorker: 1 << 14) { _, r in
                for i in r { p[i] = p[i] > 0 ? p[i] : 0 }
            }
        }
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        var dx = Tensor(uninitialized: dy.shape)
        dx.storage.withUnsafeMutableBufferPointer { d in
            dy.storage.withUnsafeBufferPointer { g in
                cache.output.storage.withUnsafeBufferPointer { y in
                    parallelChunks(d.count, minPerWorker: 1 << 14) { _, r in
                        for i in r { d[i] = y[i] > 0 ? g[i] : 0 }
                    }
                }
            }
        }
        return dx
    }
}
