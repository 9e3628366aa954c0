import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import TestSupport
import XCTest

/// The evaluation engine and the grid files on a real (tiny) cnn with BatchNorm.
final class EngineTests: TemporaryFolderTestCase {
    var data: Dataset!
    var models: [Model] = []

    override func setUpWithError() throws {
        try super.setUpWithError()
        data = try syntheticDataset(count: 48, seed: 3)
        models = [0, 1, 2].map { Model(.cnn, numClasses: 10, seed: $0) }
        // Different running statistics per model, so reset versus no reset shows.
        for (k, m) in models.enumerated() {
            let (images, _) = data.batch(indices: Array((k * 8)..<(k * 8 + 16)))
            _ = try m.forward(images, ForwardContext(mode: .train, keepsCaches: false))
        }
    }

    func evaluator(reset: Bool = true) throws -> LandscapeEvaluator {
        let bn = try FixedBatches(data, limit: 24, batchSize: 12)
        let eval = try FixedBatches(try data.subset(indices: Array(24..<48)), batchSize: 12)
        return try LandscapeEvaluator(model: Model(.cnn, numClasses: 10, seed: 7), bnBatches: bn, splits: ["eval": eval],
                                      resetBatchNorm: reset)
    }

    func testEndpointsReproduceOwnEvaluationWithTheSameBatchNormTreatment() throws {
        let ev = try evaluator()
        let a = (models[0].flatParameters(), flatBuffers(models[0])), b = (models[1].flatParameters(), flatBuffers(models[1]))
        let own = try [a, b].map { try ev.evaluate(parameters: $0.0, on: ["eval"])[0] }
        let curve = try Interpolation.run(evaluator: ev, a: a, b: b, alphas: linspace(0, 1, 3), splits: ["eval"])
        let r = curve.results["eval"]!
        // The issue asks for 1e-6; the engine's only state is the weights, so the match is exact.
        XCTAssertEqual(r[0].loss, own[0].loss, accuracy: 1e-6)
        XCTAssertEqual(r[2].loss, own[1].loss, accuracy: 1e-6)
        XCTAssertEqual(r[0].loss.bitPattern, own[0].loss.bitPattern)
        XCTAssertEqual(r[0].accuracy, own[0].accuracy)

        // Without reset, alpha 0 is the checkpoint with its own running statistics: a plain eval.
        let keep = try evaluator(reset: false)
        let curveKeep = try Interpolation.run(evaluator: keep, a: a, b: b, alphas: [0, 1], splits: ["eval"])
        let direct = try keep.splits["eval"]!.batches.reduce(0.0) { s, batch in
            s + (try CrossEntropy.evaluate(logits: try models[0].predict(batch.images), labels: batch.labels,
                                           wantGradient: false)).loss * Double(batch.labels.count)
        } / 24
        XCTAssertEqual(curveKeep.results["eval"]![0].loss, direct, accuracy: 1e-6)
        XCTAssertNotEqual(curveKeep.results["eval"]![0].loss, r[0].loss, "recomputed statistics differ from the stored ones")
    }

    func testBatchNormRecomputeIsACumulativeAverageAndForgetsThePast() throws {
        let ev = try evaluator()
        let w0 = models[0].flatParameters(), w1 = models[1].flatParameters()
        let first = try ev.evaluate(parameters: w0, on: ["eval"])[0]
        _ = try ev.evaluate(parameters: w1, on: ["eval"])
        let again = try ev.evaluate(parameters: w0, on: ["eval"])[0]
        XCTAssertEqual(first.loss.bitPattern, again.loss.bitPattern)
        // The first BatchNorm sees the first conv's output: its running mean must be the mean of
        // the two batch means (cumulative average, as update_bn with momentum None).
        let conv = Model(.cnn, numClasses: 10, seed: 0)
        conv.setFlatParameters(w0)
        guard let firstConv = conv.features.layers[0] as? Conv2d else { return XCTFail("cnn starts with a convolution") }
        var means: [[Double]] = []
        for batch in ev.bnBatches!.batches {
            let y = try firstConv.forward(batch.images, .eval).0
            let c = y.shape[1], plane = y.shape[2] * y.shape[3]
            means.append((0..<c).map { ch in
                var s = 0.0
                for i in 0..<y.shape[0] { for j in 0..<plane { s += Double(y.storage[(i * c + ch) * plane + j]) } }
                return s / Double(y.shape[0] * plane)
            })
        }
        ev.model.setFlatParameters(w0)
        try ev.recomputeBatchNorm()
        let running = ev.model.batchNorms[0].runningMean.value.storage
        for ch in 0..<running.count {
            // float32 running statistics of float64 batch means: 1e-5 relative.
            XCTAssertEqual(Double(running[ch]), (means[0][ch] + means[1][ch]) / 2, accuracy: 1e-5 * (1 + abs(means[0][ch])))
        }
        XCTAssertEqual(ev.model.batchNorms[0].batchesTracked.value.storage[0], 2)
    }

