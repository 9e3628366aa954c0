import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// `member-<n>.h5` files of a folder in numeric order of n.
func memberFiles(in folder: String) throws -> [String] {
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
        throw AnalysisError("cannot list \(folder): \(error.localizedDescription)")
    }
    let numbered = names.compactMap { name -> (Int, String)? in
        guard name.hasPrefix("member-"), name.hasSuffix(".h5"),
              let n = Int(name.dropFirst("member-".count).dropLast(".h5".count)) else { return nil }
        return (n, folder + "/" + name)
    }
    guard !numbered.isEmpty else { throw AnalysisError("\(folder) holds no member-*.h5 files") }
    return numbered.sorted { $0.0 < $1.0 }.map(\.1)
}

/// Ensemble quality against ensemble size, per method, and deep-ensemble equivalents.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Accuracy, NLL, Brier and ECE of the first k members' ensemble of each method, and the DEE.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "A method and the folder of its member-*.h5 files (repeatable).") var method: [NamedFile] = []
    @Option(help: "Table (CSV).") var csv: String
    @Option(help: "Method the deep-ensemble equivalent is measured against (a Local DE).") var deeReference: String?
    @Option(help: "Metric of the DEE: nll, accuracy, brier or ece.") var deeMetric: String = "nll"
    @Option(help: "Confidence bins of the ECE.") var bins: Int = 15
    @Option(help: "Batch size when predictions must be computed.") var batchSize: Int = 500

    func validate() throws {
        guard !method.isEmpty else { throw ValidationError("give at least one --method NAME=DIR") }
        guard Set(method.map(\.name)).count == method.count else { throw ValidationError("--method names must be distinct") }
        if let deeReference, !method.contains(where: { $0.name == deeReference }) {
            throw ValidationError("--dee-reference \(deeReference) is not one of the --method names")
        }
        guard ["nll", "accuracy", "brier", "ece"].contains(deeMetric) else {
            throw ValidationError("--dee-metric must be nll, accuracy, brier or ece, got \(deeMetric)")
        }
        guard bins >= 1 else { throw ValidationError("--bins must be positive") }
    }

    func metricValue(_ m: CalibrationMetrics) -> Double {
        switch deeMetric {
        case "accuracy": return m.accuracy
        case "brier": return m.brier
        case "ece": return m.ece
        default: return m.nll
        }
    }

    func run() throws {
        compute.apply()
        var curves: [(name: String, ensembles: [CalibrationMetrics], memberMean: CalibrationMetrics, count: Int)] = []
        for spec in method {
            let files = try memberFiles(in: spec.path)
            let members = try AnalysisCheckpoint.loadAll(files)
            let predictions = try testPredictions(members, taskOptions: taskOptions, data: data, batchSize: batchSize)
            var ensembles: [CalibrationMetrics] = []
            var sum = predictions[0]
            ensembles.append(CalibrationMetrics(sum, bins: bins))
            for k in 1..<predictions.count {
                // Running mean: the ensemble of the first k + 1 members.
                let probs = zip(sum.probs, predictions[k].probs).map { ($0 * Double(k) + $1) / Double(k + 1) }
                guard predictions[k].labels == sum.labels else {
                    throw AnalysisError("\(files[k]) was evaluated on other examples than \(files[0])")
                }
                sum = try PredictiveDistribution(probs: probs, labels: sum.labels, numClasses: sum.numClasses)
                ensembles.append(CalibrationMetrics(sum, bins: bins))
            }
            let individual = predictions.map { CalibrationMetrics($0, bins: bins) }
            curves.append((spec.name, ensembles, CalibrationMetrics.mean(individual), files.count))
        }
        let referenceCurve = deeReference.flatMap { name in curves.first { $0.name == name } }?.ensembles.map(metricValue)
        let higherIsBetter = deeMetric == "accuracy"
        var rows: [[String]] = []
        func row(_ name: String, _ kind: String, _ size: Int, _ m: CalibrationMetrics) throws {
            var dee: DeepEnsembleEquivalent?
            if let referenceCurve { dee = try DeepEnsembleEquivalent(value: metricValue(m), reference: referenceCurve,
                                                                     higherIsBetter: higherIsBetter) }
            let r = [name, kind, String(size), formatNumber(m.accuracy), formatNumber(m.nll), formatNumber(m.brier),
                     formatNumber(m.ece), formatNumber(dee?.value), dee?.bound.rawValue ?? ""]
            rows.append(r)
            printRecord(zip(MetricsCommand.header, r).map { ($0, $1.isEmpty ? "none" : $1) })
        }
        for c in curves {
            for (k, m) in c.ensembles.enumerated() { try row(c.name, "ensemble", k + 1, m) }
            try row(c.name, "member_mean", c.count, c.memberMean)
        }
        try writeCSV(path: csv, header: MetricsCommand.header, rows: rows)
    }

    static let header = ["method", "kind", "size", "accuracy", "nll", "brier", "ece", "dee", "dee_bound"]
}
