import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import TestSupport
import XCTest

/// The commands end to end through the built binary, on tiny synthetic data.
final class CLITests: TemporaryFolderTestCase {
    var data: String { path("data") }
    var common: [String] { ["--dataset", data, "--threads", "1", "--bn-images", "40", "--batch-size", "20"] }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard FileManager.default.isExecutableFile(atPath: basinBinary()) else {
            throw XCTSkip("no basin binary at \(basinBinary()) (run swift build -c release or make test)")
        }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try writeSyntheticFashionMNIST(folder: data, train: 60, test: 30)
        let warm = try syntheticDataset(count: 16, seed: 5)
        for s in 0..<3 { try writeModelCheckpoint(.cnn, seed: UInt64(s), to: path("c\(s).h5"), warmup: warm) }
    }

    func run(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try runBasin(args)
        XCTAssertEqual(r.status, 0, "basin \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return r.stdout
    }

    func assertFails(_ args: [String], mentioning: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runBasin(args)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let message = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error") }
        XCTAssertEqual(message.count, 1, "one error line expected: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(mentioning), "'\(r.stderr)' does not mention '\(mentioning)'", file: file, line: line)
    }

    func testInterpolateWritesCurveBarriersAndCSV() throws {
        let out = try run(["interpolate", path("c0.h5"), path("c1.h5"), "--points", "3", "--out", path("r.h5"),
                           "--csv", path("r.csv"), "--train"] + common)
        XCTAssertNotNil(value("barrier_loss", in: out).flatMap(Double.init))
        XCTAssertNotNil(value("barrier_error_mean_alpha", in: out).flatMap(Double.init))
        let csv = try String(contentsOfFile: path("r.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "alpha,test_loss,test_accuracy,test_error,train_loss,train_accuracy,train_error")
        XCTAssertEqual(csv.count, 4)
        let root = try HDF5File.open(path: path("r.h5")).root
        XCTAssertEqual(try root.readDataset("alpha").values.asDoubles, [0, 0.5, 1])
        XCTAssertEqual(try root.openGroup("test").readDataset("loss").shape, [3])
        XCTAssertEqual(try root.attribute("a_sha256"), .string(try sha256(ofFile: path("c0.h5"))))

        try writeModelCheckpoint(.mlp, seed: 0, to: path("mlp.h5"))
        try assertFails(["interpolate", path("c0.h5"), path("mlp.h5"), "--out", path("x.h5")] + common, mentioning: "mlp")
        try assertFails(["interpolate", path("c0.h5"), path("missing.h5"), "--out", path("x.h5")] + common,
                        mentioning: "missing.h5")
        try assertFails(["interpolate", path("c0.h5"), path("c1.h5"), "--points", "1", "--out", path("x.h5")] + common,
                        mentioning: "--points")
    }

    func testPlaneShardsMergeToTheUnshardedFile() throws {
        let inputs = [path("c0.h5"), path("c1.h5"), path("c2.h5"), "--project", path("c0.h5"), "--grid", "3x2"]
        let out = try run(["plane"] + inputs + ["--out", path("p.h5")] + common)
        XCTAssertEqual(value("cells_missing", in: out), "0")
        for i in 0..<2 {
            _ = try run(["plane"] + inputs + ["--out", path("p-\(i).h5"), "--shard", "\(i)/2"] + common)
        }
        _ = try run(["merge", path("p-1.h5"), path("p-0.h5"), "--out", path("m.h5")])
        XCTAssertEqual(try sha256(ofFile: path("m.h5")), try sha256(ofFile: path("p.h5")))
        let grid = try LandscapeGrid.read(path: path("p.h5"))
        XCTAssertEqual(grid.nx, 3)
        XCTAssertEqual(grid.ny, 2)
        XCTAssertEqual(grid.projected.count, 1)
        // c0 is A, the origin: projected at (0, 0), distance 0 up to rounding of the projection.
        XCTAssertEqual(grid.projected[0].x, 0, accuracy: 1e-9)
        XCTAssertEqual(grid.projected[0].distance, 0, accuracy: 1e-6)

        // Resuming into a file of another grid, and merging shards of different planes, are refused.
        try assertFails(["plane"] + inputs.dropLast() + ["4x2", "--out", path("p.h5")] + common, mentioning: "refusing to resume")
        _ = try run(["plane", path("c1.h5"), path("c0.h5"), path("c2.h5"), "--grid", "3x2", "--out", path("q-1.h5"),
                     "--shard", "1/2"] + common)
        try assertFails(["merge", path("p-0.h5"), path("q-1.h5"), "--out", path("bad.h5")], mentioning: "different plane")
        try assertFails(["merge", path("p-0.h5"), path("missing.h5"), "--out", path("bad.h5")],
                        mentioning: "missing.h5: cannot open file '/': file does not exist")
        try "not hdf5".write(toFile: path("text.h5"), atomically: true, encoding: .utf8)
        try assertFails(["merge", path("p-0.h5"), path("text.h5"), "--out", path("bad.h5")], mentioning: "no HDF5 signature")

        // An incomplete set of shards names the missing cells and shard and writes nothing,
        // unless the partial grid is asked for. Shard 0/2 of a 3x2 grid has cells 0, 2, 4.
        try assertFails(["merge", path("p-0.h5"), "--out", path("part.h5")],
                        mentioning: "3 of 6 cells missing: (x 1, y 0), (x 0, y 1), (x 2, y 1); shard 1/2 not given")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("part.h5")))
        let partial = try run(["merge", path("p-0.h5"), "--allow-incomplete", "--out", path("part.h5")])
        XCTAssertEqual(value("cells_missing", in: partial), "3")
        _ = try run(["merge", path("part.h5"), path("p-1.h5"), "--out", path("m2.h5")])
        XCTAssertEqual(try sha256(ofFile: path("m2.h5")), try sha256(ofFile: path("p.h5")))
    }

    func testSimplexCornersTrainSplitRolesAndShards() throws {
        let corners = [path("c0.h5"), path("c1.h5"), path("c2.h5")]
        let out = try run(["simplex"] + corners + ["--resolution", "2", "--train", "--train-images", "30", "--out", path("s.h5")]
                          + common)
        XCTAssertEqual(value("kind", in: out), "simplex")
        XCTAssertEqual(value("cells_done", in: out), "6", "(n + 1)(n + 2) / 2 cells for n = 2")
        XCTAssertEqual(value("cells_missing", in: out), "0")
        let grid = try LandscapeGrid.read(path: path("s.h5"))
        XCTAssertEqual(grid.kind, "simplex")
        XCTAssertEqual(grid.x, [0, 0.5, 1])
        XCTAssertEqual(grid.inputs.map(\.role), ["finetuned", "finetuned", "finetuned"])
        XCTAssertEqual(grid.inputs.map(\.x), [1, 0, 0])
        XCTAssertEqual(grid.inputs.map(\.y), [0, 1, 0])
        XCTAssertTrue(grid.hasTrain)
        for cell in 0..<9 {
            let inside = cell % 3 + cell / 3 <= 2
            XCTAssertEqual(grid.done[cell], inside ? 1 : 0, "cell \(cell)")
            XCTAssertEqual(grid.loss[cell].isNaN, !inside, "cell \(cell)")
            XCTAssertEqual(grid.trainLoss![cell].isNaN, !inside, "cell \(cell)")
        }
        // Corner C is cell (0, 0) and corner A cell (n, 0): the checkpoints' own values, the same
        // bits as the ends of an interpolation between them.
        _ = try run(["interpolate", path("c2.h5"), path("c0.h5"), "--points", "2", "--train", "--train-images", "30",
                     "--out", path("r.h5")] + common)
        let root = try HDF5File.open(path: path("r.h5")).root
        let testLoss = try root.openGroup("test").readDataset("loss").values.asDoubles
        let trainError = try root.openGroup("train").readDataset("error").values.asDoubles
        XCTAssertEqual(grid.loss[0], testLoss[0])
        XCTAssertEqual(grid.trainError![0], trainError[0])
        XCTAssertEqual(grid.loss[2], testLoss[1], accuracy: 1e-6, "corner A = C + 1 (A - C) up to rounding")

        // Shards of a simplex merge to the unsharded file.
        for i in 0..<2 {
            _ = try run(["simplex"] + corners + ["--resolution", "2", "--train", "--train-images", "30", "--out",
                                                 path("s-\(i).h5"), "--shard", "\(i)/2"] + common)
        }
        _ = try run(["merge", path("s-0.h5"), path("s-1.h5"), "--out", path("sm.h5")])
        XCTAssertEqual(try sha256(ofFile: path("sm.h5")), try sha256(ofFile: path("s.h5")))

        // A plane with --train holds both splits; roles come from the checkpoints.
        _ = try run(["plane"] + corners + ["--grid", "2", "--train", "--project", path("c1.h5"), "--out", path("p.h5")] + common)
        let plane = try LandscapeGrid.read(path: path("p.h5"))
        XCTAssertTrue(plane.hasTrain)
        XCTAssertEqual(plane.trainLoss!.filter(\.isFinite).count, 4)
        XCTAssertEqual(plane.projected.first?.role, "finetuned")
        try assertFails(["simplex", path("c0.h5"), path("c1.h5"), "--out", path("x.h5")] + common, mentioning: "three")
        try assertFails(["plane"] + corners + ["--train-images", "5", "--out", path("x.h5")] + common, mentioning: "--train")
    }

    func testSurfaceDiversityMetricsSoupAndMembership() throws {
        let out = try run(["surface", path("c0.h5"), "--dims", "1", "--range", "-1:1", "--points", "3", "--seed", "4",
                           "--out", path("s.h5")] + common)
        XCTAssertEqual(value("grid", in: out), "3x1")

        try FileManager.default.copyItem(atPath: path("c0.h5"), toPath: path("c0copy.h5"))
        _ = try run(["diversity", path("c0.h5"), path("c0copy.h5"), path("c1.h5"), "--reference", path("c2.h5"),
                     "--csv", path("d.csv"), "--dataset", data])
        let rows = try String(contentsOfFile: path("d.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows[0], "a,b,disagreement,kl_ab,kl_ba,l2,cosine,dist_ref_a,dist_ref_b,reference_space")
        XCTAssertEqual(rows.count, 4)
        XCTAssertTrue(rows[1].contains(",0,0,0,0,1,"), "a model and its copy: \(rows[1])")

        for (folder, seeds) in [("local", [0, 1, 2]), ("global", [2, 0])] {
            try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true)
            for (k, s) in seeds.enumerated() {
                try FileManager.default.copyItem(atPath: path("c\(s).h5"), toPath: path("\(folder)/member-\(k == 2 ? 10 : k + 1).h5"))
            }
        }
        _ = try run(["metrics", "--method", "local=\(path("local"))", "--method", "global=\(path("global"))",
                     "--dee-reference", "local", "--csv", path("m.csv"), "--dataset", data])
        let m = try String(contentsOfFile: path("m.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(m[0], "method,kind,size,accuracy,nll,brier,ece,dee,dee_bound")
        XCTAssertEqual(m.count, 1 + 4 + 3)
        // The reference against itself: its own sizes, where the curve reaches them.
        XCTAssertTrue(m[1].hasPrefix("local,ensemble,1,") && m[1].hasSuffix(",1,at_most"), String(m[1]))

        let soup = try run(["soup", path("c0.h5"), path("c1.h5"), path("c2.h5"), "--greedy", "--out", path("soup.h5"),
                            "--holdout-fraction", "0.5"] + common)
        XCTAssertNotNil(value("test_accuracy", in: soup).flatMap(Double.init))
        let saved = try readCheckpoint(path: path("soup.h5"))
        XCTAssertEqual(saved.metadata.role, .soup)
        let parents = try JSONSerialization.jsonObject(with: Data((saved.metadata.parent ?? "").utf8)) as? [String]
        XCTAssertFalse(parents?.isEmpty ?? true, "members in parent as a JSON list: \(saved.metadata.parent ?? "nil")")
        XCTAssertTrue(saved.metadata.config.contains(try sha256(ofFile: parents?.first ?? "")))
        XCTAssertEqual(saved.predictions["test"]?.labels.count, 30)
        try assertFails(["soup", path("c0.h5"), "--uniform", "--greedy", "--out", path("x.h5")], mentioning: "exactly one")
        // By default the greedy choice uses images no member trained on, which needs a per-class sample.
        try assertFails(["soup", path("c0.h5"), path("c1.h5"), "--greedy", "--out", path("x.h5")] + common,
                        mentioning: "--holdout-fraction")
        let unseen = try run(["soup", path("c0.h5"), path("c1.h5"), "--greedy", "--out", path("soup2.h5"),
                              "--per-class", "2", "--holdout-per-class", "3"] + common)
        XCTAssertNotNil(value("holdout_accuracy", in: unseen).flatMap(Double.init))

        let member = try run(["membership", "--reference", path("c0.h5"), path("c0copy.h5"), path("c1.h5"),
                              "--threshold", "0.1", "--points", "3", "--csv", path("mb.csv")] + common)
        XCTAssertEqual(value("in_basin", in: member), "1", "a checkpoint is in its own basin: barrier 0")
        XCTAssertEqual(value("barrier_loss", in: member).flatMap(Double.init), 0)
    }
}
