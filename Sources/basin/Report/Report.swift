import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinHDF5
import Foundation

// `basin report`: the pipeline's tables for notebooks (notebooks-data/README.md) and its
// generated summary. Every subcommand reads results files the analysis commands wrote and
// computes nothing new, apart from means and comparisons.

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Collect results files into CSV tables and write the study's summary (notebooks-data/).",
        subcommands: [ReportBarriers.self, ReportSoups.self, ReportPlanes.self, ReportDiversity.self, ReportSweep.self,
                      ReportSummary.self])
}

extension Dictionary where Key == String, Value == String {
    func number(_ key: String) -> Double? {
        guard let s = self[key], !s.isEmpty else { return nil }
        return s == "nan" ? .nan : Double(s)
    }
}

func attributeDouble(_ group: HDF5Group, _ name: String) throws -> Double? {
    switch try group.attribute(name) {
    case .float64(let v)?: return v
    case .int64(let v)?: return Double(v)
    case .uint64(let v)?: return Double(v)
    default: return nil
    }
}

func attributeString(_ group: HDF5Group, _ name: String) throws -> String? {
    if case .string(let s)? = try group.attribute(name) { return s }
    return nil
}

/// Barriers and curves of `basin interpolate` results files.
struct ReportBarriers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barriers",
        abstract: "Barrier table (and curves) of interpolation results files given as NAME=R.h5.")

    @Argument(help: "NAME=R.h5 from basin interpolate.") var inputs: [NamedFile]
    @Option(help: "Barrier table (CSV), one row per input.") var csv: String
    @Option(help: "Curves in long format (CSV): pair, alpha, test loss, accuracy, error.") var curvesCsv: String?

    static let header = ["pair", "a", "b", "points", "barrier_loss", "barrier_loss_alpha", "barrier_error",
                         "barrier_error_alpha", "barrier_loss_mean", "barrier_error_mean", "loss_a", "loss_b",
                         "error_a", "error_b"]

    func run() throws {
        var rows: [[String]] = [], curves: [[String]] = []
        for input in inputs {
            let file = try HDF5File.open(path: input.path)
            let root = try file.root
            guard try attributeString(root, "format") == "basin-interpolation" else {
                throw AnalysisError("\(input.path) is not a basin interpolation results file")
            }
            let test = try root.openGroup("test")
            let alpha = try root.readDataset("alpha").values.asDoubles
            let loss = try test.readDataset("loss").values.asDoubles
            let accuracy = try test.readDataset("accuracy").values.asDoubles
            let error = try test.readDataset("error").values.asDoubles
            guard !alpha.isEmpty, loss.count == alpha.count, accuracy.count == alpha.count, error.count == alpha.count else {
                throw AnalysisError("\(input.path): curves and alpha differ in length")
            }
            rows.append([input.name, try attributeString(root, "a_path") ?? "", try attributeString(root, "b_path") ?? "",
                         String(alpha.count)]
                        + (try ["barrier_loss", "barrier_loss_alpha", "barrier_error", "barrier_error_alpha",
                                "barrier_loss_mean", "barrier_error_mean"].map { formatNumber(try attributeDouble(test, $0)) })
                        + [loss.first!, loss.last!, error.first!, error.last!].map(formatNumber))
            for i in alpha.indices {
                curves.append([input.name, formatNumber(alpha[i]), formatNumber(loss[i]), formatNumber(accuracy[i]),
                               formatNumber(error[i])])
            }
            try file.close()
        }
        try writeCSV(path: csv, header: Self.header, rows: rows)
        if let curvesCsv {
            try writeCSV(path: curvesCsv, header: ["pair", "alpha", "test_loss", "test_accuracy", "test_error"], rows: curves)
        }
        printRecord([("pairs", String(rows.count)), ("csv", csv)])
    }
}

/// The metrics `basin soup` stores in its soup checkpoints.
struct ReportSoups: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soups",
        abstract: "Soup table of soup checkpoints given as NAME=SOUP.h5.")

    @Argument(help: "NAME=SOUP.h5 from basin soup.") var inputs: [NamedFile]
    @Option(help: "Soup table (CSV).") var csv: String

    static let header = ["soup", "kind", "members_offered", "members_kept", "holdout_accuracy", "test_accuracy", "test_loss",
                         "file"]

    func run() throws {
        var rows: [[String]] = []
        for input in inputs {
            let meta = try readCheckpoint(path: input.path).metadata
            guard meta.role == .soup else { throw AnalysisError("\(input.path) is not a soup (role \(meta.role.rawValue))") }
            let kind = (meta.method ?? "").replacingOccurrences(of: "_soup", with: "")
            rows.append([input.name, kind] + ["members_offered", "members_kept", "holdout_accuracy", "test_accuracy",
                                              "test_loss"].map { formatNumber(meta.metrics[$0]) } + [input.path])
        }
        try writeCSV(path: csv, header: Self.header, rows: rows)
        printRecord([("soups", String(rows.count)), ("csv", csv)])
    }
}

