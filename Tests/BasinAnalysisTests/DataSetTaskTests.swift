import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

/// The data set of an analysis comes from the checkpoints' configs, and their input layers must agree.
final class DataSetTaskTests: TemporaryFolderTestCase {
    let color = DatasetConfig(format: .cifar10, path: "/data/cifar", inputShape: [3, 32, 32], numClasses: 10,
                              normalization: Normalization(mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26]))

    func config(_ dataset: DatasetConfig?) throws -> String {
        var task: [String: Any] = ["classes": Array(0..<10), "dataSeed": 0]
        if let dataset {
            task["dataset"] = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(dataset))
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: ["task": task]), as: UTF8.self)
    }

    func checkpoint(_ name: String, dataset: DatasetConfig?, channels: Int = 1, rawConfig: String? = nil) throws -> AnalysisCheckpoint {
        let model = Model(.cnn, numClasses: 10, inChannels: channels, seed: 1)
        try writeCheckpoint(Checkpoint(model: model, metadata: CheckpointMetadata(architecture: "cnn", numClasses: 10, role: .finetuned,
                                                                                   config: try rawConfig ?? config(dataset), seed: 1)),
                            to: path(name))
        return try AnalysisCheckpoint(path: path(name))
    }

    func testRecordedDataSetsMustAgreeAndOldConfigsMeanFashionMNIST() throws {
        let old = try checkpoint("old.h5", dataset: nil)
        let new = try checkpoint("new.h5", dataset: .fashionMNIST)
        XCTAssertNil(AnalysisTask.fromConfig(old.checkpoint.metadata.config)?.dataset)
        XCTAssertEqual(try AnalysisTask.configured([old, new])?.classes, Array(0..<10), "no record and Fashion-MNIST's record agree")
        XCTAssertEqual(try AnalysisTask.configured([new, old])?.dataset, .fashionMNIST)

        let cifar = try checkpoint("cifar.h5", dataset: color, channels: 3)
        XCTAssertEqual(try AnalysisTask.configured([cifar])?.dataset, color)
        XCTAssertThrowsError(try AnalysisTask.configured([new, cifar])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("cifar-10 data set /data/cifar") && text.contains("fashion-mnist data set"), text)
        }
        let broken = try checkpoint("broken.h5", dataset: nil,
                                    rawConfig: #"{"task": {"classes": [0, 1], "dataset": {"format": "cifar-10", "path": "/x"}}}"#)
        XCTAssertThrowsError(try AnalysisTask.configured([broken])) { error in
            XCTAssertTrue("\(error)".contains("broken.h5: the data set in its config is malformed"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
    }

    func testInputLayersFromTheFileAndTheirImages() throws {
        let cifar = try checkpoint("cifar.h5", dataset: color, channels: 3)
        XCTAssertEqual(cifar.input.channels, 3)
        XCTAssertEqual(try cifar.makeModel().parameters[0].value.shape, [32, 3, 3, 3])
        XCTAssertNil(cifar.inputError(imageShape: [3, 9, 9], dataName: "the data"), "a cnn takes any size of 4 pixels or more")
        let error = try XCTUnwrap(cifar.inputError(imageShape: [1, 28, 28], dataName: "the fashion-mnist data set /f"))
        XCTAssertEqual(error.description, "checkpoint \(path("cifar.h5")): params/features.0.weight [32, 3, 3, 3] takes 3-channel images, "
                       + "but the fashion-mnist data set /f has images of shape [1, 28, 28]")
        let gray = try checkpoint("gray.h5", dataset: nil)
        XCTAssertThrowsError(try AnalysisCheckpoint.loadAll([gray.path, cifar.path])) { error in
            XCTAssertTrue("\(error)".contains("1-channel") && "\(error)".contains("3-channel"), "\(error)")
        }
    }
}
