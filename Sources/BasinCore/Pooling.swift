/// Max pooling with a square window equal to its stride, no padding (floor mode).
/// x [N, C, H, W] -> y [N, C, H / k, W / k]. The cache holds the flat input index of each
/// maximum (the first one in window order on ties, as PyTorch).
public final class MaxPool2d: Layer {
    public let name: String
    public let kernel: Int
    public init(_ name: String, kernel: Int) {
        self.name = name
        self.kernel = kernel
    }

    public struct Cache { let inputShape: [Int]; let argmax: [Int32] }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        try expectShape(x, [nil, nil, nil, nil], layer: name, describe: "[N, C, H, W]")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h / kernel, wo = w / kernel
        guard ho > 0, wo > 0 else {
            throw ShapeMismatch(layer: name, expected: "H and W at least \(kernel)", actual: x.shape)
        }
        var y = Tensor(uninitialized: [n, c, ho, wo])
        var argmax = [Int32](repeating: 0, count: n * c * ho * wo)
        let k = kernel
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    parallelChunks(n * c) { _, planes in
                        for pl in planes {
                            let src = pl * h * w
                            if k == 2 {
                                // The common window, unrolled; ties keep the first, NaN wins.
                                for oh in 0..<ho {
                                    for ow in 0..<wo {
                                        let i0 = src + 2 * oh * w + 2 * ow
                                        var best = xp[i0], bestIndex = i0
                                        @inline(__always) func consider(_ i: Int) {
                                            let v = xp[i]
                                            if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = i }
                                        }
                                        consider(i0 + 1)
                                        consider(i0 + w)
                                        consider(i0 + w + 1)
                                        let o = (pl * ho + oh) * wo + ow
                                        yp[o] = best
                                        ap[o] = Int32(bestIndex)
                                    }
                                }
                                continue
                            }
                            for oh in 0..<ho {
                                for ow in 0..<wo {
                                    var best = -Float.infinity, bestIndex = src + oh * k * w + ow * k
                                    for kh in 0..<k {
                                        let rowIndex = src + (oh * k + kh) * w + ow * k
                                        for kw in 0..<k {
                                            let v = xp[rowIndex + kw]
                                            if v > best || v.isNaN { best = v; bestIndex = rowIndex + kw }
                                        }
                                    }
                                    let o = (pl * ho + oh) * wo + ow
                                    yp[o] = best
                                    ap[o] = Int32(bestIndex)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, Cache(inputShape: x.shape, argmax: argmax))
    }

    /// Without the argmax; the 2x2 window as a branch-free maximum that vectorizes.
    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        guard kernel == 2, x.rank == 4, x.shape[2] >= 2, x.shape[3] >= 2 else {
            x = try forward(x, context).0
            return
        }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = h / 2, wo = w / 2
        var y = Tensor(uninitialized: [n, c, ho, wo])
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                parallelChunks(n * c) { _, planes in
                    @inline(__always) func larger(_ a: Float, _ b: Float) -> Float { (b > a || b.isNaN) ? b : a }
                    for pl in planes {
                        for oh in 0..<ho {
                            let top = xp.baseAddress! + pl * h * w + 2 * oh * w, bottom = top + w
                            let out = yp.baseAddress! + (pl * ho + oh) * wo
                            for ow in 0..<wo {
                                out[ow] = larger(larger(larger(top[2 * ow], top[2 * ow + 1]), bottom[2 * ow]),
                                                 bottom[2 * ow + 1])
                            }
                        }
                    }
                }
            }
        }
        x = y
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        var dx = Tensor(zeros: cache.inputShape)
        dx.storage.withUnsafeMutableBufferPointer { dxp in
            for (o, i) in cache.argmax.enumerated() { dxp[Int(i)] += dy.storage[o] }
        }
        return dx
    }
}

/// Global average pooling: x [N, C, H, W] -> y [N, C], the mean over H and W.
public final class GlobalAveragePool: Layer {
    public let name: String
    public init(_ name: String) { self.name = name }

    public struct Cache { let inputShape: [Int] }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        try expectShape(x, [nil, nil, nil, nil], layer: name, describe: "[N, C, H, W]")
        let nc = x.shape[0] * x.shape[1], plane = x.shape[2] * x.shape[3]
        var y = Tensor(zeros: [x.shape[0], x.shape[1]])
        x.storage.withUnsafeBufferPointer { xp in
            for i in 0..<nc {
                var s: Float = 0
                let p = xp.baseAddress! + i * plane
                for j in 0..<plane { s += p[j] }
                y.storage[i] = s / Float(plane)
            }
        }
        return (y, Cache(inputShape: x.shape))
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let plane = cache.inputShape[2] * cache.inputShape[3]
        var dx = Tensor(zeros: cache.inputShape)
        let scale = 1 / Float(plane)
        dx.storage.withUnsafeMutableBufferPointer { dxp in
            for i in 0..<dy.count {
                let v = dy.storage[i] * scale
                let p = dxp.baseAddress! + i * plane
                for j in 0..<plane { p[j] = v }
            }
        }
        return dx
    }
}

/// Flatten: x [N, ...] -> y [N, prod(...)].
public final class Flatten: Layer {
    public let name: String
    public init(_ name: String) { self.name = name }

    public struct Cache { let inputShape: [Int] }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        guard x.rank >= 1 else { throw ShapeMismatch(layer: name, expected: "[N, ...]", actual: x.shape) }
        return (x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)]), Cache(inputShape: x.shape))
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        needInputGradient ? dy.reshaped(cache.inputShape) : nil
    }
}
