import Foundation

/// Probabilities [N, C] as one row-major array, with the true labels.
public struct PredictiveDistribution: Equatable, Sendable {
    public let probs: [Double]
    public let labels: [Int]
    public let numClasses: Int

    public init(probs: [Double], labels: [Int], numClasses: Int) throws {
        guard numClasses > 0, probs.count == labels.count * numClasses else {
            throw AnalysisError("predictions: \(probs.count) probabilities for \(labels.count) labels of \(numClasses) classes")
        }
        guard probs.allSatisfy({ $0.isFinite }) else { throw AnalysisError("predictions contain NaN or infinite probabilities") }
        self.probs = probs
        self.labels = labels
        self.numClasses = numClasses
    }

    public var count: Int { labels.count }

    /// The average of several distributions over the same labels (an ensemble's prediction).
    public static func mean(_ members: [PredictiveDistribution]) throws -> PredictiveDistribution {
        guard let first = members.first else { throw AnalysisError("ensemble of no members") }
        var sum = [Double](repeating: 0, count: first.probs.count)
        for m in members {
            guard m.labels == first.labels, m.numClasses == first.numClasses else {
                throw AnalysisError("ensemble members were evaluated on different examples")
            }
            for i in 0..<sum.count { sum[i] += m.probs[i] }
        }
        let k = Double(members.count)
        return try PredictiveDistribution(probs: sum.map { $0 / k }, labels: first.labels, numClasses: first.numClasses)
    }

    /// First largest probability of each row.
    public var predictedClasses: [Int] {
        (0..<count).map { i in
            var best = 0
            for c in 1..<numClasses where probs[i * numClasses + c] > probs[i * numClasses + best] { best = c }
            return best
        }
    }
}

/// Probabilities below this count as this in logarithms: float32 softmax outputs underflow
/// to 0 far from the label, and an infinite NLL would hide every other example.
public let probabilityFloor = 1e-38

/// Accuracy, negative log-likelihood, Brier score and expected calibration error of a
/// predictive distribution. Brier is the sum over classes of the squared difference to the
/// one-hot label, averaged over examples (range 0...2). ECE uses `bins` equal-width bins of
/// the top probability on [0, 1] (a confidence c falls in bin min(floor(c * bins), bins - 1)).
public struct CalibrationMetrics: Equatable, Sendable {
    public var accuracy: Double
    public var nll: Double
    public var brier: Double
    public var ece: Double

    public init(accuracy: Double, nll: Double, brier: Double, ece: Double) {
        self.accuracy = accuracy
        self.nll = nll
        self.brier = brier
        self.ece = ece
    }

    public init(_ d: PredictiveDistribution, bins: Int = 15) {
        let n = d.count, c = d.numClasses
        var correct = 0, nll = 0.0, brier = 0.0
        var binCount = [Int](repeating: 0, count: bins), binCorrect = [Int](repeating: 0, count: bins)
        var binConfidence = [Double](repeating: 0, count: bins)
        let predicted = d.predictedClasses
        for i in 0..<n {
            let row = d.probs[(i * c)..<((i + 1) * c)]
            let label = d.labels[i]
            let hit = predicted[i] == label
            if hit { correct += 1 }
            nll -= Foundation.log(max(row[row.startIndex + label], probabilityFloor))
            for j in 0..<c {
                let diff = row[row.startIndex + j] - (j == label ? 1 : 0)
                brier += diff * diff
            }
            let confidence = row[row.startIndex + predicted[i]]
            let bin = min(Int(confidence * Double(bins)), bins - 1)
            binCount[bin] += 1
            binConfidence[bin] += confidence
            if hit { binCorrect[bin] += 1 }
        }
        var ece = 0.0
        for b in 0..<bins where binCount[b] > 0 {
            let m = Double(binCount[b])
            ece += m / Double(n) * abs(Double(binCorrect[b]) / m - binConfidence[b] / m)
        }
        self.init(accuracy: Double(correct) / Double(n), nll: nll / Double(n), brier: brier / Double(n), ece: ece)
    }

    /// The mean of each metric over several models.
    public static func mean(_ all: [CalibrationMetrics]) -> CalibrationMetrics {
        let k = Double(all.count)
        return CalibrationMetrics(accuracy: all.map(\.accuracy).reduce(0, +) / k, nll: all.map(\.nll).reduce(0, +) / k,
                                  brier: all.map(\.brier).reduce(0, +) / k, ece: all.map(\.ece).reduce(0, +) / k)
    }
}

/// Deep-ensemble equivalent (Ashukha et al. 2020): the size a reference ensemble would need to
/// reach `value`, reading the reference's curve (sizes 1...N) with linear interpolation between
/// integer sizes; the smallest such size. `higherIsBetter` orients the metric.
public struct DeepEnsembleEquivalent: Equatable, Sendable {
    public enum Bound: String, Sendable {
        /// Reached inside the reference curve.
        case exact
        /// Not better than the reference's single member: the DEE is at most 1 (reported as 1).
        case atMost = "at_most"
        /// Better than the largest reference ensemble: the DEE is at least N (reported as N).
        case atLeast = "at_least"
    }

    public var value: Double
    public var bound: Bound

    public init(value target: Double, reference: [Double], higherIsBetter: Bool) throws {
        guard !reference.isEmpty, reference.allSatisfy({ $0.isFinite }), target.isFinite else {
            throw AnalysisError("DEE needs a finite reference curve and value")
        }
        let s = higherIsBetter ? 1.0 : -1.0
        let goal = s * target, curve = reference.map { s * $0 }
        if goal <= curve[0] {
            self.value = 1
            self.bound = .atMost
            return
        }
        for k in 1..<curve.count where curve[k] >= goal {
            // Between sizes k and k + 1 (indices k - 1 and k); curve[k - 1] < goal here.
            let t = (goal - curve[k - 1]) / (curve[k] - curve[k - 1])
            self.value = Double(k) + t
            self.bound = .exact
            return
        }
        self.value = Double(curve.count)
        self.bound = .atLeast
    }
}

/// Pairwise diversity of two predictive distributions on the same examples.
public enum Diversity {
    /// Fraction of examples on which the predicted classes differ.
    public static func disagreement(_ a: PredictiveDistribution, _ b: PredictiveDistribution) throws -> Double {
        try check(a, b)
        let pa = a.predictedClasses, pb = b.predictedClasses
        return Double(zip(pa, pb).filter { $0 != $1 }.count) / Double(a.count)
    }

    /// Mean over examples of KL(a || b) = sum_c a_c (log a_c - log b_c), with the probability floor.
    public static func kl(_ a: PredictiveDistribution, _ b: PredictiveDistribution) throws -> Double {
        try check(a, b)
        var s = 0.0
        for i in 0..<a.probs.count where a.probs[i] > 0 {
            s += a.probs[i] * (Foundation.log(max(a.probs[i], probabilityFloor)) - Foundation.log(max(b.probs[i], probabilityFloor)))
        }
        return s / Double(a.count)
    }

    static func check(_ a: PredictiveDistribution, _ b: PredictiveDistribution) throws {
        guard a.labels == b.labels, a.numClasses == b.numClasses else {
            throw AnalysisError("diversity: the two models' predictions are on different examples")
        }
    }

    /// Cosine similarity of a - r and b - r (NaN when either is zero).
    public static func displacementCosine(_ a: [Double], _ b: [Double], reference r: [Double]) -> Double {
        let da = subtract(a, r), db = subtract(b, r)
        let d = norm(da) * norm(db)
        return d > 0 ? dot(da, db) / d : .nan
    }
}
