import BasinAnalysis
import XCTest

final class MetricsTests: XCTestCase {
    func distribution(_ rows: [[Double]], _ labels: [Int]) throws -> PredictiveDistribution {
        try PredictiveDistribution(probs: rows.flatMap { $0 }, labels: labels, numClasses: rows[0].count)
    }

    func testHandMadeMetrics() throws {
        // Example 1: right with confidence 0.8 (bin 12 of 15); example 2: wrong with 0.6 (bin 9).
        let d = try distribution([[0.8, 0.2], [0.4, 0.6]], [0, 0])
        let m = CalibrationMetrics(d)
        // Tolerances: float64 rounding of a handful of operations.
        XCTAssertEqual(m.accuracy, 0.5)
        XCTAssertEqual(m.nll, -(log(0.8) + log(0.4)) / 2, accuracy: 1e-15)
        XCTAssertEqual(m.brier, ((0.04 + 0.04) + (0.36 + 0.36)) / 2, accuracy: 1e-15)
        XCTAssertEqual(m.ece, 0.5 * 0.2 + 0.5 * 0.6, accuracy: 1e-15)
    }

    func testECEAveragesWithinABin() throws {
        // 0.70 and 0.72 share bin 10 ([0.667, 0.733)): accuracy 1/2, confidence 0.71.
        let d = try distribution([[0.70, 0.30], [0.28, 0.72]], [0, 0])
        XCTAssertEqual(CalibrationMetrics(d).ece, 0.21, accuracy: 1e-15)
        // With one bin everything is one bin as well.
        XCTAssertEqual(CalibrationMetrics(d, bins: 1).ece, 0.21, accuracy: 1e-15)
        // A confidence of exactly 1 falls in the last bin, and perfect predictions have ECE 0.
        XCTAssertEqual(CalibrationMetrics(try distribution([[1, 0], [0, 1]], [0, 1])).ece, 0)
    }

    func testEnsembleIsTheMeanOfProbabilities() throws {
        let a = try distribution([[0.9, 0.1], [0.2, 0.8]], [0, 0])
        let b = try distribution([[0.5, 0.5], [0.6, 0.4]], [0, 0])
        let e = try PredictiveDistribution.mean([a, b])
        for (x, y) in zip(e.probs, [0.7, 0.3, 0.4, 0.6]) { XCTAssertEqual(x, y, accuracy: 1e-15) }
        XCTAssertThrowsError(try PredictiveDistribution.mean([a, try distribution([[0.5, 0.5], [0.5, 0.5]], [0, 1])]))
    }

    func testDeepEnsembleEquivalent() throws {
        let nll = [1.0, 0.8, 0.7, 0.65]
        var dee = try DeepEnsembleEquivalent(value: 0.75, reference: nll, higherIsBetter: false)
        XCTAssertEqual(dee.value, 2.5, accuracy: 1e-12)
        XCTAssertEqual(dee.bound, .exact)
        dee = try DeepEnsembleEquivalent(value: 0.8, reference: nll, higherIsBetter: false)
        XCTAssertEqual(dee.value, 2, accuracy: 1e-12)
        dee = try DeepEnsembleEquivalent(value: 1.1, reference: nll, higherIsBetter: false)
        XCTAssertEqual(dee.value, 1)
        XCTAssertEqual(dee.bound, .atMost)
        dee = try DeepEnsembleEquivalent(value: 0.6, reference: nll, higherIsBetter: false)
        XCTAssertEqual(dee.value, 4)
        XCTAssertEqual(dee.bound, .atLeast)
        dee = try DeepEnsembleEquivalent(value: 0.86, reference: [0.80, 0.85, 0.87], higherIsBetter: true)
        XCTAssertEqual(dee.value, 2.5, accuracy: 1e-9)
        // A non-monotone curve: the smallest size that reaches the value.
        dee = try DeepEnsembleEquivalent(value: 0.9, reference: [1.0, 0.8, 0.95, 0.7], higherIsBetter: false)
        XCTAssertEqual(dee.value, 1.5, accuracy: 1e-12)
    }

    func testDiversityOfAModelWithItselfIsZero() throws {
        let a = try distribution([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]], [0, 2, 1])
        XCTAssertEqual(try Diversity.disagreement(a, a), 0)
        XCTAssertEqual(try Diversity.kl(a, a), 0)
    }

    func testKLAndDisagreementInClosedForm() throws {
        let a = try distribution([[0.5, 0.5], [0.9, 0.1]], [0, 0])
        let b = try distribution([[0.25, 0.75], [0.9, 0.1]], [0, 0])
        // Row 1 differs: KL(a||b) = 0.5 log(0.5/0.25) + 0.5 log(0.5/0.75); row 2 contributes 0.
        XCTAssertEqual(try Diversity.kl(a, b), (0.5 * log(2) + 0.5 * log(2.0 / 3)) / 2, accuracy: 1e-15)
        XCTAssertEqual(try Diversity.kl(b, a), (0.25 * log(0.5) + 0.75 * log(1.5)) / 2, accuracy: 1e-15)
        // Row 1: a's first maximum is class 0, b predicts class 1.
        XCTAssertEqual(try Diversity.disagreement(a, b), 0.5)
        XCTAssertEqual(Diversity.displacementCosine([2, 0], [0, 3], reference: [0, 0]), 0)
        XCTAssertEqual(Diversity.displacementCosine([2, 1], [3, 1], reference: [1, 1]), 1, accuracy: 1e-15)
    }
}
