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
                                maxPool2x2Plane(xp.baseAddress!, planeStart: src, w: w, ho: ho, wo: wo,
                                                values: yp.baseAddress! + pl * ho * wo, argmax: ap.baseAddress! + pl * ho * wo)
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
        let shape = cache.inputShape
        let planeSize = shape[2] * shape[3], planes = shape[0] * shape[1]
        let windows = dy.count / max(planes, 1)
        // Each plane's maxima lie in that plane: planes are independent, and zeroing a plane
        // just before its scatter keeps it in cache.
        var dx = Tensor(uninitialized: shape)
        dx.storage.withUnsafeMutableBufferPointer { dxp in
            dy.storage.withUnsafeBufferPointer { dyp in
                cache.argmax.withUnsafeBufferPointer { ap in
                    parallelChunks(planes) { _, range in
                        for pl in range {
                            (dxp.baseAddress! + pl * planeSize).update(repeating: 0, count: planeSize)
                            for o in (pl * windows)..<((pl + 1) * windows) { dxp[Int(ap[o])] += dyp[o] }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// One plane of 2x2 max pooling with stride 2: values and flat input indices of the maxima
/// (first in window order on ties, NaN wins). Eight (or four) windows at a time as vector
/// selects, since which element wins is data-dependent and branches on it mispredict; a row's
/// last group overlaps the one before rather than falling back to scalar code (recomputing a
/// window gives the same result).
@inline(__always)
func maxPool2x2Plane(_ x: UnsafePointer<Float>, planeStart: Int, w: Int, ho: Int, wo: Int,
                     values: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
    for oh in 0..<ho {
        let rowStart = planeStart + 2 * oh * w
        let top = UnsafeRawPointer(x + rowStart), bottom = UnsafeRawPointer(x + rowStart + w)
        let out = UnsafeMutableRawPointer(values + oh * wo), outIndex = UnsafeMutableRawPointer(argmax + oh * wo)
        let step = wo >= 8 ? 8 : wo >= 4 ? 4 : 1
        var ow = 0
        while ow < wo {
            let start = min(ow, wo - step)
            let first = Int32(rowStart + 2 * start)
            switch step {
            case 8:
                let t = top.loadUnaligned(fromByteOffset: 8 * start, as: SIMD16<Float>.self)
                let b = bottom.loadUnaligned(fromByteOffset: 8 * start, as: SIMD16<Float>.self)
                let (best, index) = maxOfWindows(t.evenHalf, t.oddHalf, b.evenHalf, b.oddHalf,
                                                 first: SIMD8<Int32>(repeating: first) &+ SIMD8(0, 2, 4, 6, 8, 10, 12, 14),
                                                 w: Int32(w))
                out.storeBytes(of: best, toByteOffset: 4 * start, as: SIMD8<Float>.self)
                outIndex.storeBytes(of: index, toByteOffset: 4 * start, as: SIMD8<Int32>.self)
            case 4:
                let t = top.loadUnaligned(fromByteOffset: 8 * start, as: SIMD8<Float>.self)
                let b = bottom.loadUnaligned(fromByteOffset: 8 * start, as: SIMD8<Float>.self)
                let (best, index) = maxOfWindows(t.evenHalf, t.oddHalf, b.evenHalf, b.oddHalf,
                                                 first: SIMD4<Int32>(repeating: first) &+ SIMD4(0, 2, 4, 6), w: Int32(w))
                out.storeBytes(of: best, toByteOffset: 4 * start, as: SIMD4<Float>.self)
                outIndex.storeBytes(of: index, toByteOffset: 4 * start, as: SIMD4<Int32>.self)
            default:
                let i0 = Int(first)
                var best = x[i0], bestIndex = i0
                for i in [i0 + 1, i0 + w, i0 + w + 1] where x[i] > best || (x[i].isNaN && !best.isNaN) {
                    best = x[i]
                    bestIndex = i
                }
                values[oh * wo + start] = best
                argmax[oh * wo + start] = Int32(bestIndex)
            }
            ow = start + step
        }
    }
}

/// Lane-wise maximum of the window elements a (top left), b, c, d in window order, with the
/// flat index of the winner (a's index is `first`). Concrete types: generic SIMD code is not
/// specialized well enough here.
@inline(__always)
func maxOfWindows(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>,
                  first: SIMD8<Int32>, w: Int32) -> (SIMD8<Float>, SIMD8<Int32>) {
    var best = a, index = first
    var take = (b .> best) .| ((b .!= b) .& (best .== best))
    best.replace(with: b, where: take)
    index.replace(with: first &+ 1, where: take)
    take = (c .> best) .| ((c .!= c) .& (best .== best))
    best.replace(with: c, where: take)
    index.replace(with: first &+ w, where: take)
    take = (d .> best) .| ((d .!= d) .& (best .== best))
    best.replace(with: d, where: take)
    index.replace(with: first &+ (w + 1), where: take)
    return (best, index)
}

@inline(__always)
func maxOfWindows(_ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>,
                  first: SIMD4<Int32>, w: Int32) -> (SIMD4<Float>, SIMD4<Int32>) {
    var best = a, index = first
    var take = (b .> best) .| ((b .!= b) .& (best .== best))
    best.replace(with: b, where: take)
    index.replace(with: first &+ 1, where: take)
    take = (c .> best) .| ((c .!= c) .& (best .== best))
    best.replace(with: c, where: take)
    index.replace(with: first &+ w, where: take)
    take = (d .> best) .| ((d .!= d) .& (best .== best))
    best.replace(with: d, where: take)
    index.replace(with: first &+ (w + 1), where: take)
    return (best, index)
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
