import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import BasinHDF5
import Foundation

/// Test-split predictions of a checkpoint: from its file when saved there, else computed with
/// its own weights and running statistics on the task's test images.
func testPredictions(_ checkpoints: [AnalysisCheckpoint], taskOptions: TaskOptions, data: DataOptions,
                     batchSize: Int) throws -> [PredictiveDistribution] {
    var result = checkpoints.map(\.savedTestPredictions)
    let missing = result.indices.filter { result[$0] == nil }
    if !missing.isEmpty {
        let taskData = try AnalysisData(checkpoints: checkpoints, taskOptions: taskOptions, data: data, needTrain: false)
        let batches = try FixedBatches(taskData.test, batchSize: batchSize)
        let labels = batches.batches.flatMap(\.labels)
        for i in missing {
            reportProgress("predicting \(checkpoints[i].path) on \(labels.count) test images")
            let evaluator = try LandscapeEvaluator(model: try checkpoints[i].makeModel(), bnBatches: nil,
                                                   splits: ["test": batches], resetBatchNorm: false)
            let probs = try evaluator.probabilities("test")
            result[i] = try PredictiveDistribution(probs: probs.storage.map(Double.init), labels: labels,
                                                   numClasses: checkpoints[i].numClasses)
        }
    }
    return result.map { $0! }
}

/// Pairwise prediction diversity and weight-space distances of checkpoints.
struct DiversityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diversity",
        abstract: "Pairwise disagreement, KL divergence and weight distances of checkpoints (and displacement from a reference).")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var taskOptions: TaskOptions
    @Argument(help: "Checkpoints (two or more).") var checkpoints: [String]
    @Option(help: "Reference checkpoint (e.g. the pre-trained model) for displacement cosines and distances.")
    var reference: String?
    @Option(help: "Pairwise table (CSV).") var csv: String
    @Option(help: "Also write the pairwise matrices (HDF5).") var out: String?
    @Option(help: "Batch size when predictions must be computed.") var batchSize: Int = 500

    func validate() throws {
        guard checkpoints.count >= 2 else { throw ValidationError("diversity needs at least two checkpoints") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be positive") }
    }

    func run() throws {
        compute.apply()
        let models = try AnalysisCheckpoint.loadAll(checkpoints)
        let predictions = try testPredictions(models, taskOptions: taskOptions, data: data, batchSize: batchSize)
        var ref: AnalysisCheckpoint?
        var refVector: [Double] = []
        var space = "all"
        if let reference {
            let r = try AnalysisCheckpoint(path: reference)
            guard r.architecture == models[0].architecture else {
                throw AnalysisError("reference \(reference) is \(r.architecture.rawValue) but the checkpoints are \(models[0].architecture.rawValue)")
            }
            guard r.input == models[0].input else {
                throw AnalysisError("reference \(reference): \(r.input) but \(models[0].path): \(models[0].input)")
            }
            // A reference with another head (pre-trained on other classes) is compared on the features only.
            space = r.numClasses == models[0].numClasses ? "all" : "features"
            refVector = space == "all" ? r.parameters : r.featureParameters
            ref = r
        }
        func vector(_ m: AnalysisCheckpoint) -> [Double] { space == "all" ? m.parameters : m.featureParameters }
        let n = models.count
        var matrices: [String: [Double]] = [:]
        for name in ["disagreement", "kl", "l2", "cosine"] { matrices[name] = [Double](repeating: .nan, count: n * n) }
        var rows: [[String]] = []
        for i in 0..<n {
            for j in 0..<n {
                let dis = try Diversity.disagreement(predictions[i], predictions[j])
                let kl = try Diversity.kl(predictions[i], predictions[j])
                let l2 = norm(subtract(models[i].parameters, models[j].parameters))
                let cos = ref == nil ? Double.nan : Diversity.displacementCosine(vector(models[i]), vector(models[j]), reference: refVector)
                matrices["disagreement"]![i * n + j] = dis
                matrices["kl"]![i * n + j] = kl
                matrices["l2"]![i * n + j] = l2
                matrices["cosine"]![i * n + j] = cos
            }
        }
        let distances = ref == nil ? [] : models.map { norm(subtract(vector($0), refVector)) }
        for i in 0..<n {
            for j in (i + 1)..<n {
                var row = [models[i].path, models[j].path, formatNumber(matrices["disagreement"]![i * n + j]),
                           formatNumber(matrices["kl"]![i * n + j]), formatNumber(matrices["kl"]![j * n + i]),
                           formatNumber(matrices["l2"]![i * n + j])]
                row += ref == nil ? ["", "", "", ""]
                    : [formatNumber(matrices["cosine"]![i * n + j]), formatNumber(distances[i]), formatNumber(distances[j]), space]
                rows.append(row)
                printRecord([("a", models[i].path), ("b", models[j].path), ("disagreement", row[2]), ("kl_ab", row[3]),
                             ("kl_ba", row[4]), ("l2", row[5])] + (ref == nil ? [] : [("cosine", row[6]), ("dist_ref_a", row[7]),
                                                                                       ("dist_ref_b", row[8])]))
            }
        }
        try writeCSV(path: csv, header: ["a", "b", "disagreement", "kl_ab", "kl_ba", "l2", "cosine", "dist_ref_a", "dist_ref_b",
                                         "reference_space"], rows: rows)
        if let out {
            try HDF5File.writeAtomically(path: out) { root in
                try root.setAttribute("format", .string("basin-diversity"))
                try root.setAttribute("format_version", .int64(1))
                try root.setAttribute("paths", .string(jsonArray(models.map(\.path))))
                try root.setAttribute("sha256", .string(jsonArray(models.map(\.sha256))))
                try root.setAttribute("examples", .int64(Int64(predictions[0].count)))
                if let ref {
                    try root.setAttribute("reference_path", .string(ref.path))
                    try root.setAttribute("reference_sha256", .string(ref.sha256))
                    try root.setAttribute("reference_space", .string(space))
                    try root.writeDataset("distance_from_reference", HDF5Array(shape: [n], values: .float64(distances)))
                }
                for name in ["disagreement", "kl", "l2"] + (ref == nil ? [] : ["cosine"]) {
                    try root.writeDataset(name, HDF5Array(shape: [n, n], values: .float64(matrices[name]!)))
                }
            }
        }
    }
}
