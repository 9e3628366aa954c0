import BasinCore
import Foundation

/// Shuffled mini-batches of indices 0..<count. The order of epoch e is a function of
/// (seed, e) alone, so a resumed run restores its data order from the epoch and step it
/// saved, with no generator state. The last batch of an epoch may be smaller; it is kept.
public struct BatchSampler: Equatable, Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64
    /// Without shuffling every epoch runs 0..<count in order (evaluation).
    public let shuffle: Bool

    public init(count: Int, batchSize: Int, seed: UInt64, shuffle: Bool = true) throws {
        guard count > 0 else { throw DataError.invalidArgument("batch sampler over \(count) items") }
        guard batchSize > 0 else { throw DataError.invalidArgument("batch size \(batchSize) must be positive") }
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
    }

    public var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

    /// The order in which epoch `epoch` visits the items.
    public func permutation(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var rng = RandomGenerator.stream(seed: seed, purpose: "shuffle-epoch-\(epoch)")
        return rng.permutation(count)
    }

    /// Every batch of epoch `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        Array(self.epoch(epoch, permutation: permutation(epoch: epoch), startingAt: 0))
    }

    /// The batches of epoch `epoch` from step `step` on (0 for a fresh epoch; a resumed run
    /// passes the first step it has not done).
    public func epoch(_ epoch: Int, startingAt step: Int = 0) throws -> EpochBatches {
        guard step >= 0, step <= batchesPerEpoch else {
            throw DataError.invalidArgument("step \(step) outside 0...\(batchesPerEpoch) for epoch \(epoch)")
        }
        return self.epoch(epoch, permutation: permutation(epoch: epoch), startingAt: step)
    }

    private func epoch(_ epoch: Int, permutation: [Int], startingAt step: Int) -> EpochBatches {
        EpochBatches(epoch: epoch, permutation: permutation, batchSize: batchSize, step: step)
    }
}

/// The index batches of one epoch; `step` is the index of the batch `next()` returns.
public struct EpochBatches: Sequence, IteratorProtocol, Sendable {
    public let epoch: Int
    public let permutation: [Int]
    public let batchSize: Int
    public private(set) var step: Int

    public mutating func next() -> [Int]? {
        let start = step * batchSize
        guard start < permutation.count else { return nil }
        step += 1
        return Array(permutation[start..<Swift.min(start + batchSize, permutation.count)])
    }
}
