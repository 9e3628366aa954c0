import Foundation
import TestSupport
import XCTest

/// Runs the built `basin` binary on tiny synthetic Fashion-MNIST-like IDX files.
final class CLITests: BinaryTestCase {
    var data: String { dir + "/data" }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try writeIDX(split: "train", perClass: 30, seed: 1)
        try writeIDX(split: "t10k", perClass: 10, seed: 2)
    }

    /// 28x28 images where class c is a bright vertical band at x = 2c...2c+2, plus noise; gzip
    /// through the system's gzip (this target links nothing but Foundation and XCTest).
    func writeIDX(split: String, perClass: Int, seed: UInt64) throws {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func noise() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 60)
        }
        let n = perClass * 10
        var images: [UInt8] = [0, 0, 8, 3] + bigEndian(n) + bigEndian(28) + bigEndian(28)
        var labels: [UInt8] = [0, 0, 8, 1] + bigEndian(n)
        for i in 0..<n {
            let c = i % 10
            labels.append(UInt8(c))
            for _ in 0..<28 { for x in 0..<28 { images.append(UInt8(min(255, (x / 3 == c ? 180 : 0) + noise()))) } }
        }
        try gzip(images, to: data + "/\(split)-images-idx3-ubyte.gz")
        try gzip(labels, to: data + "/\(split)-labels-idx1-ubyte.gz")
    }

    func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 255), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }

    func gzip(_ bytes: [UInt8], to path: String) throws {
        let raw = path.replacingOccurrences(of: ".gz", with: "")
        try Data(bytes).write(to: URL(fileURLWithPath: raw))
        let result = try run(["-n", "-f", raw], executable: "/bin/gzip")
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func inspectJSON(_ file: String) throws -> [String: Any] {
        let r = try run(["inspect", file, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func tensor(_ json: [String: Any], _ path: String) -> [String: Any]? {
        (json["tensors"] as? [[String: Any]])?.first { $0["path"] as? String == path }
    }

    /// 300 images, batch 16: 19 steps per epoch; saves every 7 steps never fall on an epoch end.
    func trainArguments(out: String) -> [String] {
        ["pretrain", "--dataset", data, "--model", "cnn", "--classes", "0,1,2,3,4,5,6,7,8,9", "--epochs", "4",
         "--batch-size", "16", "--lr", "0.05", "--seed", "5", "--threads", "1", "--checkpoint-every", "7", "--quiet",
         "--out", out]
    }

    func testKilledRunResumesBitIdentical() throws {
        try run(trainArguments(out: "full.h5"))
        let full = try inspectJSON(dir + "/full.h5")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = trainArguments(out: "cut.h5")
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let resumeFile = dir + "/cut.h5.resume.h5"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: resumeFile) && process.isRunning && Date() < deadline {
            usleep(10_000)
        }
        usleep(150_000)  // let it run on past the checkpoint, into the next steps
        XCTAssertTrue(process.isRunning, "the run finished before it could be killed: make the test run longer")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cut.h5"))
        let saved = try inspectJSON(resumeFile)
        let step = try XCTUnwrap(tensor(saved, "state/step")?["min"] as? Double)
        XCTAssertGreaterThan(step, 0, "the resume checkpoint should be mid-epoch")

        // Resuming with another configuration is refused with a one-line error.
        var other = trainArguments(out: "cut.h5") + ["--resume"]
        other[other.firstIndex(of: "0.05")!] = "0.04"
        let refused = try run(other)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("different configuration"), refused.stderr)

        let resumed = try run(trainArguments(out: "cut.h5") + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumeFile))
        let final = try inspectJSON(dir + "/cut.h5")
        XCTAssertEqual(final["params_sha256"] as? String, full["params_sha256"] as? String)
        for row in (full["tensors"] as? [[String: Any]]) ?? [] {
            guard let path = row["path"] as? String, let digest = row["sha256"] as? String else { continue }
            XCTAssertEqual(tensor(final, path)?["sha256"] as? String, digest, path)
        }
    }

    func testInspectEvaluateEnsembleAndErrors() throws {
        let pre = try run(["pretrain", "--dataset", data, "--classes", "0,1,3,5,8", "--epochs", "1", "--batch-size", "32",
                           "--threads", "1", "--quiet", "--out", "pt.h5"])
        XCTAssertEqual(pre.status, 0, pre.stderr)
        XCTAssertTrue(pre.stdout.contains("test_acc="), pre.stdout)

        let text = try run(["inspect", "pt.h5"])
        XCTAssertTrue(text.stdout.contains("params/head.weight"), text.stdout)
        let json = try inspectJSON(dir + "/pt.h5")
        XCTAssertEqual((json["metadata"] as? [String: Any])?["role"] as? String, "pretrained")

        // Evaluate reads the task from the checkpoint: 5 classes x 10 test images.
        let eval = try run(["evaluate", "pt.h5", "--dataset", data, "--save-predictions", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("split=test") && eval.stdout.contains("count=50"), eval.stdout)
        XCTAssertEqual(tensor(try inspectJSON(dir + "/pt.h5"), "predictions/test/probs")?["shape"] as? [Int], [50, 5])

        // StarSSE of 3 on the target classes: members, manifest and an ensemble summary line.
        let ens = try run(["ensemble", "starsse", "--from", "pt.h5", "-n", "3", "--out-dir", "star", "--dataset", data,
                           "--per-class", "20", "--epochs", "2", "--batch-size", "16", "--cycle-epochs", "1",
                           "--cycle-lr-ratio", "2", "--threads", "1", "--quiet"])
        XCTAssertEqual(ens.status, 0, ens.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/star").sorted()
        XCTAssertEqual(files, ["manifest.json", "member-1.h5", "member-2.h5", "member-3.h5"])
        XCTAssertTrue(ens.stdout.contains("method=starsse n=3") && ens.stdout.contains("ensemble_acc="), ens.stdout)
        let parentSHA = ((try inspectJSON(dir + "/star/member-3.h5"))["metadata"] as? [String: Any])?["parent_sha256"] as? String
        let memberOne = try inspectJSON(dir + "/star/member-1.h5")
        XCTAssertNotNil(parentSHA)
        // Rerunning skips the members present.
        let again = try run(["ensemble", "starsse", "--from", "pt.h5", "-n", "3", "--out-dir", "star", "--dataset", data,
                             "--per-class", "20", "--epochs", "2", "--batch-size", "16", "--cycle-epochs", "1",
                             "--cycle-lr-ratio", "2", "--threads", "1", "--quiet"])
        XCTAssertEqual(again.stdout.components(separatedBy: "skipped=1").count - 1, 3, again.stdout)
        XCTAssertEqual(memberOne["params_sha256"] as? String,
                       (try inspectJSON(dir + "/star/member-1.h5"))["params_sha256"] as? String)

        // Bad input: one-line errors, non-zero exits.
        let missing = try run(["inspect", "nope.h5"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nope.h5"), missing.stderr)
        XCTAssertEqual(missing.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1)
        let chained = try run(["ensemble", "sse", "--from", "pt.h5", "-n", "3", "--member", "3", "--out-dir", "sse",
                               "--dataset", data, "--per-class", "20", "--quiet"])
        XCTAssertNotEqual(chained.status, 0)
        XCTAssertTrue(chained.stderr.contains("run member 2 first"), chained.stderr)
        let both = try run(["ensemble", "sse", "--from", "pt.h5", "-n", "3", "--out-dir", "x", "--cycle-lr", "0.1",
                            "--cycle-lr-ratio", "2"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("not both"), both.stderr)
    }

    func testSweepSharesMemberOne() throws {
        XCTAssertEqual(try run(["pretrain", "--dataset", data, "--epochs", "1", "--batch-size", "32", "--threads", "1",
                                "--quiet", "--out", "pt.h5"]).status, 0)
        let sweep = try run(["sweep", "starsse", "--from", "pt.h5", "-n", "2", "--lr-ratios", "1,2", "--epoch-ratios", "1",
                             "--out-dir", "sweep", "--dataset", data, "--per-class", "10", "--epochs", "1",
                             "--batch-size", "25", "--threads", "1", "--quiet"])
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        let top = try FileManager.default.contentsOfDirectory(atPath: dir + "/sweep").sorted()
        XCTAssertEqual(top, ["lr1_ep1", "lr2_ep1", "member-1.h5"])
        for cell in ["lr1_ep1", "lr2_ep1"] {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/sweep/" + cell).sorted()
            XCTAssertEqual(files, ["manifest.json", "member-2.h5"], cell)
            let manifest = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: dir + "/sweep/\(cell)/manifest.json"))) as? [String: Any]
            let first = (manifest?["members"] as? [[String: Any]])?.first
            XCTAssertEqual(first?["file"] as? String, "../member-1.h5")
        }
        // Member 1 trained once: one line for it, then a skip in the second cell.
        XCTAssertEqual(sweep.stdout.components(separatedBy: "skipped=1").count - 1, 1, sweep.stdout)
        XCTAssertTrue(sweep.stdout.contains("lr_ratio=2.0 epoch_ratio=1.0"), sweep.stdout)
        // The cells differ only in the cycle LR: the LR=2x cell records twice the first-step LR.
        let lr1 = try inspectJSON(dir + "/sweep/lr1_ep1/member-2.h5"), lr2 = try inspectJSON(dir + "/sweep/lr2_ep1/member-2.h5")
        let first1 = try XCTUnwrap(tensor(lr1, "state/history_lr")?["max"] as? Double)
        let first2 = try XCTUnwrap(tensor(lr2, "state/history_lr")?["max"] as? Double)
        XCTAssertEqual(first2, 2 * first1, accuracy: 1e-9)
    }
}
