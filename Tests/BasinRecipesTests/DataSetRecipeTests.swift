import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import BasinRecipes
import Foundation
import TestSupport
import XCTest

/// Runs on data sets other than Fashion-MNIST: the data set travels in the run configuration,
/// models take its images, and checkpoints that cannot are refused with one line.
final class DataSetRecipeTests: TemporaryFolderTestCase {
    override var folderPrefix: String { "basin-datasets" }

    /// An HDF5 data set of 3-channel 8x8 images, 4 classes: 32 training and 16 test images.
    func colorData() throws -> LoadedData {
        let path = dir + "/color.h5"
        try DataFixtures.writeHDF5(path: path, train: TinyImages(count: 32, classes: 4, channels: 3, height: 8, width: 8, seed: 1),
                                   test: TinyImages(count: 16, classes: 4, channels: 3, height: 8, width: 8, seed: 2),
                                   float: false, layout: "NHWC")
        return try DataSource.detect(path: path).load()
    }

    func config(_ arch: Architecture, dataset: DatasetConfig, augment: Bool = true, start: StartPoint? = nil) -> RunConfig {
        RunConfig(training: TrainingConfig(architecture: arch, epochs: 2, batchSize: 8, learningRate: 0.05, augment: augment, seed: 4),
                  task: TaskConfig(classes: [0, 1, 2], dataset: dataset), role: "pretrained", start: start)
    }