/// Planes in long format, and the positions of their defining and projected checkpoints.
struct ReportPlanes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "planes",
        abstract: "Grid values and checkpoint positions of plane or surface results files given as NAME=S.h5.")

    @Argument(help: "NAME=S.h5 from basin plane, surface or merge.") var inputs: [NamedFile]
    @Option(help: "Grid cells (CSV): plane, ix, iy, x, y, test loss, test error, done.") var csv: String
    @Option(help: "Checkpoint positions (CSV): plane, role, checkpoint, x, y, distance.") var pointsCsv: String?

    func run() throws {
        var cells: [[String]] = [], points: [[String]] = []
        for input in inputs {
            let grid = try LandscapeGrid.read(path: input.path)
            for iy in 0..<grid.ny {
                for ix in 0..<grid.nx {
                    let c = iy * grid.nx + ix
                    cells.append([input.name, String(ix), String(iy), formatNumber(grid.x[ix]), formatNumber(grid.y[iy]),
                                  formatNumber(grid.loss[c]), formatNumber(grid.error[c]), String(grid.done[c])])
                }
            }
            let roles = grid.kind == "plane" ? ["A", "B", "C"] : ["centre"]
            for (i, p) in grid.inputs.enumerated() {
                points.append([input.name, i < roles.count ? roles[i] : "input", p.label, formatNumber(p.x), formatNumber(p.y),
                               formatNumber(p.distance)])
            }
            for p in grid.projected {
                points.append([input.name, "projected", p.label, formatNumber(p.x), formatNumber(p.y), formatNumber(p.distance)])
            }
        }
        try writeCSV(path: csv, header: ["plane", "ix", "iy", "x", "y", "test_loss", "test_error", "done"], rows: cells)
        if let pointsCsv {
            try writeCSV(path: pointsCsv, header: ["plane", "role", "checkpoint", "x", "y", "distance"], rows: points)
        }
        printRecord([("planes", String(inputs.count)), ("cells", String(cells.count)), ("csv", csv)])
    }
}

/// Per-method `basin diversity` tables joined into one, with a method column.
struct ReportDiversity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diversity",
        abstract: "Join basin diversity tables given as METHOD=D.csv into one table with a method column.")

    @Argument(help: "METHOD=D.csv from basin diversity.") var inputs: [NamedFile]
    @Option(help: "Joined table (CSV).") var csv: String

    func run() throws {
        var header: [String]?
        var rows: [[String]] = []
        for input in inputs {
            let t = try CSVTable(path: input.path, allowEmpty: true)
            if header == nil { header = t.header }
            guard t.header == header else { throw AnalysisError("\(input.path) has other columns than \(inputs[0].path)") }
            rows += t.records.map { r in [input.name] + t.header.map { r[$0]! } }
        }
        try writeCSV(path: csv, header: ["method"] + (header ?? []), rows: rows)
        printRecord([("pairs", String(rows.count)), ("csv", csv)])
    }
}

/// Where a sweep cell's member file sits: `.../<method>/lr<r>_ep<e>/member-<k>.h5`.
struct CellPath {
    let method: String, lrRatio: String, epochRatio: String, member: Int

    init?(_ path: String) {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 3, let cell = CellName(parts[parts.count - 3] + "/" + parts[parts.count - 2]) else { return nil }
        let file = parts[parts.count - 1]
        guard file.hasPrefix("member-"), file.hasSuffix(".h5"),
              let k = Int(file.dropFirst("member-".count).dropLast(".h5".count)) else { return nil }
        method = cell.method
        lrRatio = cell.lrRatio
        epochRatio = cell.epochRatio
        member = k
    }
}

/// A sweep cell's method name in the metrics table: `<method>/lr<r>_ep<e>`.
struct CellName: Hashable {
    let method: String, lrRatio: String, epochRatio: String

    init?(_ name: String) {
        let parts = name.split(separator: "/").map(String.init)
        guard parts.count == 2, parts[1].hasPrefix("lr"), let sep = parts[1].range(of: "_ep") else { return nil }
        let lr = String(parts[1][parts[1].index(parts[1].startIndex, offsetBy: 2)..<sep.lowerBound])
        let ep = String(parts[1][sep.upperBound...])
        guard Double(lr) != nil, Double(ep) != nil else { return nil }
        method = parts[0]
        lrRatio = lr
        epochRatio = ep
    }
}

