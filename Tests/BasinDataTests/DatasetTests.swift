import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

final class DatasetTests: TemporaryFolderTestCase {
    /// 10 classes interleaved, 7 images each: image i has label i % 10.
    func makeTen() throws -> Dataset { try indexedDataset(labels: (0..<70).map { $0 % 10 }, numClasses: 10) }

    func testInitRejectsInconsistentParts() throws {
        let images = Tensor(zeros: [3, 1, 2, 2])
        XCTAssertThrowsError(try Dataset(images: images, labels: [0, 1], numClasses: 2, source: "s")) { error in
            XCTAssertEqual(error as? DataError, .countMismatch(imagesPath: "s", imageCount: 3, labelsPath: "s", labelCount: 2))
        }
        XCTAssertThrowsError(try Dataset(images: images, labels: [0, 1, 2], numClasses: 2, source: "s")) { error in
            XCTAssertEqual(error as? DataError, .labelOutOfRange(path: "s", label: 2, numClasses: 2))
        }
        XCTAssertThrowsError(try Dataset(images: Tensor(zeros: [3, 4]), labels: [0, 1, 1], numClasses: 2))
    }

    func testSelectionReindexesInGivenOrderAndKeepsOriginalOrder() throws {
        let selected = try makeTen().selecting(classes: [7, 2, 4])
        XCTAssertEqual(selected.count, 21)
        XCTAssertEqual(selected.numClasses, 3)
        let origin = originalIndices(selected)
        XCTAssertEqual(origin, origin.sorted())
        for (i, original) in origin.enumerated() {
            XCTAssertEqual(selected.labels[i], [7: 0, 2: 1, 4: 2][original % 10], "image from original index \(original)")
        }
    }

    func testClassNamesFollowSelection() throws {
        var images = Tensor(zeros: [10, 1, 1, 1])
        images.storage = (0..<10).map(Float.init)
        let d = try Dataset(images: images, labels: Array(0..<10), numClasses: 10, classNames: FashionMNIST.classNames)
        let task = TransferTask(classes: TransferTask.fashionMNISTTargetClasses)
        XCTAssertEqual(try task.evaluationSet(from: d).classNames, ["Pullover", "Coat", "Shirt", "Sneaker", "Ankle boot"])
    }