    func testConfigsRecordTheDataSetAndOldOnesReadAsFashionMNIST() throws {
        let data = try colorData()
        let run = config(.cnn, dataset: data.config)
        let decoded = try RunConfig.decode(json: try run.json())
        XCTAssertEqual(decoded, run)
        XCTAssertEqual(decoded.task.dataset.format, .hdf5)
        XCTAssertEqual(decoded.task.dataset.inputShape, [3, 8, 8])
        XCTAssertEqual(decoded.task.dataset.normalization.channels, 3)

        // A configuration as written before data sets were recorded: no task.dataset.
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try run.json().utf8)) as? [String: Any])
        var task = try XCTUnwrap(object["task"] as? [String: Any])
        task.removeValue(forKey: "dataset")
        object["task"] = task
        let old = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        XCTAssertFalse(old.contains("dataset"))
        let legacy = try RunConfig.decode(json: old)
        XCTAssertEqual(legacy.task.dataset, .fashionMNIST)
        XCTAssertEqual(legacy.task.dataset.inputShape, [1, 28, 28])
        XCTAssertEqual(legacy.task.dataset.normalization, .fashionMNIST)
        XCTAssertEqual(legacy.task.dataset.path, FashionMNIST.defaultDirectory)
        // Resuming compares the data set like any other field.
        XCTAssertTrue(legacy.differences(from: run).contains { $0.hasPrefix("task.dataset.format") }, "\(legacy.differences(from: run))")
    }

    func testNewModelsTakeTheDataSetsImagesUnderTheSameNames() throws {
        let color = DatasetConfig(format: .hdf5, path: "/d.h5", inputShape: [3, 8, 8], numClasses: 4,
                                  normalization: Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25]))
        for (arch, parameter, shape) in [(Architecture.cnn, "features.0.weight", [32, 3, 3, 3]), (.resnet20, "conv1.weight", [16, 3, 3, 3]),
                                         (.mlp, "fc1.weight", [512, 3 * 8 * 8])] {
            let (model, _) = try startState(for: config(arch, dataset: color), architecture: arch)
            XCTAssertEqual(model.parameters[0].path, parameter)
            XCTAssertEqual(model.parameters[0].value.shape, shape, "\(arch)")
            XCTAssertEqual(model.parameters.map(\.path), Model(arch, numClasses: 3, seed: 4).parameters.map(\.path),
                           "parameter names do not depend on the images")
            XCTAssertNoThrow(try model.predict(Tensor(zeros: [2, 3, 8, 8])))
        }
        // Fashion-MNIST's shape builds exactly the model of before (same draws, same bits).
        let (fashion, _) = try startState(for: config(.mlp, dataset: .fashionMNIST), architecture: .mlp)
        XCTAssertEqual(parameterDigest(fashion), parameterDigest(Model(.mlp, numClasses: 3, seed: 4)))
        // Two 2x2 max-pools need 4 pixels: a new cnn on 3x3 images is refused up front.
        var tiny = color
        tiny.inputShape = [3, 3, 3]
        XCTAssertThrowsError(try startState(for: config(.cnn, dataset: tiny), architecture: .cnn)) { error in
            XCTAssertTrue("\(error)".contains("at least 4x4") && "\(error)".contains("[3, 3, 3]"), "\(error)")
        }
    }

    func testStartCheckpointThatCannotTakeTheImagesIsRefusedNamingBothShapes() throws {
        let gray = dir + "/gray.h5"
        try Checkpoint(model: Model(.cnn, numClasses: 5, seed: 1), metadata: CheckpointMetadata(architecture: "cnn", numClasses: 5,
                                                                                               role: .pretrained)).write(to: gray)
        let data = try colorData()
        let start = StartPoint(path: gray, sha256: try sha256(ofFile: gray), newHead: true)
        XCTAssertThrowsError(try startState(for: config(.cnn, dataset: data.config, start: start), architecture: .cnn)) { error in
            let text = "\(error)"
            XCTAssertTrue(error is ModelInputError, text)
            for part in [gray, "params/features.0.weight [32, 1, 3, 3]", "1-channel", "[3, 8, 8]", data.config.path] {
                XCTAssertTrue(text.contains(part), "'\(text)' does not mention '\(part)'")
            }
            XCTAssertFalse(text.contains("\n"))
        }
        // An mlp takes exactly C*H*W values: one trained on 8x8 gray images does not take 4x4 ones.
        let mlp = dir + "/mlp.h5"
        try Checkpoint(model: Model(.mlp, numClasses: 5, imageHeight: 8, imageWidth: 8, seed: 1),
                       metadata: CheckpointMetadata(architecture: "mlp", numClasses: 5, role: .pretrained)).write(to: mlp)
        var small = DatasetConfig.fashionMNIST
        small.inputShape = [1, 4, 4]
        let mlpStart = StartPoint(path: mlp, sha256: try sha256(ofFile: mlp), newHead: true)
        XCTAssertThrowsError(try startState(for: config(.mlp, dataset: small, start: mlpStart), architecture: .mlp)) { error in
            XCTAssertTrue("\(error)".contains("params/fc1.weight [512, 64]") && "\(error)".contains("(16 values)"), "\(error)")
        }
        // The file alone says which images it takes: loading without data builds the 8x8 mlp.
        XCTAssertEqual(try loadModel(path: mlp).model.parameters[0].value.shape, [512, 64])
        var same = small
        same.inputShape = [1, 8, 8]
        XCTAssertNoThrow(try startState(for: config(.mlp, dataset: same, start: mlpStart), architecture: .mlp))
    }

    func testThreeChannelRunsAreDeterministicAndPadWithTheDataSetsBlack() throws {
        let data = try colorData()
        let run = config(.cnn, dataset: data.config)
        let taskData = try TaskData(run.task, from: data)
        XCTAssertEqual(taskData.train.imageShape, [3, 8, 8])
        XCTAssertEqual(taskData.train.count, 24, "classes 0, 1, 2 of 32 images of 4 classes")
        XCTAssertEqual(taskData.evaluation.count, 12)
        XCTAssertEqual(taskData.normalization, data.config.normalization)
        func train(_ config: RunConfig, _ data: TaskData, out: String? = nil) throws -> Checkpoint {
            let (model, optimizer) = try startState(for: config, architecture: .cnn)
            let trainingRun = TrainingRun(config: config, model: model, optimizer: optimizer, data: data, progressLabel: "t")
            trainingRun.quiet = true
            return try trainingRun.run(out: out, resume: false,
                                       metadata: CheckpointMetadata(architecture: "cnn", numClasses: 3, role: .pretrained))
        }
        let a = try train(run, taskData, out: dir + "/a.h5"), b = try train(run, taskData)
        XCTAssertEqual(a.params, b.params, "same seed, same bits")
        XCTAssertEqual(try RunConfig.decode(json: try readCheckpoint(path: dir + "/a.h5").metadata.config).task.dataset, data.config)
        // The padding fill is the data's own normalized black: other statistics, other augmented batches.
        var otherFill = taskData
        otherFill.normalization = Normalization(mean: [0, 0, 0], std: [1, 1, 1])
        XCTAssertNotEqual(try train(run, otherFill).params, a.params)
        var plain = run
        plain.training.augment = false
        XCTAssertEqual(try train(plain, otherFill).params, try train(plain, taskData).params, "without augmentation the fill is unused")
    }

    func testTaskDataFromTheRecordedDataSet() throws {
        let data = try colorData()
        var task = TaskConfig(classes: [3, 1], perClass: 2, dataset: data.config)
        let loaded = try TaskData.load(task)
        XCTAssertEqual(loaded.train.count, 4)
        XCTAssertEqual(loaded.train.images, try TaskData(task, from: data).train.images)
        task.classes = [1, 4]
        XCTAssertThrowsError(try TaskData(task, from: data)) { error in
            XCTAssertTrue("\(error)".contains("class 4 is outside the 4 classes") && "\(error)".contains(data.config.path), "\(error)")
        }
        // Other files at the recorded path: the run's statistics no longer describe them.
        try DataFixtures.writeHDF5(path: data.config.path, train: TinyImages(count: 32, classes: 4, channels: 3, height: 8, width: 8, seed: 9),
                                   test: TinyImages(count: 16, classes: 4, channels: 3, height: 8, width: 8, seed: 2),
                                   float: false, layout: "NHWC")
        task.classes = [3, 1]
        XCTAssertThrowsError(try TaskData.load(task)) { error in
            XCTAssertTrue("\(error)".contains("changed since the run was configured"), "\(error)")
        }
    }
}
