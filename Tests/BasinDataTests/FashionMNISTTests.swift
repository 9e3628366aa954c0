import BasinCore
import BasinData
import Foundation
import XCTest

/// Reads the real data set installed by Debian's dataset-fashion-mnist, when present.
final class FashionMNISTTests: XCTestCase {
    func testRealFilesCountsHistogramAndStatistics() throws {
        let directory = FashionMNIST.defaultDirectory
        let trainImages = URL(fileURLWithPath: directory).appendingPathComponent(FashionMNIST.fileNames(.train).images).path
        guard FileManager.default.fileExists(atPath: trainImages) else {
            throw XCTSkip("Fashion-MNIST not installed at \(directory)")
        }
        let start = Date()
        let train = try FashionMNIST.load(.train, directory: directory)
        let seconds = Date().timeIntervalSince(start)
        print("Fashion-MNIST train loaded in \(String(format: "%.3f", seconds)) s")
        let test = try FashionMNIST.load(.test, directory: directory)
        XCTAssertEqual(train.images.shape, [60000, 1, 28, 28])
        XCTAssertEqual(test.images.shape, [10000, 1, 28, 28])
        XCTAssertEqual(train.classCounts, [Int](repeating: 6000, count: 10))
        XCTAssertEqual(test.classCounts, [Int](repeating: 1000, count: 10))
        XCTAssertEqual(train.images.storage.min(), 0)
        XCTAssertEqual(train.images.storage.max(), 1)
        // The benchmark constants are these statistics rounded to four decimals.
        let stats = try Normalization.computed(from: train)
        XCTAssertEqual(stats.mean[0], 0.2860, accuracy: 0.00005)
        XCTAssertEqual(stats.std[0], 0.3530, accuracy: 0.00005)
        // Generous bound on a shared 2-core machine; inflating alone takes about 0.25 s.
        XCTAssertLessThan(seconds, 3.0)

        let task = TransferTask(classes: TransferTask.fashionMNISTTargetClasses, perClass: 100, dataSeed: 0)
        let few = try task.trainingSet(from: train)
        XCTAssertEqual(few.classCounts, [100, 100, 100, 100, 100])
        XCTAssertEqual(try task.evaluationSet(from: test).count, 5000)
    }
}
