import Foundation

/// Softmax cross-entropy averaged over the batch.
/// logits [N, C], labels N integers in 0..<C -> mean loss and dLoss/dlogits [N, C].
public enum CrossEntropy {
    public struct Result {
        public let loss: Double
        public let gradient: Tensor
        /// Number of rows whose largest logit is the label (first maximum on ties).
        public let correct: Int
    }

    public static func evaluate(logits: Tensor, labels: [Int], wantGradient: Bool = true) throws -> Result {
        guard logits.rank == 2, logits.shape[0] == labels.count else {
            throw ShapeMismatch(layer: "cross_entropy", expected: "[\(labels.count), C] logits for \(labels.count) labels",
                                actual: logits.shape)
        }
        let n = logits.shape[0], c = logits.shape[1]
        var grad = wantGradient ? Tensor(zeros: logits.shape) : Tensor(zeros: [0])
        var total = 0.0
        var correct = 0
        for i in 0..<n {
            let label = labels[i]
            guard label >= 0 && label < c else {
                throw ShapeMismatch(layer: "cross_entropy", expected: "labels in 0..<\(c)", actual: [label])
            }
            let row = Array(logits.storage[(i * c)..<((i + 1) * c)])
            var maxValue = row[0], argmax = 0
            for j in 1..<c where row[j] > maxValue { maxValue = row[j]; argmax = j }
            if argmax == label { correct += 1 }
            var sum = 0.0
            for j in 0..<c { sum += Foundation.exp(Double(row[j] - maxValue)) }
            let logSum = Foundation.log(sum)
            total += logSum - Double(row[label] - maxValue)
            if wantGradient {
                for j in 0..<c {
                    let p = Foundation.exp(Double(row[j] - maxValue) - logSum)
                    grad.storage[i * c + j] = Float((p - (j == label ? 1 : 0)) / Double(n))
                }
            }
        }
        return Result(loss: total / Double(n), gradient: grad, correct: correct)
    }

    /// Row-wise softmax of logits [N, C] (predictive probabilities).
    public static func softmax(_ logits: Tensor) -> Tensor {
        let n = logits.shape[0], c = logits.shape[1]
        var out = Tensor(zeros: logits.shape)
        for i in 0..<n {
            let base = i * c
            var m = logits.storage[base]
            for j in 1..<c { m = max(m, logits.storage[base + j]) }
            var s = 0.0
            for j in 0..<c { s += Foundation.exp(Double(logits.storage[base + j] - m)) }
            for j in 0..<c { out.storage[base + j] = Float(Foundation.exp(Double(logits.storage[base + j] - m)) / s) }
        }
        return out
    }
}
