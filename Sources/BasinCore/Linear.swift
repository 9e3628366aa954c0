/// Fully connected layer: y = x W^T + b.
/// x [N, in] -> y [N, out]; weight [out, in], bias [out].
public final class Linear: Layer {
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter

    public init(_ name: String, inFeatures: Int, outFeatures: Int, rng: inout RandomGenerator) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(path: "\(name).weight", value: Initialization.kaimingUniformA5(
            shape: [outFeatures, inFeatures], fanIn: inFeatures, rng: &rng))
        bias = Parameter(path: "\(name).bias", value: Initialization.uniform(
            shape: [outFeatures], bound: 1 / Float(inFeatures).squareRoot(), rng: &rng))
    }

    public var parameters: [Parameter] { [weight, bias] }

    public struct Cache { let input: Tensor }

    public func forward(_ x: Tensor, _ context: ForwardContext) throws -> (Tensor, Cache) {
        try expectShape(x, [nil, inFeatures], layer: name, describe: "[N, \(inFeatures)]")
        let n = x.shape[0]
        var y = Tensor(zeros: [n, outFeatures])
        x.storage.withUnsafeBufferPointer { xp in
            weight.value.storage.withUnsafeBufferPointer { wp in
                bias.value.storage.withUnsafeBufferPointer { bp in
                    y.storage.withUnsafeMutableBufferPointer { yp in
                        for i in 0..<n {
                            (yp.baseAddress! + i * outFeatures).update(from: bp.baseAddress!, count: outFeatures)
                        }
                        parallelSgemm(transA: false, transB: true, m: n, n: outFeatures, k: inFeatures, alpha: 1,
                                      a: xp.baseAddress!, lda: inFeatures, b: wp.baseAddress!, ldb: inFeatures,
                                      beta: 1, c: yp.baseAddress!, ldc: outFeatures)
                    }
                }
            }
        }
        return (y, Cache(input: x))
    }

    public func backward(_ dy: Tensor, _ cache: Cache, needInputGradient: Bool) -> Tensor? {
        let n = dy.shape[0]
        let x = cache.input
        dy.storage.withUnsafeBufferPointer { dyp in
            x.storage.withUnsafeBufferPointer { xp in
                // dW[out, in] += dy^T [out, N] x [N, in]
                weight.grad.storage.withUnsafeMutableBufferPointer { gw in
                    parallelSgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: n, alpha: 1,
                                  a: dyp.baseAddress!, lda: outFeatures, b: xp.baseAddress!, ldb: inFeatures,
                                  beta: 1, c: gw.baseAddress!, ldc: inFeatures)
                }
                bias.grad.storage.withUnsafeMutableBufferPointer { gb in
                    for i in 0..<n {
                        let row = dyp.baseAddress! + i * outFeatures
                        for j in 0..<outFeatures { gb[j] += row[j] }
                    }
                }
            }
        }
        guard needInputGradient else { return nil }
        var dx = Tensor(zeros: [n, inFeatures])
        dy.storage.withUnsafeBufferPointer { dyp in
            weight.value.storage.withUnsafeBufferPointer { wp in
                dx.storage.withUnsafeMutableBufferPointer { dxp in
                    // dx[N, in] = dy [N, out] x W [out, in]
                    parallelSgemm(transA: false, transB: false, m: n, n: inFeatures, k: outFeatures, alpha: 1,
                                  a: dyp.baseAddress!, lda: outFeatures, b: wp.baseAddress!, ldb: inFeatures,
                                  beta: 0, c: dxp.baseAddress!, ldc: inFeatures)
                }
            }
        }
        return dx
    }
}
