import Foundation

/// Values along the segment between two weight settings.
public struct InterpolationCurve: Sendable {
    public var alphas: [Double]
    /// Per split name: one evaluation per alpha.
    public var results: [String: [PointEvaluation]]

    public func barriers(_ split: String) throws -> (loss: SegmentBarriers, error: SegmentBarriers) {
        guard let r = results[split] else { throw AnalysisError("no split '\(split)' in the curve") }
        return (try SegmentBarriers(alphas: alphas, values: r.map(\.loss)),
                try SegmentBarriers(alphas: alphas, values: r.map(\.error)))
    }
}

public enum Interpolation {
    /// `points` evenly spaced alphas from 0 to 1.
    public static func alphas(points: Int) throws -> [Double] {
        guard points >= 2 else { throw AnalysisError("interpolation needs at least 2 points, got \(points)") }
        return linspace(0, 1, points)
    }

    /// Evaluates parameters (and buffers) (1 - alpha) a + alpha b at each alpha. Buffers are
    /// interpolated too; with BatchNorm reset on they are overwritten by the recompute.
    public static func run(evaluator: LandscapeEvaluator, a: (parameters: [Double], buffers: [Float]),
                           b: (parameters: [Double], buffers: [Float]), alphas: [Double], splits: [String],
                           progressLabel: String? = nil) throws -> InterpolationCurve {
        var results: [String: [PointEvaluation]] = [:]
        let start = Date()
        for (k, alpha) in alphas.enumerated() {
            let params = lerp(a.parameters, b.parameters, alpha)
            let buffers: [Float] = alpha == 0 ? a.buffers : alpha == 1 ? b.buffers
                : zip(a.buffers, b.buffers).map { Float((1 - alpha) * Double($0) + alpha * Double($1)) }
            let evals = try evaluator.evaluate(parameters: params, buffers: buffers, on: splits)
            for (s, e) in zip(splits, evals) { results[s, default: []].append(e) }
            if let progressLabel {
                let elapsed = Date().timeIntervalSince(start)
                reportProgress(String(format: "%@ point %d/%d alpha %.4f loss %.4f error %.4f elapsed %.0fs eta %.0fs",
                                      progressLabel, k + 1, alphas.count, alpha, evals[0].loss, evals[0].error, elapsed,
                                      elapsed / Double(k + 1) * Double(alphas.count - k - 1)))
            }
        }
        return InterpolationCurve(alphas: alphas, results: results)
    }
}

/// Model soups (Wortsman et al. 2022): weight averages of fine-tuned models.
public enum Soup {
    public struct Step: Sendable {
        public var member: Int
        public var holdoutAccuracy: Double
        public var kept: Bool
    }

    /// Greedy soup: members in decreasing order of their own held-out accuracy (ties by
    /// index); each is kept only if the soup with it has strictly higher held-out accuracy.
    /// Returns the kept members (indices into `members`) and the steps taken.
    public static func greedy(members: [[Double]], evaluator: LandscapeEvaluator, holdout: String) throws
        -> (kept: [Int], steps: [Step], individual: [Double]) {
        guard !members.isEmpty else { throw AnalysisError("soup of no members") }
        let individual = try members.map { try evaluator.evaluate(parameters: $0, on: [holdout])[0].accuracy }
        let order = members.indices.sorted { individual[$0] != individual[$1] ? individual[$0] > individual[$1] : $0 < $1 }
        var kept = [order[0]]
        var best = individual[order[0]]
        var steps = [Step(member: order[0], holdoutAccuracy: best, kept: true)]
        for m in order.dropFirst() {
            let candidate = kept + [m]
            let acc = try evaluator.evaluate(parameters: uniform(candidate.map { members[$0] }), on: [holdout])[0].accuracy
            let keep = acc > best
            if keep { kept = candidate; best = acc }
            steps.append(Step(member: m, holdoutAccuracy: acc, kept: keep))
        }
        return (kept, steps, individual)
    }

    public static func uniform(_ members: [[Double]]) -> [Double] {
        combine(members, [Double](repeating: 1 / Double(members.count), count: members.count))
    }
}