    func makeGrid(nx: Int = 3, ny: Int = 4) throws -> LandscapeGrid {
        let ws = models.map { $0.flatParameters() }
        let basis = try PlaneBasis.through(a: ws[0], b: ws[1], c: ws[2])
        let inputs = ws.enumerated().map { k, w -> LandscapePoint in
            let p = basis.project(w)
            return LandscapePoint(label: "m\(k)", sha256: "s\(k)", x: p.x, y: p.y, distance: 0)
        }
        let axes = coveringAxes(points: inputs.map { ($0.x, $0.y) }, margin: 0.2, nx: nx, ny: ny)
        return LandscapeGrid(kind: "plane", architecture: "cnn", numClasses: 10, x: axes.x, y: axes.y,
                             settings: ["margin": .float64(0.2)], origin: basis.origin, u: basis.u, v: basis.v,
                             inputs: inputs, projected: [])
    }

    func testShardedMergedPlaneEqualsUnshardedBitForBit() throws {
        let ev = try evaluator()
        var whole = try makeGrid()
        try whole.compute(evaluator: ev, path: path("whole.h5"), saveEvery: 100, progressLabel: "test")
        XCTAssertEqual(whole.missingCount, 0)
        var shards: [(path: String, grid: LandscapeGrid)] = []
        for i in [2, 0, 1] {
            var g = try makeGrid()
            g.shardIndex = i
            g.shardCount = 3
            try g.compute(evaluator: ev, path: path("s\(i).h5"), saveEvery: 1, progressLabel: "test")
            XCTAssertEqual(g.missingCount, g.cellCount - g.shardCells.count)
            shards.append((path("s\(i).h5"), try LandscapeGrid.read(path: path("s\(i).h5"))))
        }
        let merged = try LandscapeGrid.merge(shards)
        XCTAssertEqual(merged.loss.map(\.bitPattern), whole.loss.map(\.bitPattern))
        XCTAssertEqual(merged.error.map(\.bitPattern), whole.error.map(\.bitPattern))
        XCTAssertEqual(merged, try LandscapeGrid.read(path: path("whole.h5")))
        try merged.write(to: path("merged.h5"))
        XCTAssertEqual(try sha256(ofFile: path("merged.h5")), try sha256(ofFile: path("whole.h5")),
                       "the merged file is byte-identical to the unsharded one")

        // Shards of another plane are refused.
        var other = try makeGrid(nx: 4, ny: 4)
        other.shardIndex = 1
        other.shardCount = 3
        try other.write(to: path("other.h5"))
        XCTAssertThrowsError(try LandscapeGrid.merge([shards[0], (path("other.h5"), try LandscapeGrid.read(path: path("other.h5")))])) {
            XCTAssertTrue("\($0)".contains("different plane"), "\($0)")
        }
    }

    func testResumeComputesOnlyMissingCellsAndRefusesAnotherGrid() throws {
        let ev = try evaluator()
        var whole = try makeGrid()
        try whole.compute(evaluator: ev, path: path("whole.h5"), saveEvery: 100, progressLabel: "test")
        // A run killed after 5 cells left this file; one finished cell carries a marker value that
        // survives only if resume does not recompute finished cells.
        var partial = try makeGrid()
        for c in 0..<5 {
            partial.loss[c] = whole.loss[c]
            partial.error[c] = whole.error[c]
            partial.done[c] = 1
        }
        partial.loss[1] = 123
        try partial.write(to: path("r.h5"))
        var resumed = try makeGrid()
        try resumed.compute(evaluator: ev, path: path("r.h5"), saveEvery: 2, progressLabel: "test")
        XCTAssertEqual(resumed.loss[1], 123)
        resumed.loss[1] = whole.loss[1]
        XCTAssertEqual(resumed.loss.map(\.bitPattern), whole.loss.map(\.bitPattern))
        XCTAssertEqual(resumed.error.map(\.bitPattern), whole.error.map(\.bitPattern))
        // Missing cells are NaN in a partial file.
        let read = try LandscapeGrid.read(path: path("whole.h5"))
        XCTAssertFalse(read.loss.contains { $0.isNaN })
        XCTAssertTrue(partial.loss[5...].allSatisfy(\.isNaN))

        var different = try makeGrid(nx: 5, ny: 4)
        XCTAssertThrowsError(try different.compute(evaluator: ev, path: path("r.h5"), saveEvery: 2, progressLabel: "test")) {
            XCTAssertTrue("\($0)".contains("refusing to resume"), "\($0)")
        }
        var otherShard = try makeGrid()
        otherShard.shardCount = 2
        XCTAssertThrowsError(try otherShard.compute(evaluator: ev, path: path("r.h5"), saveEvery: 2, progressLabel: "test"))
    }

    func testGreedySoupKeepsOnlyImprovingMembers() throws {
        let ev = try evaluator()
        let ws = models.map { $0.flatParameters() }
        let result = try Soup.greedy(members: ws, evaluator: ev, holdout: "eval")
        XCTAssertEqual(result.steps.count, 3)
        XCTAssertTrue(result.steps[0].kept)
        // Steps follow decreasing individual accuracy, and every kept step improved on the last kept one.
        let order = result.steps.map(\.member)
        XCTAssertEqual(order.map { result.individual[$0] }, order.map { result.individual[$0] }.sorted(by: >))
        var best = result.steps[0].holdoutAccuracy
        for s in result.steps.dropFirst() {
            XCTAssertEqual(s.kept, s.holdoutAccuracy > best)
            if s.kept { best = s.holdoutAccuracy }
        }
        XCTAssertEqual(Soup.uniform([ws[0]]), ws[0])
    }
}
