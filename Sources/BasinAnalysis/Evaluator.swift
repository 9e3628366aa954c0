import BasinCore
import BasinData
import Foundation

/// Loss and accuracy of one weight setting on one fixed set of batches.
public struct PointEvaluation: Equatable, Sendable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int
    public var error: Double { 1 - accuracy }
}

/// Images and labels cut into batches once, before any point is evaluated.
public struct FixedBatches: Sendable {
    public let batches: [(images: Tensor, labels: [Int])]
    public var count: Int { batches.reduce(0) { $0 + $1.labels.count } }

    /// The first `limit` images of `dataset` (all when nil) in order, in batches of `batchSize`.
    public init(_ dataset: Dataset, limit: Int? = nil, batchSize: Int) throws {
        guard batchSize > 0 else { throw AnalysisError("batch size must be positive, got \(batchSize)") }
        let n = min(limit ?? dataset.count, dataset.count)
        var out: [(Tensor, [Int])] = []
        var start = 0
        while start < n {
            let (images, labels) = dataset.batch(indices: Array(start..<min(start + batchSize, n)))
            out.append((images, labels))
            start += batchSize
        }
        batches = out
    }
}

/// The evaluation engine every landscape command shares: set the weights (a flat parameter
/// vector, optionally with buffers), recompute BatchNorm statistics on a fixed set of training
/// batches as torch.optim.swa_utils.update_bn does (reset, then a cumulative average over the
/// batches in train mode without gradients), evaluate on fixed sets of batches. The same
/// weights always give the same bits (for the same thread count), whatever was evaluated before.
public final class LandscapeEvaluator {
    public let model: Model
    public let bnBatches: FixedBatches?
    public let splits: [String: FixedBatches]
    /// Whether BatchNorm statistics are recomputed at every point (else the buffers given are used).
    public let resetBatchNorm: Bool

    public init(model: Model, bnBatches: FixedBatches?, splits: [String: FixedBatches], resetBatchNorm: Bool = true) throws {
        if resetBatchNorm && !model.batchNorms.isEmpty && (bnBatches?.count ?? 0) == 0 {
            throw AnalysisError("BatchNorm recompute needs training images (--bn-images must be positive)")
        }
        self.model = model
        self.bnBatches = bnBatches
        self.splits = splits
        self.resetBatchNorm = resetBatchNorm
    }

    public var parameterCount: Int { model.parameters.reduce(0) { $0 + $1.value.count } }

    /// Sets parameters (and buffers when given; else the buffers stay as they are) and, unless
    /// told not to, recomputes BatchNorm statistics.
    public func setWeights(parameters: [Double], buffers: [Float]? = nil) throws {
        guard parameters.count == parameterCount else {
            throw AnalysisError("weight vector of \(parameters.count) values for a model with \(parameterCount) parameters")
        }
        model.setFlatParameters(parameters)
        if let buffers { try setFlatBuffers(model, buffers) }
        if resetBatchNorm { try recomputeBatchNorm() }
    }

    public func recomputeBatchNorm() throws {
        let norms = model.batchNorms
        guard !norms.isEmpty, let bnBatches else { return }
        for bn in norms { bn.resetRunningStatistics() }
        // Train mode without caches: the in-place inference path, with batch statistics.
        let context = ForwardContext(mode: .train, statistics: .cumulative, keepsCaches: false)
        for batch in bnBatches.batches { _ = try model.predict(batch.images, context) }
    }

    /// Loss and accuracy of the current weights on a split, in eval mode.
    public func evaluate(_ split: String) throws -> PointEvaluation {
        guard let batches = splits[split] else { throw AnalysisError("no evaluation split '\(split)'") }
        var total = 0.0, correct = 0
        for batch in batches.batches {
            let logits = try model.predict(batch.images)
            let ce = try CrossEntropy.evaluate(logits: logits, labels: batch.labels, wantGradient: false)
            total += ce.loss * Double(batch.labels.count)
            correct += ce.correct
        }
        let n = batches.count
        return PointEvaluation(loss: total / Double(max(n, 1)), accuracy: Double(correct) / Double(max(n, 1)), count: n)
    }

    /// Predictive probabilities [N, C] of the current weights on a split.
    public func probabilities(_ split: String) throws -> Tensor {
        guard let batches = splits[split] else { throw AnalysisError("no evaluation split '\(split)'") }
        var storage: [Float] = []
        for batch in batches.batches { storage += CrossEntropy.softmax(try model.predict(batch.images)).storage }
        return Tensor(shape: [batches.count, model.numClasses], storage: storage)
    }

    /// Sets the weights and evaluates every split named.
    public func evaluate(parameters: [Double], buffers: [Float]? = nil, on names: [String]) throws -> [PointEvaluation] {
        try setWeights(parameters: parameters, buffers: buffers)
        return try names.map { try evaluate($0) }
    }
}

/// Every buffer of a model as one float vector in `buffers` order.
public func flatBuffers(_ model: Model) -> [Float] { model.buffers.flatMap(\.value.storage) }

public func setFlatBuffers(_ model: Model, _ values: [Float]) throws {
    let total = model.buffers.reduce(0) { $0 + $1.value.count }
    guard values.count == total else { throw AnalysisError("buffer vector of \(values.count) values for \(total) buffer values") }
    var offset = 0
    for b in model.buffers {
        for i in 0..<b.value.count { b.value.storage[i] = values[offset + i] }
        offset += b.value.count
    }
}