/// One row per (method, LR ratio, epoch ratio) cell: ensemble quality and how far its snapshots went.
struct ReportSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweep table: ensemble metrics and snapshot barriers to member 1 per cell.",
        discussion: "Metrics rows name cells <method>/lr<r>_ep<e> (basin metrics --method sse/lr2_ep1=DIR); membership "
            + "rows name checkpoints .../<method>/lr<r>_ep<e>/member-<k>.h5. Snapshot accuracy and NLL are the "
            + "test_acc and test_loss stored in the member files.")

    @Option(help: "basin metrics table of the sweep cells.") var metrics: String
    @Option(parsing: .upToNextOption, help: "basin membership tables (snapshots against member 1).") var membership: [String] = []
    @Option(help: "Sweep table (CSV).") var csv: String
    @Option(help: "All snapshots in one table (CSV).") var membershipCsv: String?

    static let header = ["method", "lr_ratio", "epoch_ratio", "n", "member1_accuracy", "member1_nll", "snapshot_accuracy",
                         "snapshot_nll", "member_accuracy", "member_nll", "ensemble_accuracy", "ensemble_nll",
                         "ensemble_brier", "ensemble_ece", "snapshot_barrier_loss", "snapshot_barrier_error",
                         "snapshots", "snapshots_in_basin", "threshold"]
    static let membershipHeader = ["method", "lr_ratio", "epoch_ratio", "member", "test_accuracy", "test_nll",
                                   "barrier_loss", "barrier_loss_alpha", "barrier_error", "barrier_loss_mean",
                                   "barrier_error_mean", "threshold", "in_basin", "checkpoint"]

    func run() throws {
        let m = try CSVTable(path: metrics, allowEmpty: true)
        try m.require(["method", "kind", "size", "accuracy", "nll", "brier", "ece"])
        var snapshots: [CellName: [[String: String]]] = [:]
        var snapshotRows: [[String]] = []
        var memberOne: [CellName: (Double, Double)] = [:]
        for path in membership {
            let t = try CSVTable(path: path, allowEmpty: true)
            try t.require(Membership.header)
            for r in t.records {
                guard let cell = CellPath(r["checkpoint"]!) else {
                    throw AnalysisError("\(path): \(r["checkpoint"]!) is not .../<method>/lr<r>_ep<e>/member-<k>.h5")
                }
                let name = CellName(cell.method + "/lr" + cell.lrRatio + "_ep" + cell.epochRatio)!
                let meta = try readCheckpoint(path: r["checkpoint"]!).metadata
                var row = r
                row["test_accuracy"] = formatNumber(meta.metrics["test_acc"])
                row["test_nll"] = formatNumber(meta.metrics["test_loss"])
                snapshots[name, default: []].append(row)
                snapshotRows.append([cell.method, cell.lrRatio, cell.epochRatio, String(cell.member)]
                                    + Self.membershipHeader[4...].map { row[$0] ?? "" })
                if memberOne[name] == nil {
                    let first = (r["checkpoint"]! as NSString).deletingLastPathComponent + "/member-1.h5"
                    let one = try readCheckpoint(path: first).metadata.metrics
                    memberOne[name] = (one["test_acc"] ?? .nan, one["test_loss"] ?? .nan)
                }
            }
        }
        var rows: [[String]] = []
        let names = m.records.map { $0["method"]! }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in names {
            // Rows of other methods (e.g. the DEE reference) are not cells.
            guard let cell = CellName(name) else { continue }
            let own = m.records.filter { $0["method"] == name }
            guard let mean = own.first(where: { $0["kind"] == "member_mean" }),
                  let n = mean.number("size").map(Int.init),
                  let full = own.first(where: { $0["kind"] == "ensemble" && $0.number("size").map(Int.init) == n }) else {
                throw AnalysisError("\(metrics): \(name) lacks its member_mean or full-size ensemble row")
            }
            let snaps = snapshots[cell] ?? []
            func avg(_ key: String) -> Double? {
                let v = snaps.compactMap { $0.number(key) }
                return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
            }
            let inBasin = snaps.filter { $0["in_basin"] == "1" }.count
            rows.append([cell.method, cell.lrRatio, cell.epochRatio, String(n), formatNumber(memberOne[cell]?.0),
                         formatNumber(memberOne[cell]?.1), formatNumber(avg("test_accuracy")), formatNumber(avg("test_nll")),
                         formatNumber(mean.number("accuracy")), formatNumber(mean.number("nll")),
                         formatNumber(full.number("accuracy")), formatNumber(full.number("nll")),
                         formatNumber(full.number("brier")), formatNumber(full.number("ece")),
                         formatNumber(avg("barrier_loss")), formatNumber(avg("barrier_error")),
                         String(snaps.count), snaps.isEmpty ? "" : String(inBasin), snaps.first?["threshold"] ?? ""])
        }
        rows.sort { a, b in
            a[0] != b[0] ? a[0] < b[0] : (Double(a[1])!, Double(a[2])!) < (Double(b[1])!, Double(b[2])!)
        }
        try writeCSV(path: csv, header: Self.header, rows: rows)
        if let membershipCsv {
            snapshotRows.sort { a, b in
                a[0] != b[0] ? a[0] < b[0]
                    : (Double(a[1])!, Double(a[2])!, Int(a[3])!) < (Double(b[1])!, Double(b[2])!, Int(b[3])!)
            }
            try writeCSV(path: membershipCsv, header: Self.membershipHeader, rows: snapshotRows)
        }
        printRecord([("cells", String(rows.count)), ("snapshots", String(snapshotRows.count)), ("csv", csv)])
    }
}
