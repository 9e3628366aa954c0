// Test support: tolerance helpers, finite differences and small synthetic data. Every
// tolerance is stated by the caller together with the reason for its size.
import BasinCore
import XCTest

/// Asserts |a - b| <= atol + rtol * |b| elementwise, reporting the worst element.
public func assertClose(_ a: [Float], _ b: [Float], atol: Float, rtol: Float, _ what: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard a.count == b.count else {
        XCTFail("\(what): \(a.count) values, expected \(b.count)", file: file, line: line)
        return
    }
    var worst = -Float.infinity, worstIndex = -1
    for i in 0..<a.count {
        let excess = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if !(excess <= worst) { worst = excess; worstIndex = i }
    }
    if worstIndex >= 0 && !(worst <= 0) {
        XCTFail("\(what): element \(worstIndex) is \(a[worstIndex]), expected \(b[worstIndex]) "
                + "(atol \(atol), rtol \(rtol))", file: file, line: line)
    }
}

public func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    var t = Tensor(zeros: shape)
    for i in 0..<t.count { t.storage[i] = rng.normal() * scale }
    return t
}

/// Sum of x * r in double precision: a scalar loss whose gradient with respect to x is r.
public func weightedSum(_ x: Tensor, _ r: Tensor) -> Double {
    var s = 0.0
    for i in 0..<x.count { s += Double(x.storage[i]) * Double(r.storage[i]) }
    return s
}

/// Central finite differences of `loss` with respect to the entries `indices` of a float
/// buffer reached through `get`/`set`.
public func numericGradient(indices: [Int], epsilon: Float,
                            get: (Int) -> Float, set: (Int, Float) -> Void,
                            loss: () throws -> Double) rethrows -> [Float] {
    var out: [Float] = []
    for i in indices {
        let original = get(i)
        set(i, original + epsilon)
        let plus = try loss()
        set(i, original - epsilon)
        let minus = try loss()
        set(i, original)
        // The actual step is what float32 could represent, not the nominal epsilon.
        let step = Double(original + epsilon) - Double(original - epsilon)
        out.append(Float((plus - minus) / step))
    }
    return out
}

/// Up to `count` distinct indices in 0..<n, spread deterministically.
public func sampleIndices(_ n: Int, count: Int, seed: UInt64) -> [Int] {
    if n <= count { return Array(0..<n) }
    var rng = RandomGenerator(seed: seed)
    return Array(rng.permutation(n).prefix(count)).sorted()
}