    func testPerClassSamplingIsDeterministicWithRightCounts() throws {
        let ten = try makeTen()
        let a = try ten.selecting(classes: [3, 1], perClass: 4, seed: 11)
        let b = try ten.selecting(classes: [3, 1], perClass: 4, seed: 11)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.classCounts, [4, 4])
        let origin = originalIndices(a)
        XCTAssertEqual(origin, origin.sorted(), "kept images stay in their original order")
        XCTAssertEqual(Set(origin).count, 8, "drawn without replacement")
        // The draw for a class depends on (seed, class) only, not on the other classes chosen.
        let alone = try ten.selecting(classes: [3], perClass: 4, seed: 11)
        XCTAssertEqual(originalIndices(alone), origin.filter { $0 % 10 == 3 })
        // Other seeds give other samples (some seed among a few must differ from seed 11).
        let others = try (12..<16).map { try originalIndices(ten.selecting(classes: [3, 1], perClass: 4, seed: $0)) }
        XCTAssertTrue(others.contains { $0 != origin })
        // All of a class when perClass equals its size.
        XCTAssertEqual(try ten.selecting(classes: [5], perClass: 7, seed: 1).count, 7)
    }

    func testSelectionArgumentErrors() throws {
        let ten = try makeTen()
        XCTAssertThrowsError(try ten.selecting(classes: [1], perClass: 8)) { error in
            XCTAssertEqual(error as? DataError, .invalidArgument("perClass 8 exceeds the 7 images of class 1"))
        }
        XCTAssertThrowsError(try ten.selecting(classes: [10]))
        XCTAssertThrowsError(try ten.selecting(classes: [1, 1]))
        XCTAssertThrowsError(try ten.selecting(classes: []))
        XCTAssertThrowsError(try ten.selecting(classes: [1], perClass: 0))
    }

    func testTransferTaskTrainingAndEvaluation() throws {
        let ten = try makeTen()
        let task = TransferTask(classes: TransferTask.fashionMNISTSourceClasses, perClass: 3, dataSeed: 5)
        let train = try task.trainingSet(from: ten)
        XCTAssertEqual(train.classCounts, [3, 3, 3, 3, 3])
        XCTAssertEqual(Set(originalIndices(train).map { $0 % 10 }), [0, 1, 3, 5, 8])
        let eval = try task.evaluationSet(from: ten)
        XCTAssertEqual(eval.classCounts, [7, 7, 7, 7, 7], "evaluation keeps every test image of the classes")
    }

    func testUnsampledImagesAreExactlyTheOnesTheSampleLeftOut() throws {
        let ten = try makeTen()
        let sample = originalIndices(try ten.selecting(classes: [3, 1], perClass: 4, seed: 11))
        let rest = try ten.unsampled(classes: [3, 1], perClass: 4, seed: 11)
        let restIndices = originalIndices(rest)
        XCTAssertEqual(rest.classCounts, [3, 3], "7 images per class minus the 4 sampled")
        XCTAssertTrue(Set(sample).isDisjoint(with: restIndices))
        XCTAssertEqual(Set(sample + restIndices), Set((0..<70).filter { $0 % 10 == 3 || $0 % 10 == 1 }))
        XCTAssertEqual(rest.labels, restIndices.map { [3: 0, 1: 1][$0 % 10]! }, "relabelled as the sample is")
        // A draw of 2 per class from the 3 left out: deterministic, within them, seeded separately.
        let two = try ten.unsampled(classes: [3, 1], perClass: 4, seed: 11, count: 2, drawSeed: 5)
        XCTAssertEqual(two.classCounts, [2, 2])
        XCTAssertTrue(Set(originalIndices(two)).isSubset(of: restIndices))
        XCTAssertEqual(try ten.unsampled(classes: [3, 1], perClass: 4, seed: 11, count: 2, drawSeed: 5), two)
        XCTAssertThrowsError(try ten.unsampled(classes: [3, 1], perClass: 4, seed: 11, count: 4)) { error in
            XCTAssertEqual(error as? DataError,
                           .invalidArgument("4 images of class 3 outside its sample of 4 asked for, only 3 exist"))
        }
        let task = TransferTask(classes: [3, 1], perClass: 4, dataSeed: 11)
        XCTAssertEqual(try task.unseenTrainingSet(from: ten, count: 2, seed: 5), two)
        XCTAssertNil(try TransferTask(classes: [3, 1]).unseenTrainingSet(from: ten, count: 2), "no sample: nothing unseen")
    }

    func testHoldoutSplitIsDisjointCompleteAndDeterministic() throws {
        let ten = try makeTen()
        let (train, holdout) = try ten.splitHoldout(count: 10, seed: 3)
        XCTAssertEqual(holdout.count, 10)
        XCTAssertEqual(train.count, 60)
        let a = originalIndices(train), b = originalIndices(holdout)
        XCTAssertEqual(a, a.sorted())
        XCTAssertEqual(b, b.sorted())
        XCTAssertEqual((a + b).sorted(), Array(0..<70))
        XCTAssertEqual(try ten.splitHoldout(count: 10, seed: 3).holdout, holdout)
        XCTAssertEqual(try ten.splitHoldout(fraction: 1.0 / 7.0, seed: 3).holdout, holdout)
        XCTAssertThrowsError(try ten.splitHoldout(count: 71, seed: 3))
        XCTAssertThrowsError(try ten.splitHoldout(fraction: .nan, seed: 3))
    }

    func testBatchGathersImagesAndLabels() throws {
        let ten = try makeTen()
        let (images, labels) = ten.batch(indices: [13, 2, 69])
        XCTAssertEqual(images.shape, [3, 1, 2, 2])
        XCTAssertEqual(labels, [3, 2, 9])
        XCTAssertEqual(images.storage, [13, 13, 13, 13, 2, 2, 2, 2, 69, 69, 69, 69])
        var buffer = Tensor(zeros: [4, 1, 2, 2])
        XCTAssertEqual(try ten.batch(indices: [5, 6], into: &buffer), [5, 6])
        XCTAssertEqual(buffer.shape, [2, 1, 2, 2], "the buffer takes the batch's shape")
        XCTAssertEqual(buffer.storage, [5, 5, 5, 5, 6, 6, 6, 6])
        XCTAssertThrowsError(try ten.batch(indices: [70], into: &buffer))
    }

    func testNormalizationStatistics() throws {
        // Channel 0 alternates 0 and 1 (mean 0.5, std 0.5); channel 1 is 0.2, 0.4, 0.6, 0.8
        // per image (mean 0.5, population std sqrt(0.05)).
        var storage = [Float]()
        for _ in 0..<3 { storage += [0, 1, 0, 1] + [0.2, 0.4, 0.6, 0.8] }
        let d = try Dataset(images: Tensor(shape: [3, 2, 2, 2], storage: storage), labels: [0, 0, 0], numClasses: 1)
        let n = try Normalization.computed(from: d)
        // Tolerance: float32 rounding of double-precision statistics.
        XCTAssertEqual(n.mean[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(n.std[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(n.mean[1], 0.5, accuracy: 1e-6)
        XCTAssertEqual(n.std[1], Float(0.05.squareRoot()), accuracy: 1e-6)
        let normalized = try d.normalized(n)
        XCTAssertEqual(Array(normalized.images.storage[..<4]), [-1, 1, -1, 1])
        XCTAssertEqual(n.normalizedZero, [(0 - n.mean[0]) / n.std[0], (0 - n.mean[1]) / n.std[1]], "normalized black pixel")

        let constant = try Dataset(images: Tensor(filling: 0.3, shape: [2, 1, 2, 2]), labels: [0, 0], numClasses: 1)
        XCTAssertThrowsError(try Normalization.computed(from: constant))
        var threeChannels = Tensor(zeros: [1, 3, 1, 1])
        XCTAssertThrowsError(try Normalization.fashionMNIST.apply(to: &threeChannels))
    }

    func testFashionMNISTNormalizationMatchesTheBenchmarkFormula() throws {
        let n = Normalization.fashionMNIST
        XCTAssertEqual(n.mean, [0.2860])
        XCTAssertEqual(n.std, [0.3530])
        var t = Tensor(shape: [1, 1, 1, 3], storage: [0, Float(128) / 255, 1])
        try n.apply(to: &t)
        // Exact: the same float32 operations as (pixel / 255 - mean) / std in PyTorch.
        XCTAssertEqual(t.storage, [(0 - Float(0.2860)) / 0.3530, (Float(128) / 255 - 0.2860) / 0.3530, (1 - Float(0.2860)) / 0.3530])
        XCTAssertEqual(n.normalizedZero, [t.storage[0]])
    }
}

final class BatchSamplerTests: XCTestCase {
    func testEveryIndexExactlyOncePerEpochWithPartialLastBatch() throws {
        let sampler = try BatchSampler(count: 10, batchSize: 3, seed: 42)
        XCTAssertEqual(sampler.batchesPerEpoch, 4)
        for epoch in 0..<5 {
            let batches = sampler.batches(epoch: epoch)
            XCTAssertEqual(batches.map(\.count), [3, 3, 3, 1])
            XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<10))
            XCTAssertEqual(batches.flatMap { $0 }, sampler.permutation(epoch: epoch))
        }
        XCTAssertNotEqual(sampler.permutation(epoch: 0), sampler.permutation(epoch: 1))
    }

    func testOrderDependsOnSeedAndEpochOnly() throws {
        let a = try BatchSampler(count: 1000, batchSize: 32, seed: 7)
        let b = try BatchSampler(count: 1000, batchSize: 32, seed: 7)
        XCTAssertEqual(a.permutation(epoch: 3), b.permutation(epoch: 3))
        var rng = RandomGenerator.stream(seed: 7, purpose: "shuffle-epoch-3")
        XCTAssertEqual(a.permutation(epoch: 3), rng.permutation(1000))
        XCTAssertNotEqual(a.permutation(epoch: 3), try BatchSampler(count: 1000, batchSize: 32, seed: 8).permutation(epoch: 3))
    }

    func testResumeMidEpochContinuesTheSameOrder() throws {
        let sampler = try BatchSampler(count: 100, batchSize: 16, seed: 1)
        let full = sampler.batches(epoch: 2)
        var resumed = try sampler.epoch(2, startingAt: 4)
        XCTAssertEqual(resumed.step, 4)
        XCTAssertEqual(resumed.next(), full[4])
        XCTAssertEqual(resumed.step, 5)
        XCTAssertEqual(Array(resumed), Array(full[5...]))
        XCTAssertEqual(Array(try sampler.epoch(2, startingAt: sampler.batchesPerEpoch)), [])
        XCTAssertThrowsError(try sampler.epoch(2, startingAt: sampler.batchesPerEpoch + 1))
    }

    func testNoShuffleAndBadArguments() throws {
        let sampler = try BatchSampler(count: 5, batchSize: 2, seed: 0, shuffle: false)
        XCTAssertEqual(sampler.batches(epoch: 9), [[0, 1], [2, 3], [4]])
        XCTAssertThrowsError(try BatchSampler(count: 5, batchSize: 0, seed: 0))
        XCTAssertThrowsError(try BatchSampler(count: 0, batchSize: 2, seed: 0))
    }
}
