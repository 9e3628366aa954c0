/// 2-D convolution with square kernels, lowered per image to im2col + GEMM.
/// x [N, Cin, H, W] -> y [N, Cout, Ho, Wo], Ho = (H + 2 pad - k) / stride + 1;
/// weight [Cout, Cin, k, k], optional bias [Cout].
/// Images are split statically across threads; each worker has its own im2col scratch and,
/// in backward, its own weight-gradient accumulator, summed in worker order.
public final class Conv2d: Layer {
    public let name: String
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool, rng: inout RandomGenerator) {
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let fanIn = inChannels * kernel * kernel
        weight = Parameter(path: "\(name).weight", value: Initialization.kaimingUniformA5(
            shape: [outChannels, inChannels, kernel, kernel], fanIn: fanIn, rng: &rng))
        self.bias = bias ? Parameter(path: "\(name).bias", value: Initialization.uniform(
            shape: [outChannels], bound: 1 / Float(fanIn).squareRoot(), rng: &rng)) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public struct Cache { let input: Tensor }

    struct Geometry {
        let cin, h, w, k, stride, pad, ho, wo: Int
        var patch: Int { cin * k * k }
        var pixels: Int { ho * wo }
        var isIdentityLowering: Bool { k == 1 && stride == 1 && pad == 0 }

        /// The output columns ow whose input column ow * stride - pad + kw lies inside the image.
        @inline(__always)
        func validColumns(_ kw: Int) -> (Int, Int) {
            let firstNumerator = pad - kw
            let lo = firstNumerator <= 0 ? 0 : (firstNumerator + stride - 1) / stride
            let lastNumerator = w - 1 + pad - kw
            let hi = lastNumerator < 0 ? 0 : min(wo, lastNumerator / stride + 1)
            return (lo, max(lo, hi))
        }
    }

    func geometry(_ x: Tensor) throws -> Geometry {
        try expectShape(x, [nil, inChannels, nil, nil], layer: name, describe: "[N, \(inChannels), H, W]")
        let h = x.shape[2], w = x.shape[3]
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        guard ho > 0, wo > 0 else {
            throw ShapeMismatch(layer: name, expected: "spatial size at least \(kernel - 2 * padding)", actual: x.shape)
        }
        return Geometry(cin: inChannels, h: h, w: w, k: kernel, stride: stride, pad: padding, ho: ho, wo: wo)
    }

    /// Work done on one image's output [Cout, Ho * Wo] right after its GEMM, while it is still
    /// in cache: (image index, output block, pixels). Called concurrently for different images.
    public typealias Epilogue = (_ image: Int, _ block: UnsafeMutablePointer<Float>, _ pixels: Int) -> Void

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        (try convolve(x, epilogue: nil), Cache(input: x))
    }

    /// `forward` with `epilogue` run on each image's output (a following BatchNorm's moments).
    public func forward(_ x: Tensor, _ context: ForwardContext, epilogue: @escaping Epilogue) throws -> (Tensor, Cache) {
        (try convolve(x, epilogue: epilogue), Cache(input: x))
    }

    public func infer(_ x: inout Tensor, _ context: ForwardContext) throws {
        x = try convolve(x, epilogue: nil)
    }

    /// Inference with `epilogue` run on each image's output (a BatchNorm in eval mode and its
    /// ReLU, or a BatchNorm's moments in train mode).
    public func infer(_ x: inout Tensor, _ context: ForwardContext, epilogue: @escaping Epilogue) throws {
        x = try convolve(x, epilogue: epilogue)
    }

    private func convolve(_ x: Tensor, epilogue: Epilogue?) throws -> Tensor {
        let g = try geometry(x)
        let n = x.shape[0]
        var y = Tensor(uninitialized: [n, outChannels, g.ho, g.wo])
        let inSize = g.cin * g.h * g.w, outSize = outChannels * g.pixels
        let workers = workerCount(n)
        // im2col writes every entry, padding included.
        var scratch = Tensor(uninitialized: [g.isIdentityLowering ? 0 : workers * g.patch * g.pixels]).storage
        let biasValues = bias?.value.storage
        x.storage.withUnsafeBufferPointer { xp in
            weight.value.storage.withUnsafeBufferPointer { wp in
                y.storage.withUnsafeMutableBufferPointer { yp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        let xb = xp.baseAddress!, wb = wp.baseAddress!, yb = yp.baseAddress!
                        let sb = sp.baseAddress
                        parallelChunks(n) { worker, images in
                            for i in images {
                                let xi = xb + i * inSize
                                let cols: UnsafePointer<Float>
                                if g.isIdentityLowering {
                                    cols = xi
                                } else {
                                    let c = sb! + worker * g.patch * g.pixels
                                    im2col(xi, g, c)
                                    cols = UnsafePointer(c)
                                }
                                let yi = yb + i * outSize
                                sgemm(transA: false, transB: false, m: outChannels, n: g.pixels, k: g.patch,
                                      alpha: 1, a: wb, lda: g.patch, b: cols, ldb: g.pixels,
                                      beta: 0, c: yi, ldc: g.pixels)
                                if let biasValues {
                                    for c in 0..<outChannels {
                                        let row = yi + c * g.pixels, b = biasValues[c]
                                        for p in 0..<g.pixels { row[p] += b }
                                    }
                                }
                                epilogue?(i, yi, g.pixels)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        let x = cache.input
        guard let g = try? geometry(x) else { preconditionFailure("Conv2d '\(name)': cache shape") }
        let n = x.shape[0]
        let inSize = g.cin * g.h * g.w, outSize = outChannels * g.pixels
        let workers = workerCount(n)
        let colsSize = g.isIdentityLowering ? 0 : g.patch * g.pixels
        let wSize = outChannels * g.patch
        // The input gradient of a stride-1 convolution that keeps the image size is itself such
        // a convolution: of dy, with the kernel flipped and in and out channels swapped. Lowered
        // like the forward pass, it is a block-copy im2col and a GEMM writing dx directly,
        // instead of a GEMM into columns and a scatter-add col2im.
        let asConvolution = needInputGradient && !g.isIdentityLowering && g.stride == 1 && 2 * g.pad == g.k - 1
        let dyGeometry = Geometry(cin: outChannels, h: g.ho, w: g.wo, k: g.k, stride: 1, pad: g.k - 1 - g.pad,
                                  ho: g.h, wo: g.w)
        let flipped = asConvolution ? flippedTransposedWeight() : []
        let gradientColsSize = asConvolution ? dyGeometry.patch * g.pixels : g.patch * g.pixels
        // im2col and a beta-0 product write every entry.
        var scratch = Tensor(uninitialized: [workers * (colsSize + gradientColsSize)]).storage
        var gradW = [Float](repeating: 0, count: workers * wSize)
        // Every path below writes all of dx (col2im zeroes it first).
        var dx = needInputGradient ? Tensor(uninitialized: x.shape) : Tensor(zeros: [0])
        x.storage.withUnsafeBufferPointer { xp in
            dy.storage.withUnsafeBufferPointer { dyp in
                weight.value.storage.withUnsafeBufferPointer { wp in
                    flipped.withUnsafeBufferPointer { fp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        gradW.withUnsafeMutableBufferPointer { gwp in
                            dx.storage.withUnsafeMutableBufferPointer { dxp in
                                let xb = xp.baseAddress!, dyb = dyp.baseAddress!, wb = wp.baseAddress!
                                let sb = sp.baseAddress!, gwb = gwp.baseAddress!
                                let dxb = needInputGradient ? dxp.baseAddress : nil
                                parallelChunks(n) { worker, images in
                                    let colsBuf = sb + worker * (colsSize + gradientColsSize)
                                    let dcols = colsBuf + colsSize
                                    let gw = gwb + worker * wSize
                                    for i in images {
                                        let xi = xb + i * inSize
                                        let dyi = dyb + i * outSize
                                        let cols: UnsafePointer<Float>
                                        if g.isIdentityLowering {
                                            cols = xi
                                        } else {
                                            im2col(xi, g, colsBuf)
                                            cols = UnsafePointer(colsBuf)
                                        }
                                        // dW[Cout, K] += dy_i [Cout, P] x cols^T [P, K]
                                        sgemm(transA: false, transB: true, m: outChannels, n: g.patch, k: g.pixels,
                                              alpha: 1, a: dyi, lda: g.pixels, b: cols, ldb: g.pixels,
                                              beta: 1, c: gw, ldc: g.patch)
                                        guard let dxb else { continue }
                                        let dxi = dxb + i * inSize
                                        if asConvolution {
                                            // dx_i [Cin, P] = W' [Cin, Cout k k] x im2col(dy_i) [Cout k k, P]
                                            im2col(dyi, dyGeometry, dcols)
                                            sgemm(transA: false, transB: false, m: g.cin, n: g.pixels, k: dyGeometry.patch,
                                                  alpha: 1, a: fp.baseAddress!, lda: dyGeometry.patch, b: dcols, ldb: g.pixels,
                                                  beta: 0, c: dxi, ldc: g.pixels)
                                        } else if g.isIdentityLowering {
                                            // dx_i [K, P] = W^T [K, Cout] x dy_i [Cout, P]
                                            sgemm(transA: true, transB: false, m: g.patch, n: g.pixels, k: outChannels,
                                                  alpha: 1, a: wb, lda: g.patch, b: dyi, ldb: g.pixels,
                                                  beta: 0, c: dxi, ldc: g.pixels)
                                        } else {
                                            sgemm(transA: true, transB: false, m: g.patch, n: g.pixels, k: outChannels,
                                                  alpha: 1, a: wb, lda: g.patch, b: dyi, ldb: g.pixels,
                                                  beta: 0, c: dcols, ldc: g.pixels)
                                            col2im(dcols, g, dxi)
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
        weight.grad.storage.withUnsafeMutableBufferPointer { gw in
            gradW.withUnsafeBufferPointer { parts in
                for worker in 0..<workers {
                    let part = parts.baseAddress! + worker * wSize
                    for j in 0..<wSize { gw[j] += part[j] }
                }
            }
        }
        if let bias {
            bias.grad.storage.withUnsafeMutableBufferPointer { gb in
                dy.storage.withUnsafeBufferPointer { dyp in
                    for c in 0..<outChannels {
                        var s: Float = 0
                        for i in 0..<n {
                            let row = dyp.baseAddress! + i * outSize + c * g.pixels
                            for p in 0..<g.pixels { s += row[p] }
                        }
                        gb[c] += s
                    }
                }
            }
        }
        return needInputGradient ? dx : nil
    }

    /// W'[ci, co, kh, kw] = W[co, ci, k-1-kh, k-1-kw], as a [Cin, Cout k k] matrix: the kernel
    /// of the convolution that maps dy to dx.
    func flippedTransposedWeight() -> [Float] {
        let k = kernel, kk = k * k
        var flipped = [Float](repeating: 0, count: inChannels * outChannels * kk)
        weight.value.storage.withUnsafeBufferPointer { w in
            for ci in 0..<inChannels {
                for co in 0..<outChannels {
                    for t in 0..<kk {
                        flipped[(ci * outChannels + co) * kk + t] = w[(co * inChannels + ci) * kk + (kk - 1 - t)]
                    }
                }
            }
        }
        return flipped
    }
}

/// cols[(c k + kh) k + kw, oh Wo + ow] = x[c, oh s - p + kh, ow s - p + kw], zero outside.
@inline(__always)
func im2col(_ x: UnsafePointer<Float>, _ g: Conv2d.Geometry, _ cols: UnsafeMutablePointer<Float>) {
    if g.stride == 1 && g.ho == g.h && g.wo == g.w {
        im2colSamePadding(x, g, cols)
        return
    }
    for c in 0..<g.cin {
        let plane = x + c * g.h * g.w
        for kh in 0..<g.k {
            for kw in 0..<g.k {
                let row = cols + ((c * g.k + kh) * g.k + kw) * g.pixels
                // Output columns whose input column lies inside the image.
                let (owLo, owHi) = g.validColumns(kw)
                for oh in 0..<g.ho {
                    let ih = oh * g.stride - g.pad + kh
                    let dst = row + oh * g.wo
                    if ih < 0 || ih >= g.h || owLo >= owHi {
                        dst.update(repeating: 0, count: g.wo)
                        continue
                    }
                    if owLo > 0 { dst.update(repeating: 0, count: owLo) }
                    if owHi < g.wo { (dst + owHi).update(repeating: 0, count: g.wo - owHi) }
                    let src = plane + ih * g.w - g.pad + kw
                    if g.stride == 1 {
                        (dst + owLo).update(from: src + owLo, count: owHi - owLo)
                    } else if g.stride == 2 {
                        // Every other element: the even lanes of a vector twice as wide. The odd
                        // last lane may lie past the row, so vectors stop at the image's end; the
                        // last group of a row overlaps the one before.
                        let imageEnd = x + g.cin * g.h * g.w
                        let count = owHi - owLo
                        var ow = owLo
                        if count >= 8 && src + 2 * owHi - 16 + 16 <= imageEnd {
                            while ow < owHi {
                                let start = min(ow, owHi - 8)
                                let v = UnsafeRawPointer(src + 2 * start).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(dst + start).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
                                ow = start + 8
                            }
                        } else if count >= 4 && src + 2 * owHi - 8 + 8 <= imageEnd {
                            while ow < owHi {
                                let start = min(ow, owHi - 4)
                                let v = UnsafeRawPointer(src + 2 * start).loadUnaligned(as: SIMD8<Float>.self)
                                UnsafeMutableRawPointer(dst + start).storeBytes(of: v.evenHalf, as: SIMD4<Float>.self)
                                ow = start + 4
                            }
                        }
                        while ow < owHi { dst[ow] = src[2 * ow]; ow += 1 }
                    } else {
                        for ow in owLo..<owHi { dst[ow] = src[ow * g.stride] }
                    }
                }
            }
        }
    }
}

/// im2col of a stride-1 convolution that keeps the image size: every cols row is the input
/// plane shifted by (kh - pad, kw - pad), so it is one block copy plus zeroed borders, instead
/// of one small copy per output row.
@inline(__always)
func im2colSamePadding(_ x: UnsafePointer<Float>, _ g: Conv2d.Geometry, _ cols: UnsafeMutablePointer<Float>) {
    let size = g.h * g.w
    for c in 0..<g.cin {
        let plane = x + c * size
        for kh in 0..<g.k {
            for kw in 0..<g.k {
                let row = cols + ((c * g.k + kh) * g.k + kw) * size
                let dh = kh - g.pad, dw = kw - g.pad
                // row[p] = plane[p + shift] for the output rows whose input row exists.
                let shift = dh * g.w + dw
                let first = max(max(0, -dh) * g.w, -shift)
                let end = min(min(g.h, g.h - dh) * g.w, size - shift)
                if first < end {
                    row.update(repeating: 0, count: first)
                    (row + first).update(from: plane + first + shift, count: end - first)
                    (row + end).update(repeating: 0, count: size - end)
                } else {
                    row.update(repeating: 0, count: size)
                }
                // Columns that the shift wrapped around from the neighbouring input row.
                if dw < 0 {
                    for oh in 0..<g.h { for ow in 0..<(-dw) { row[oh * g.w + ow] = 0 } }
                } else if dw > 0 {
                    for oh in 0..<g.h { for ow in (g.w - dw)..<g.w { row[oh * g.w + ow] = 0 } }
                }
            }
        }
    }
}

/// The adjoint of im2col: dx[c, ih, iw] = sum of the cols entries that read it.
@inline(__always)
func col2im(_ cols: UnsafePointer<Float>, _ g: Conv2d.Geometry, _ dx: UnsafeMutablePointer<Float>) {
    dx.update(repeating: 0, count: g.cin * g.h * g.w)
    for c in 0..<g.cin {
        let plane = dx + c * g.h * g.w
        for kh in 0..<g.k {
            for kw in 0..<g.k {
                let row = cols + ((c * g.k + kh) * g.k + kw) * g.pixels
                let (owLo, owHi) = g.validColumns(kw)
                guard owLo < owHi else { continue }
                for oh in 0..<g.ho {
                    let ih = oh * g.stride - g.pad + kh
                    if ih < 0 || ih >= g.h { continue }
                    let src = row + oh * g.wo
                    let dst = plane + ih * g.w - g.pad + kw
                    if g.stride == 1 {
                        for ow in owLo..<owHi { dst[ow] += src[ow] }
                    } else {
                        for ow in owLo..<owHi { dst[ow * g.stride] += src[ow] }
                    }
                }
            }
        }
    }
}
