/// PyTorch's default initialization: Kaiming-uniform with a = sqrt(5) for weights, which
/// reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for biases.
enum Initialization {
    static func kaimingUniformA5(shape: [Int], fanIn: Int, rng: inout RandomGenerator) -> Tensor {
        uniform(shape: shape, bound: 1 / Float(fanIn).squareRoot(), rng: &rng)
    }

    static func uniform(shape: [Int], bound: Float, rng: inout RandomGenerator) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.storage[i] = rng.uniform(-bound, bound) }
        return t
    }
}
