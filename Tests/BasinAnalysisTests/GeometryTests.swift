import BasinAnalysis
import BasinCore
import XCTest

final class GeometryTests: XCTestCase {
    func randomVector(_ n: Int, seed: UInt64) -> [Double] {
        var rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in Double(rng.normal()) }
    }

    /// v(alpha) = (1 - alpha) v0 + alpha v1 + 4 h alpha (1 - alpha): the barrier over the line is
    /// h at alpha 1/2; over the endpoints' mean it is max_alpha of the same plus the line's offset.
    func testBarrierOfQuadraticBumpInClosedForm() throws {
        let alphas = linspace(0, 1, 101)
        let v0 = 0.3, v1 = 0.9, h = 0.25
        let values = alphas.map { (1 - $0) * v0 + $0 * v1 + 4 * h * $0 * (1 - $0) }
        let b = try SegmentBarriers(alphas: alphas, values: values)
        // The grid holds alpha = 0.5; the tolerance only absorbs float64 rounding of the formula.
        XCTAssertEqual(b.linear.value, h, accuracy: 1e-12)
        XCTAssertEqual(b.linear.alpha, 0.5, accuracy: 1e-12)
        // Over the mean (0.6): g(a) = 0.3 + 0.6 a + a (1 - a) - 0.6 = -0.3 + 1.6 a - a^2, maximal at
        // a = 0.8 with 0.34.
        XCTAssertEqual(b.mean.value, 0.34, accuracy: 1e-12)
        XCTAssertEqual(b.mean.alpha, 0.8, accuracy: 1e-12)
    }

    /// A linear model with squared loss: L((1 - a) w0 + a w1) = (1 - a) L0 + a L1 - a (1 - a) |X (w1 - w0)|^2 / n
    /// is convex along the segment, so the barrier over the line is 0 at an endpoint and the
    /// mean-baseline barrier is (max(L0, L1) - min(L0, L1)) / 2 at the worse endpoint.
    func testBarrierOfLinearLeastSquaresModel() throws {
        let n = 20, d = 4
        let x = randomVector(n * d, seed: 1), y = randomVector(n, seed: 2)
        func loss(_ w: [Double]) -> Double {
            (0..<n).reduce(0.0) { s, i in
                let r = (0..<d).reduce(0.0) { $0 + x[i * d + $1] * w[$1] } - y[i]
                return s + r * r
            } / Double(n)
        }
        let w0 = randomVector(d, seed: 3), w1 = randomVector(d, seed: 4)
        let alphas = linspace(0, 1, 21)
        let values = alphas.map { loss(lerp(w0, w1, $0)) }
        let l0 = loss(w0), l1 = loss(w1)
        let diff = subtract(w1, w0)
        for (a, v) in zip(alphas, values) {
            let xd = (0..<n).map { i in (0..<d).reduce(0.0) { $0 + x[i * d + $1] * diff[$1] } }
            let closed = (1 - a) * l0 + a * l1 - a * (1 - a) * xd.reduce(0) { $0 + $1 * $1 } / Double(n)
            XCTAssertEqual(v, closed, accuracy: 1e-9 * max(1, abs(closed)))
        }
        let b = try SegmentBarriers(alphas: alphas, values: values)
        XCTAssertEqual(b.linear.value, 0, accuracy: 1e-12)
        XCTAssertTrue(b.linear.alpha == 0 || b.linear.alpha == 1)
        XCTAssertEqual(b.mean.value, abs(l1 - l0) / 2, accuracy: 1e-12)
        XCTAssertEqual(b.mean.alpha, l1 > l0 ? 1 : 0)
    }

    func testBarrierRejectsCurvesWithoutEndpoints() {
        XCTAssertThrowsError(try SegmentBarriers(alphas: [0.1, 1], values: [1, 2]))
        XCTAssertThrowsError(try SegmentBarriers(alphas: [0, 1], values: [.nan, 2]))
    }

    func testPlaneBasisCoordinatesAndDistances() throws {
        let dim = 200
        let a = randomVector(dim, seed: 10), b = randomVector(dim, seed: 11), c = randomVector(dim, seed: 12)
        let basis = try PlaneBasis.through(a: a, b: b, c: c)
        // Orthonormal to float64 rounding of 200-term sums.
        XCTAssertEqual(norm(basis.u), 1, accuracy: 1e-12)
        XCTAssertEqual(norm(basis.v), 1, accuracy: 1e-12)
        XCTAssertEqual(dot(basis.u, basis.v), 0, accuracy: 1e-12)
        let pa = basis.project(a), pb = basis.project(b), pc = basis.project(c)
        let ca = norm(subtract(c, a))
        // The convention: u along C - A, so C = (|C - A|, 0) and A = (0, 0).
        XCTAssertEqual(pa.x, 0)
        XCTAssertEqual(pa.y, 0)
        XCTAssertEqual(pc.x, ca, accuracy: 1e-5 * ca)
        XCTAssertEqual(pc.y, 0, accuracy: 1e-5 * ca)
        let ba = subtract(b, a)
        XCTAssertEqual(pb.x, dot(ba, basis.u), accuracy: 1e-5 * norm(ba))
        XCTAssertEqual(hypot(pb.x, pb.y), norm(ba), accuracy: 1e-5 * norm(ba))
        XCTAssertGreaterThan(pb.y, 0)
        // Points of the plane: distance 0 up to float64 rounding (1e-9 of the vectors' scale).
        for p in [pa, pb, pc] { XCTAssertEqual(p.distance, 0, accuracy: 1e-9 * ca) }
        let onPlane = basis.point(x: -1.7, y: 2.3)
        let q = basis.project(onPlane)
        XCTAssertEqual(q.x, -1.7, accuracy: 1e-12)
        XCTAssertEqual(q.y, 2.3, accuracy: 1e-12)
        XCTAssertEqual(q.distance, 0, accuracy: 1e-9)
        // A known offset along a unit normal shows as that distance.
        var normal = randomVector(dim, seed: 13)
        let nu = dot(normal, basis.u), nv = dot(normal, basis.v)
        for i in 0..<dim { normal[i] -= nu * basis.u[i] + nv * basis.v[i] }
        let nn = norm(normal)
        let off = zip(onPlane, normal).map { $0 + 0.75 * $1 / nn }
        let r = basis.project(off)
        XCTAssertEqual(r.distance, 0.75, accuracy: 1e-12)
        XCTAssertEqual(r.x, -1.7, accuracy: 1e-12)
    }

    func testDegeneratePlanesAreRefused() {
        let a = randomVector(10, seed: 1), c = randomVector(10, seed: 2)
        XCTAssertThrowsError(try PlaneBasis.through(a: a, b: c, c: a))
        let midpoint = lerp(a, c, 0.5)
        XCTAssertThrowsError(try PlaneBasis.through(a: a, b: midpoint, c: c)) { error in
            XCTAssertTrue("\(error)".contains("collinear"))
        }
    }

    func testCoveringAxesAddTheMarginOnEachSide() {
        let axes = coveringAxes(points: [(0, 0), (2, 0), (1, 4)], margin: 0.25, nx: 5, ny: 3)
        XCTAssertEqual(axes.x, [-0.5, 0.25, 1, 1.75, 2.5])
        XCTAssertEqual(axes.y, [-1, 2, 5])
    }

    func testFilterNormalizedDirection() {
        let shapes = [[3, 2, 2, 2], [3], [4, 5], [4]]
        let count = shapes.reduce(0) { $0 + $1.reduce(1, *) }
        let w = randomVector(count, seed: 5)
        var rng = RandomGenerator(seed: 9)
        let d = filterNormalizedDirection(shapes: shapes, weights: w, rng: &rng)
        var offset = 0
        for shape in shapes {
            let n = shape.reduce(1, *)
            if shape.count == 1 {
                XCTAssertEqual(Array(d[offset..<(offset + n)]), [Double](repeating: 0, count: n))
            } else {
                let size = n / shape[0]
                for f in 0..<shape[0] {
                    let r = (offset + f * size)..<(offset + (f + 1) * size)
                    XCTAssertEqual(norm(Array(d[r])), norm(Array(w[r])), accuracy: 1e-12)
                }
            }
            offset += n
        }
        var rng2 = RandomGenerator(seed: 9)
        let d2 = filterNormalizedDirection(shapes: shapes, weights: w, rng: &rng2, include1D: true)
        XCTAssertEqual(Array(d2[24..<27]), Array(w[24..<27]))
        XCTAssertEqual(Array(d2[0..<24]), Array(d[0..<24]), "the same seed gives the same direction")
    }
}
