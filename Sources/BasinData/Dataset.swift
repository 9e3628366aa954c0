// BasinData owns data sets: reading Fashion-MNIST's gzip IDX files (and CIFAR binary batches
// and HDF5 image files), class subsets and re-indexing, normalization, augmentation and batching.
import BasinCore
import Foundation

/// Labelled images held in memory: `images` is [N, C, H, W] float32, `labels[i]` in 0..<numClasses.
public struct Dataset: Equatable, Sendable {
    public private(set) var images: Tensor
    public private(set) var labels: [Int]
    public let numClasses: Int
    /// Names of classes 0..<numClasses, when known.
    public let classNames: [String]?

    /// Checks that the parts agree; `source` names where they came from in errors.
    public init(images: Tensor, labels: [Int], numClasses: Int, classNames: [String]? = nil,
                source: String = "dataset") throws {
        guard images.rank == 4 else {
            throw DataError.badShape(path: source, what: "images", expected: "[N, C, H, W]", found: images.shape)
        }
        guard images.shape[0] == labels.count else {
            throw DataError.countMismatch(imagesPath: source, imageCount: images.shape[0],
                                          labelsPath: source, labelCount: labels.count)
        }
        guard numClasses > 0 else { throw DataError.invalidArgument("\(source): numClasses \(numClasses) must be positive") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= numClasses }) {
            throw DataError.labelOutOfRange(path: source, label: bad, numClasses: numClasses)
        }
        if let names = classNames, names.count != numClasses {
            throw DataError.invalidArgument("\(source): \(names.count) class names for \(numClasses) classes")
        }
        self.images = images
        self.labels = labels
        self.numClasses = numClasses
        self.classNames = classNames
    }

    /// Skips validation for subsets of an already valid data set.
    private init(trusted images: Tensor, labels: [Int], numClasses: Int, classNames: [String]?) {
        self.images = images
        self.labels = labels
        self.numClasses = numClasses
        self.classNames = classNames
    }

    public var count: Int { labels.count }
    /// [C, H, W].
    public var imageShape: [Int] { Array(images.shape.dropFirst()) }
    public var channels: Int { images.shape[1] }

    /// How many images each class has.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: numClasses)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The images and labels at `indices`, in that order.
    /// Indices come from a sampler over this data set, so one outside 0..<count is a bug.
    public func batch(indices: [Int]) -> (images: Tensor, labels: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < count }, "batch index outside 0..<\(count)")
        return (images.gather(rows: indices), indices.map { labels[$0] })
    }

    /// Copies the images at `indices` into `output`, reshaped to [indices.count] + imageShape
    /// (its storage is reused when the size matches, so a training loop allocates once), and
    /// returns their labels.
    public func batch(indices: [Int], into output: inout Tensor) throws -> [Int] {
        let rowSize = imageShape.reduce(1, *)
        let shape = [indices.count] + imageShape
        if output.count == indices.count * rowSize {
            output.shape = shape
        } else {
            output = Tensor(zeros: shape)
        }
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DataError.invalidArgument("batch index \(bad) outside 0..<\(count)")
        }
        images.storage.withUnsafeBufferPointer { src in
            output.storage.withUnsafeMutableBufferPointer { dst in
                for (i, row) in indices.enumerated() {
                    (dst.baseAddress! + i * rowSize).update(from: src.baseAddress! + row * rowSize, count: rowSize)
                }
            }
        }
        return indices.map { labels[$0] }
    }

    /// The images at `indices` (in that order) as a data set with the same classes.
    public func subset(indices: [Int]) throws -> Dataset {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DataError.invalidArgument("subset index \(bad) outside 0..<\(count)")
        }
        return Dataset(trusted: images.gather(rows: indices), labels: indices.map { labels[$0] },
                       numClasses: numClasses, classNames: classNames)
    }

    /// The data set with every pixel normalized per channel.
    public func normalized(_ normalization: Normalization) throws -> Dataset {
        var copy = self
        try normalization.apply(to: &copy.images)
        return copy
    }

    /// Keeps the images of `classes` and relabels them 0..<classes.count in the order given.
    /// With `perClass`, draws that many images of each class without replacement; the draw
    /// for class c depends only on (seed, c), and the kept images stay in their original order.
    public func selecting(classes: [Int], perClass: Int? = nil, seed: UInt64 = 0) throws -> Dataset {
        try selecting(classes: classes, perClass: perClass, seed: seed, complement: false, complementPerClass: nil)
    }

    /// The images of `classes` that `selecting(classes:perClass:seed:)` leaves out (relabelled
    /// the same way): data a model trained on that sample has never seen, e.g. for validation.
    /// With `count`, a uniform draw of that many per class from them, made with `drawSeed`.
    public func unsampled(classes: [Int], perClass: Int, seed: UInt64 = 0, count: Int? = nil,
                          drawSeed: UInt64 = 0) throws -> Dataset {
        if let count, count < 1 { throw DataError.invalidArgument("held-out count \(count) must be at least 1") }
        return try selecting(classes: classes, perClass: perClass, seed: seed, complement: true,
                             complementPerClass: count, complementSeed: drawSeed)
    }

    private func selecting(classes: [Int], perClass: Int?, seed: UInt64, complement: Bool,
                           complementPerClass: Int?, complementSeed: UInt64 = 0) throws -> Dataset {
        guard !classes.isEmpty else { throw DataError.invalidArgument("class selection is empty") }
        if let bad = classes.first(where: { $0 < 0 || $0 >= numClasses }) {
            throw DataError.invalidArgument("class \(bad) outside 0..<\(numClasses)")
        }
        guard Set(classes).count == classes.count else {
            throw DataError.invalidArgument("class selection \(classes) repeats a class")
        }
        if let k = perClass, k < 1 { throw DataError.invalidArgument("perClass \(k) must be at least 1") }

        var newLabel = [Int](repeating: -1, count: numClasses)
        for (position, c) in classes.enumerated() { newLabel[c] = position }
        var members = [[Int]](repeating: [], count: numClasses)
        for (i, label) in labels.enumerated() where newLabel[label] >= 0 { members[label].append(i) }

        var keep = [Int]()
        for c in classes {
            var indices = members[c]
            if let k = perClass {
                guard k <= indices.count else {
                    throw DataError.invalidArgument("perClass \(k) exceeds the \(indices.count) images of class \(c)")
                }
                // Partial Fisher-Yates: the first k slots become a uniform sample.
                var rng = RandomGenerator.stream(seed: seed, purpose: "per-class-sample-\(c)")
                for i in 0..<k { indices.swapAt(i, i + rng.nextInt(below: indices.count - i)) }
                if complement {
                    indices.removeSubrange(..<k)
                    if let extra = complementPerClass {
                        guard extra <= indices.count else {
                            throw DataError.invalidArgument(
                                "\(extra) images of class \(c) outside its sample of \(k) asked for, only \(indices.count) exist")
                        }
                        // A uniform draw from what the sample left, independent of the sample's own stream.
                        indices.sort()
                        var extraRNG = RandomGenerator.stream(seed: complementSeed, purpose: "per-class-complement-\(c)")
                        for i in 0..<extra { indices.swapAt(i, i + extraRNG.nextInt(below: indices.count - i)) }
                        indices.removeSubrange(extra...)
                    }
                } else {
                    indices.removeSubrange(k...)
                }
            }
            keep.append(contentsOf: indices)
        }
        keep.sort()
        let names = classNames.map { names in classes.map { names[$0] } }
        return Dataset(trusted: images.gather(rows: keep), labels: keep.map { newLabel[labels[$0]] },
                       numClasses: classes.count, classNames: names)
    }

    /// Splits off `count` images, drawn uniformly with `seed`, as a held-out set (e.g. for
    /// greedy soups). Both parts keep the original order.
    public func splitHoldout(count holdoutCount: Int, seed: UInt64) throws -> (train: Dataset, holdout: Dataset) {
        guard holdoutCount >= 0, holdoutCount <= count else {
            throw DataError.invalidArgument("holdout count \(holdoutCount) outside 0...\(count)")
        }
        var rng = RandomGenerator.stream(seed: seed, purpose: "holdout-split")
        let order = rng.permutation(count)
        let holdout = order[..<holdoutCount].sorted()
        let train = order[holdoutCount...].sorted()
        return (try subset(indices: train), try subset(indices: holdout))
    }

    /// As `splitHoldout(count:seed:)` with round(fraction * count) held-out images.
    public func splitHoldout(fraction: Double, seed: UInt64) throws -> (train: Dataset, holdout: Dataset) {
        guard fraction.isFinite, fraction >= 0, fraction <= 1 else {
            throw DataError.invalidArgument("holdout fraction \(fraction) outside [0, 1]")
        }
        return try splitHoldout(count: Int((fraction * Double(count)).rounded()), seed: seed)
    }
}

/// Scales raw bytes to [0, 1] as torchvision's ToTensor does (float32 byte / 255), through a
/// 256-entry table so the conversion is exact and costs one load per pixel.
func bytesToUnitFloats(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<Float>) {
    var table = [Float](repeating: 0, count: 256)
    for v in 0..<256 { table[v] = Float(v) / 255 }
    table.withUnsafeBufferPointer { t in
        let tp = t.baseAddress!
        let src = bytes.baseAddress!
        let dst = out.baseAddress!
        for i in 0..<bytes.count { dst[i] = tp[Int(src[i])] }
    }
}

func unitFloats(from bytes: [UInt8]) -> [Float] {
    [Float](unsafeUninitializedCapacity: bytes.count) { out, initialized in
        bytes.withUnsafeBufferPointer { bytesToUnitFloats($0, into: out) }
        initialized = bytes.count
    }
}
