import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation

/// Weight averages of fine-tuned checkpoints (Wortsman et al. 2022).
struct SoupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soup",
        abstract: "Average the weights of checkpoints (uniform or greedy soup), recompute BatchNorm, evaluate and save.")

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var data: DataOptions
    @OptionGroup var analysis: AnalysisDataOptions
    @Argument(help: "Member checkpoints.") var checkpoints: [String]
    @Flag(help: "Average all members.") var uniform = false
    @Flag(help: "Add members in order of held-out accuracy, keeping one only if held-out accuracy improves.") var greedy = false
    @Option(help: ArgumentHelp(
        "Held-out images per class for the greedy choice, drawn from the class's training images outside the task's per-class sample, which no member trained on.",
        valueName: "k")) var holdoutPerClass: Int = 200
    @Option(help: "Instead, hold out this fraction of the task's own training images (for tasks that use every training image; the members trained on them, so held-out accuracy is optimistic).")
    var holdoutFraction: Double?
    @Option(help: "Seed of the held-out draw.") var holdoutSeed: UInt64 = 0
    @Option(help: "The soup checkpoint.") var out: String
    @Option(help: "Greedy steps as CSV (member, held-out accuracy, kept).") var csv: String?

    func validate() throws {
        guard uniform != greedy else { throw ValidationError("choose exactly one of --uniform and --greedy") }
        guard !checkpoints.isEmpty else { throw ValidationError("soup needs at least one checkpoint") }
        guard holdoutPerClass > 0 else { throw ValidationError("--holdout-per-class must be positive, got \(holdoutPerClass)") }
        if let holdoutFraction, !(holdoutFraction > 0 && holdoutFraction < 1) {
            throw ValidationError("--holdout-fraction must be in (0, 1), got \(holdoutFraction)")
        }
    }

    func run() throws {
        compute.apply()
        let members = try AnalysisCheckpoint.loadAll(checkpoints)
        let taskData = try AnalysisData(checkpoints: members, taskOptions: analysis.taskOptions, data: data)
        guard let trainSet = taskData.train else { throw AnalysisError("soup needs the training split") }
        // The held-out images are never the test set. Preferably the members never saw them either:
        // a held-out set they trained on is near 100% accurate and a greedy soup then keeps only
        // its first member.
        let fit: Dataset, holdout: Dataset
        if let holdoutFraction {
            (fit, holdout) = try trainSet.splitHoldout(fraction: holdoutFraction, seed: holdoutSeed)
            guard holdout.count > 0, fit.count > 0 else { throw AnalysisError("held-out split of \(trainSet.count) images is empty") }
        } else {
            guard let unseen = try taskData.task.transferTask.unseenTrainingSet(
                from: taskData.data.train, count: holdoutPerClass, seed: holdoutSeed) else {
                throw AnalysisError("the task uses every training image (no per-class sample), so none is unseen; "
                                    + "give --holdout-fraction to hold out part of the training images")
            }
            (fit, holdout) = (trainSet, unseen)
        }
        let evaluator = try taskData.evaluator(model: try members[0].makeModel(), options: analysis, bnSource: fit,
                                               extraSplits: ["holdout": try FixedBatches(holdout, batchSize: analysis.batchSize)])
        let vectors = members.map(\.parameters)
        var kept = Array(members.indices)
        var steps: [Soup.Step] = []
        if greedy {
            let result = try Soup.greedy(members: vectors, evaluator: evaluator, holdout: "holdout")
            kept = result.kept
            steps = result.steps
        }
        let weights = Soup.uniform(kept.map { vectors[$0] })
        try evaluator.setWeights(parameters: weights)
        let holdoutEval = try evaluator.evaluate("holdout")
        let test = try evaluator.evaluate("eval")
        let probs = try evaluator.probabilities("eval")
        let labels = evaluator.splits["eval"]!.batches.flatMap(\.labels).map(Int64.init)
        let keptMembers = kept.map { members[$0] }
        let kind = greedy ? "greedy" : "uniform"
        let metadata = CheckpointMetadata(
            architecture: members[0].architecture.rawValue, numClasses: members[0].numClasses, role: .soup,
            config: soupConfig(base: members[0].checkpoint.metadata.config, kind: kind, members: keptMembers,
                               dataset: taskData.data.config),
            method: "\(kind)_soup", parent: jsonArray(keptMembers.map(\.path)),
            metrics: ["test_loss": test.loss, "test_accuracy": test.accuracy, "holdout_accuracy": holdoutEval.accuracy,
                      "members_kept": Double(kept.count), "members_offered": Double(members.count)])
        try writeCheckpoint(Checkpoint(model: evaluator.model, metadata: metadata,
                                       predictions: ["test": Predictions(probs: probs, labels: labels)]), to: out)
        if let csv {
            try writeCSV(path: csv, header: ["step", "member", "holdout_accuracy", "kept"],
                         rows: steps.enumerated().map { [String($0 + 1), members[$1.member].path, formatNumber($1.holdoutAccuracy),
                                                         $1.kept ? "1" : "0"] })
        }
        for s in steps where greedy {
            printRecord([("member", members[s.member].path), ("holdout_accuracy", formatNumber(s.holdoutAccuracy)),
                         ("kept", s.kept ? "1" : "0")])
        }
        printRecord([("soup", kind), ("members_kept", String(kept.count)), ("members_offered", String(members.count)),
                     ("holdout_accuracy", formatNumber(holdoutEval.accuracy)), ("test_loss", formatNumber(test.loss)),
                     ("test_accuracy", formatNumber(test.accuracy)), ("out", out)])
    }
}

/// The members' training config (so the soup keeps their task) with a `soup` entry naming the
/// kept members and their SHA-256: `parent_sha256` holds one hash, a soup has several parents.
/// The task's data set becomes `dataset`, the one the soup's BatchNorm statistics come from.
func soupConfig(base: String, kind: String, members: [AnalysisCheckpoint], dataset: DatasetConfig? = nil) -> String {
    var object = (try? JSONSerialization.jsonObject(with: Data(base.utf8))) as? [String: Any] ?? [:]
    if let dataset, var task = object["task"] as? [String: Any], let data = try? JSONEncoder().encode(dataset),
       let entry = try? JSONSerialization.jsonObject(with: data) {
        task["dataset"] = entry
        object["task"] = task
    }
    object["soup"] = ["kind": kind, "members": members.map(\.path), "sha256": members.map(\.sha256)] as [String: Any]
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return base }
    return String(decoding: data, as: UTF8.self)
}
