import Foundation

/// Learning rate as a function of the optimizer step.
public enum Schedule: Sendable, Equatable {
    /// base * (1 + cos(pi t / T)) / 2 after an optional linear warmup from 0 over `warmup` steps;
    /// t counts steps after the warmup, T = total - warmup. Reaches 0 at t = T.
    case cosine(base: Float, totalSteps: Int, warmupSteps: Int)
    case constant(Float)
    /// FGE (Garipov et al. 2018): within each cycle of `cycleSteps`, linearly from `high` down
    /// to `low` over the first half and back up over the second.
    case triangular(high: Float, low: Float, cycleSteps: Int)

    public func learningRate(step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case let .cosine(base, total, warmup):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = max(total - warmup, 1)
            let t = Double(min(step - warmup, span)) / Double(span)
            return Float(Double(base) * (1 + cos(Double.pi * t)) / 2)
        case let .triangular(high, low, cycle):
            let t = Double(step % max(cycle, 1)) / Double(max(cycle, 1))
            let frac = t < 0.5 ? 1 - 2 * t : 2 * t - 1
            return Float(Double(low) + (Double(high) - Double(low)) * frac)
        }
    }
}
