import Foundation
import TestSupport
import XCTest

/// `--dataset` end to end through the binary on tiny 3-channel data sets written here: an
/// HDF5 file of 12x12 images and a CIFAR-10 folder.
final class DataSetCLITests: BinaryTestCase {
    /// 4 classes of 3x12x12 images: 48 training (uint8, NHWC), 24 test.
    func writeColorHDF5(_ name: String, channels: Int = 3) throws -> String {
        let path = dir + "/" + name
        try DataFixtures.writeHDF5(path: path, train: TinyImages(count: 48, classes: 4, channels: channels, height: 12, width: 12, seed: 1),
                                   test: TinyImages(count: 24, classes: 4, channels: channels, height: 12, width: 12, seed: 2),
                                   float: false, layout: "NHWC")
        return path
    }

    func succeeds(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try run(arguments)
        XCTAssertEqual(r.status, 0, "basin \(arguments.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    /// A non-zero exit with exactly one `Error:` line that mentions every string given.
    func fails(_ arguments: [String], mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try run(arguments)
        XCTAssertNotEqual(r.status, 0, "basin \(arguments.joined(separator: " ")) should fail", file: file, line: line)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error") }
        XCTAssertEqual(errors.count, 1, "one error line expected: \(r.stderr)", file: file, line: line)
        for part in parts {
            XCTAssertTrue(r.stderr.contains(part), "'\(r.stderr)' does not mention '\(part)'", file: file, line: line)
        }
    }

    func config(_ file: String) throws -> [String: Any] {
        let r = try run(["inspect", file, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let metadata = try XCTUnwrap(json["metadata"] as? [String: Any])
        return try XCTUnwrap(metadata["config"] as? [String: Any])
    }

    func metadata(_ file: String) throws -> [String: Any] {
        let r = try run(["inspect", file, "--json"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(json["metadata"] as? [String: Any])
    }

    /// The value of `key` in a `key=value` line.
    func value(_ key: String, in line: String) -> String? {
        line.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    func testPretrainFinetuneEvaluateOnAnHDF5DataSet() throws {
        let data = try writeColorHDF5("color.h5")
        let quick = ["--epochs", "1", "--batch-size", "8", "--threads", "1", "--quiet"]
        let pre = try succeeds(["pretrain", "--dataset", "color.h5", "--model", "cnn", "--classes", "0,1", "--out", "pt.h5"] + quick)
        XCTAssertNotNil(value("test_acc", in: pre).flatMap(Double.init), pre)
        // No --dataset: fine-tuning continues on the pre-trained checkpoint's data set.
        let fine = try succeeds(["finetune", "--from", "pt.h5", "--classes", "2,3", "--per-class", "8", "--out", "ft.h5"] + quick)
        XCTAssertNotNil(value("test_acc", in: fine), fine)

        let task = try XCTUnwrap(try config(dir + "/ft.h5")["task"] as? [String: Any])
        let dataset = try XCTUnwrap(task["dataset"] as? [String: Any])
        XCTAssertEqual(dataset["format"] as? String, "hdf5")
        XCTAssertEqual(dataset["path"] as? String, data, "recorded as an absolute path")
        XCTAssertEqual(dataset["inputShape"] as? [Int], [3, 12, 12])
        XCTAssertEqual(dataset["numClasses"] as? Int, 4)
        let normalization = try XCTUnwrap(dataset["normalization"] as? [String: Any])
        XCTAssertEqual((normalization["mean"] as? [Double])?.count, 3)
        XCTAssertEqual(task["classes"] as? [Int], [2, 3])

        // Evaluate finds the data set in the checkpoint and reproduces the loss and accuracy
        // measured at the end of training: same images, same normalization.
        let eval = try succeeds(["evaluate", "ft.h5", "--threads", "1"])
        let line = try XCTUnwrap(eval.split(separator: "\n").first.map(String.init))
        XCTAssertTrue(line.hasPrefix("file=ft.h5 split=test loss="), line)
        XCTAssertEqual(value("count", in: line), "12")
        XCTAssertEqual(value("classes", in: line), "2,3")
        let metrics = try metadata(dir + "/ft.h5")["metrics"] as? [String: Any]
        let accuracy = try XCTUnwrap(value("acc", in: line).flatMap(Double.init))
        let loss = try XCTUnwrap(value("loss", in: line).flatMap(Double.init))
        XCTAssertEqual(accuracy, try XCTUnwrap(metrics?["test_acc"] as? Double), accuracy: 5e-7)
        XCTAssertEqual(loss, try XCTUnwrap(metrics?["test_loss"] as? Double), accuracy: 5e-7)

        // The analysis commands use the checkpoints' data set too.
        _ = try succeeds(["pretrain", "--dataset", "color.h5", "--classes", "0,1", "--seed", "1", "--out", "pt1.h5"] + quick)
        let barrier = try succeeds(["interpolate", "pt.h5", "pt1.h5", "--points", "3", "--bn-images", "16", "--batch-size", "8",
                                    "--threads", "1", "--out", "i.h5"])
        XCTAssertNotNil(value("barrier_loss", in: barrier).flatMap(Double.init), barrier)
    }

    func testModelsAndDataSetsThatDoNotFitAreRefusedInOneLine() throws {
        _ = try writeColorHDF5("color.h5")
        _ = try writeColorHDF5("gray.h5", channels: 1)
        let quick = ["--epochs", "1", "--batch-size", "8", "--threads", "1", "--quiet"]
        _ = try succeeds(["pretrain", "--dataset", "color.h5", "--classes", "0,1", "--out", "pt.h5"] + quick)
        try fails(["finetune", "--from", "pt.h5", "--dataset", "gray.h5", "--classes", "2,3", "--out", "ft.h5"] + quick,
                  mentioning: ["pt.h5", "params/features.0.weight [32, 3, 3, 3]", "3-channel", "[1, 12, 12]", "gray.h5"])
        try fails(["evaluate", "pt.h5", "--dataset", "gray.h5", "--threads", "1"],
                  mentioning: ["pt.h5", "features.0.weight", "[1, 12, 12]"])
        try fails(["interpolate", "pt.h5", "pt.h5", "--dataset", "gray.h5", "--out", "i.h5", "--threads", "1"],
                  mentioning: ["pt.h5", "[1, 12, 12]"])
        // An mlp takes C*H*W values: 432 for these images, not the 144 of the gray ones.
        _ = try succeeds(["pretrain", "--dataset", "color.h5", "--model", "mlp", "--classes", "0,1", "--out", "mlp.h5"] + quick)
        try fails(["evaluate", "mlp.h5", "--dataset", "gray.h5", "--threads", "1"],
                  mentioning: ["mlp.h5", "params/fc1.weight [512, 432]", "[1, 12, 12]"])

        // Paths that hold no data set.
        try fails(["evaluate", "pt.h5", "--dataset", "nowhere", "--threads", "1"], mentioning: ["nowhere", "not a data set"])
        try Data("not data".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        try fails(["pretrain", "--dataset", "notes.txt", "--classes", "0,1", "--out", "x.h5"] + quick,
                  mentioning: ["notes.txt", "not a data set", "not HDF5"])
        try fails(["pretrain", "--dataset", "pt.h5", "--classes", "0,1", "--out", "x.h5"] + quick,
                  mentioning: ["pt.h5", "missing group 'train'"])
        try fails(["pretrain", "--dataset", "color.h5", "--classes", "0,7", "--out", "x.h5"] + quick,
                  mentioning: ["class 7", "4 classes", "color.h5"])
        try fails(["pretrain", "--dataset", "color.h5", "--cifar100-labels", "coarse", "--classes", "0,1", "--out", "x.h5"] + quick,
                  mentioning: ["color.h5", "CIFAR-100"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.h5"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ft.h5"))
    }

    func testCIFAR10Folder() throws {
        try DataFixtures.writeCIFAR10(folder: dir + "/cifar", train: TinyImages(count: 20, classes: 10, channels: 3, height: 32, width: 32, seed: 3),
                                      test: TinyImages(count: 10, classes: 10, channels: 3, height: 32, width: 32, seed: 4))
        let pre = try succeeds(["pretrain", "--dataset", "cifar", "--classes", "0,1,2", "--epochs", "1", "--batch-size", "6",
                                "--threads", "1", "--quiet", "--out", "pt.h5"])
        XCTAssertNotNil(value("test_acc", in: pre), pre)
        let dataset = (try config(dir + "/pt.h5")["task"] as? [String: Any])?["dataset"] as? [String: Any]
        XCTAssertEqual(dataset?["format"] as? String, "cifar-10")
        XCTAssertEqual(dataset?["inputShape"] as? [Int], [3, 32, 32])
        let eval = try succeeds(["evaluate", "pt.h5", "--threads", "1"])
        XCTAssertTrue(eval.contains("count=3 classes=0,1,2"), eval)
        try FileManager.default.removeItem(atPath: dir + "/cifar/test_batch.bin")
        try fails(["evaluate", "pt.h5", "--threads", "1"], mentioning: ["test_batch.bin"])
    }
}
