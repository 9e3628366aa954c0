import BasinCore
import Foundation

// Flat-vector geometry of weight space, in float64.

public func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in 0..<min(a.count, b.count) { s += a[i] * b[i] }
    return s
}

public func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

public func subtract(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 - $1 } }

/// sum_k weights[k] * vectors[k].
public func combine(_ vectors: [[Double]], _ weights: [Double]) -> [Double] {
    guard let first = vectors.first else { return [] }
    var out = [Double](repeating: 0, count: first.count)
    for (v, w) in zip(vectors, weights) where w != 0 {
        for i in 0..<out.count { out[i] += w * v[i] }
    }
    return out
}

/// (1 - alpha) a + alpha b, written so alpha 0 and 1 give a and b exactly.
public func lerp(_ a: [Double], _ b: [Double], _ alpha: Double) -> [Double] {
    if alpha == 0 { return a }
    if alpha == 1 { return b }
    return zip(a, b).map { (1 - alpha) * $0 + alpha * $1 }
}

/// n evenly spaced values from lo to hi, both included (n = 1 gives lo).
public func linspace(_ lo: Double, _ hi: Double, _ n: Int) -> [Double] {
    guard n > 1 else { return [lo] }
    return (0..<n).map { i in i == n - 1 ? hi : lo + (hi - lo) * Double(i) / Double(n - 1) }
}

/// The largest excess of a curve over a baseline, and where it is.
public struct Barrier: Equatable, Sendable {
    public var value: Double
    public var alpha: Double
}

/// Barriers of values(alpha) along a segment: over the straight line between the endpoint
/// values, max_alpha v(alpha) - ((1 - alpha) v(0) + alpha v(1)), and over the endpoints'
/// mean (Frankle et al. 2020), max_alpha v(alpha) - (v(0) + v(1)) / 2. `alphas` must start
/// at 0 and end at 1. NaN values are skipped.
public struct SegmentBarriers: Equatable, Sendable {
    public var linear: Barrier
    public var mean: Barrier

    public init(alphas: [Double], values: [Double]) throws {
        guard alphas.count == values.count, alphas.count >= 2, alphas.first == 0, alphas.last == 1 else {
            throw AnalysisError("barrier needs values at alpha 0 and 1 (got \(alphas.count) points)")
        }
        let v0 = values.first!, v1 = values.last!
        guard v0.isFinite, v1.isFinite else { throw AnalysisError("barrier: endpoint value is not finite (\(v0), \(v1))") }
        var linear = Barrier(value: -.infinity, alpha: 0), mean = Barrier(value: -.infinity, alpha: 0)
        for (a, v) in zip(alphas, values) where !v.isNaN {
            let overLine = v - ((1 - a) * v0 + a * v1)
            if overLine > linear.value { linear = Barrier(value: overLine, alpha: a) }
            let overMean = v - (v0 + v1) / 2
            if overMean > mean.value { mean = Barrier(value: overMean, alpha: a) }
        }
        self.linear = linear
        self.mean = mean
    }
}

/// An affine plane in weight space: origin + x u + y v with orthonormal u, v.
public struct PlaneBasis: Sendable {
    public let origin: [Double]
    public let u: [Double]
    public let v: [Double]

    public init(origin: [Double], u: [Double], v: [Double]) {
        self.origin = origin
        self.u = u
        self.v = v
    }

    /// Gram-Schmidt through three points (Garipov et al. 2018): origin a, u along c - a,
    /// v the part of b - a orthogonal to u.
    public static func through(a: [Double], b: [Double], c: [Double]) throws -> PlaneBasis {
        guard a.count == b.count, a.count == c.count, !a.isEmpty else {
            throw AnalysisError("plane: parameter vectors of different lengths (\(a.count), \(b.count), \(c.count))")
        }
        var u = subtract(c, a)
        let nu = norm(u)
        guard nu > 0, nu.isFinite else { throw AnalysisError("plane: the first and third checkpoints are identical") }
        u = u.map { $0 / nu }
        var w = subtract(b, a)
        let along = dot(w, u)
        for i in 0..<w.count { w[i] -= along * u[i] }
        let nw = norm(w)
        // Relative to the spread of the points: below this the three are collinear in float64.
        guard nw > 1e-9 * max(nu, norm(subtract(b, a))), nw.isFinite else {
            throw AnalysisError("plane: the three checkpoints are collinear")
        }
        return PlaneBasis(origin: a, u: u, v: w.map { $0 / nw })
    }

    public func point(x: Double, y: Double) -> [Double] {
        var p = origin
        for i in 0..<p.count { p[i] += x * u[i] + y * v[i] }
        return p
    }

    /// Coordinates of the orthogonal projection of w, and w's distance to the plane.
    public func project(_ w: [Double]) -> (x: Double, y: Double, distance: Double) {
        let d = subtract(w, origin)
        let x = dot(d, u), y = dot(d, v)
        var r = 0.0
        for i in 0..<d.count { let e = d[i] - x * u[i] - y * v[i]; r += e * e }
        return (x, y, r.squareRoot())
    }
}

/// Grid axes covering `points` with `margin` times the extent added on each side.
public func coveringAxes(points: [(x: Double, y: Double)], margin: Double, nx: Int, ny: Int) -> (x: [Double], y: [Double]) {
    let xs = points.map(\.x), ys = points.map(\.y)
    let xlo = xs.min()!, xhi = xs.max()!, ylo = ys.min()!, yhi = ys.max()!
    return (linspace(xlo - margin * (xhi - xlo), xhi + margin * (xhi - xlo), nx),
            linspace(ylo - margin * (yhi - ylo), yhi + margin * (yhi - ylo), ny))
}

/// A random direction with filter normalization (Li et al. 2018): Gaussian entries, each
/// output filter (slice along the first axis) of a tensor of rank >= 2 rescaled to the norm
/// of the same filter of the weights. Rank-1 tensors (biases, BatchNorm parameters) are zero,
/// or with `include1D` equal to the weights themselves (Li et al.'s choice when they are kept).
/// `shapes` and `weights` follow the flat parameter order.
public func filterNormalizedDirection(shapes: [[Int]], weights: [Double], rng: inout RandomGenerator,
                                      include1D: Bool = false) -> [Double] {
    var d = [Double](repeating: 0, count: weights.count)
    var offset = 0
    for shape in shapes {
        let count = shape.reduce(1, *)
        if shape.count >= 2 {
            let filters = shape[0], size = count / max(filters, 1)
            for f in 0..<filters {
                let base = offset + f * size
                var dn = 0.0, wn = 0.0
                for i in 0..<size {
                    let g = Double(rng.normal())
                    d[base + i] = g
                    dn += g * g
                    wn += weights[base + i] * weights[base + i]
                }
                let scale = dn > 0 ? wn.squareRoot() / dn.squareRoot() : 0
                for i in 0..<size { d[base + i] *= scale }
            }
        } else if include1D {
            for i in 0..<count { d[offset + i] = weights[offset + i] }
        }
        offset += count
    }
    return d
}
