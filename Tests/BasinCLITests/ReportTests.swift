import Foundation
import TestSupport
import XCTest

/// `basin report summary` and `basin report diversity` on hand-made tables: the findings'
/// verdicts follow the numbers, and joined tables keep every row.
final class ReportTests: BinaryTestCase {
    func write(_ name: String, _ lines: [String]) throws {
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    /// Ensembles, barriers, soups and sweep for a study; `good` makes every finding hold.
    func writeStudy(good: Bool) throws {
        let scratch = good ? "0.70" : "0.80"
        try write("ensembles.csv", [
            "method,kind,size,accuracy,nll,brier,ece,dee,dee_bound",
            "scratch-de,ensemble,2,\(scratch),0.8,0.3,0.05,,", "scratch-de,member_mean,2,\(scratch),0.9,0.3,0.05,,",
            "local-de,ensemble,2,0.76,0.60,0.3,0.05,,", "local-de,member_mean,2,0.75,0.65,0.3,0.05,,",
            "global-de,ensemble,2,0.78,0.55,0.3,0.05,,", "global-de,member_mean,2,0.75,0.65,0.3,0.05,,",
            "sse,ensemble,2,0.765,0.60,0.3,0.05,,", "sse,member_mean,2,0.75,0.65,0.3,0.05,,",
            "starsse,ensemble,2,0.77,0.58,0.3,0.05,,", "starsse,member_mean,2,0.755,0.64,0.3,0.05,,",
        ])
        let header = "pair,a,b,points,barrier_loss,barrier_loss_alpha,barrier_error,barrier_error_alpha,barrier_loss_mean,"
            + "barrier_error_mean,loss_a,loss_b,error_a,error_b"
        try write("barriers.csv", [header, "local-de,a,b,25,0.01,0.5,0,0,0.01,0,0.6,0.6,0.25,0.25",
                                   "global-de,a,b,25,\(good ? "0.5" : "0.05"),0.5,0.1,0.5,0.5,0.1,0.6,0.6,0.25,0.25"])
        try write("soups.csv", ["soup,kind,members_offered,members_kept,holdout_accuracy,test_accuracy,test_loss,file",
                                "local-de-uniform,uniform,2,2,0.7,0.70,0.8,x", "starsse-uniform,uniform,2,2,0.8,0.76,0.6,y"])
        let sweepHeader = "method,lr_ratio,epoch_ratio,n,member1_accuracy,member1_nll,snapshot_accuracy,snapshot_nll,"
            + "member_accuracy,member_nll,ensemble_accuracy,ensemble_nll,ensemble_brier,ensemble_ece,"
            + "snapshot_barrier_loss,snapshot_barrier_error,snapshots,snapshots_in_basin,threshold"
        try write("sweep.csv", [sweepHeader,
                                "sse,1,1,2,0.75,0.65,0.76,0.6,0.755,0.62,0.765,0.6,0.3,0.05,0.01,0,1,1,0.1",
                                "sse,16,1,2,0.75,0.65,\(good ? "0.70" : "0.78"),0.9,0.72,0.8,0.76,0.6,0.3,0.05,0.8,0.2,1,0,0.1",
                                "starsse,1,1,2,0.75,0.65,0.76,0.6,0.755,0.62,0.77,0.58,0.3,0.05,0.01,0,1,1,0.1"])
    }

    func summary() throws -> (stdout: String, markdown: String) {
        let r = try run(["report", "summary", "--ensembles", "ensembles.csv", "--barriers", "barriers.csv", "--soups", "soups.csv",
                         "--sweep", "sweep.csv", "--headline-lr-ratio", "1", "--threshold", "0.1", "--out", "summary.md"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return (r.stdout, try String(contentsOfFile: dir + "/summary.md", encoding: .utf8))
    }

    func testFindingsReproducedWhenTheNumbersSaySo() throws {
        try writeStudy(good: true)
        let (stdout, md) = try summary()
        for f in ["(a)", "(b)", "(c)", "(d)"] { XCTAssertTrue(stdout.contains("finding=\(f) result=reproduced"), stdout) }
        XCTAssertTrue(md.contains("| Local DE | 2 | 75.00 | 0.650 | 76.00 | 0.600 |"), md)
        XCTAssertTrue(md.contains("+5.00 points"), md)
        XCTAssertTrue(md.contains("from cycle LR ratio x16 on"), md)
    }

    func testFindingsNotReproducedWhenTheNumbersDisagree() throws {
        try writeStudy(good: false)
        let (stdout, _) = try summary()
        for f in ["(a)", "(b)", "(c)"] { XCTAssertTrue(stdout.contains("finding=\(f) result=not_reproduced"), stdout) }
        XCTAssertTrue(stdout.contains("finding=(d) result=reproduced"), stdout)
    }

    func testMissingMethodIsNotMeasured() throws {
        try writeStudy(good: true)
        try write("soups.csv", ["soup,kind,members_offered,members_kept,holdout_accuracy,test_accuracy,test_loss,file"])
        let (stdout, _) = try summary()
        XCTAssertTrue(stdout.contains("finding=(d) result=not_measured"), stdout)
    }

    func testDiversityJoinAddsTheMethodColumn() throws {
        let header = "a,b,disagreement,kl_ab,kl_ba,l2,cosine,dist_ref_a,dist_ref_b,reference_space"
        try write("d1.csv", [header, "m1,m2,0.1,0.2,0.3,4,,,,"])
        try write("d2.csv", [header, "n1,n2,0.2,0.2,0.3,4,0.5,1,1,features", "n1,n3,0.3,0.2,0.3,4,0.5,1,1,features"])
        let r = try run(["report", "diversity", "local-de=d1.csv", "sse=d2.csv", "--csv", "all.csv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: dir + "/all.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), "method," + header)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[2], "sse,n1,n2,0.2,0.2,0.3,4,0.5,1,1,features")
    }

    func testBadTableIsRefusedByName() throws {
        try writeStudy(good: true)
        try write("barriers.csv", ["pair,a,b", "local-de,a,b"])
        let r = try run(["report", "summary", "--ensembles", "ensembles.csv", "--barriers", "barriers.csv", "--soups", "soups.csv",
                         "--sweep", "sweep.csv", "--headline-lr-ratio", "1", "--threshold", "0.1", "--out", "summary.md"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("barriers.csv lacks the column"), r.stderr)
    }
}
