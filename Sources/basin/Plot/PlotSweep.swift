import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinPlot
import Foundation

/// One value of a sweep: a method's cell (cycle LR ratio, cycle epoch ratio).
struct SweepValue {
    var method: String
    var lrRatio: Double
    var epochRatio: Double
    var value: Double
    var source: String
}

/// `basin plot sweep ...`: SSE and StarSSE side by side over cycle LR ratio x cycle epoch ratio.
struct PlotSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Heatmaps over cycle LR ratio x cycle epoch ratio, one panel per method (SSE, StarSSE), values in the cells.",
        discussion: """
            Inputs, mixed freely:
              * a folder written by basin sweep (member-1.h5 and lr<r>_ep<e>/ cells with manifest.json), or one cell
                folder: ensemble_accuracy, ensemble_nll, member_accuracy, member_nll from the members' saved test
                predictions (member_* average the cycle members 2..N; member 1 is shared by every cell);
              * a basin interpolate file whose B checkpoint lies in a cell folder (lr<r>_ep<e>/member-k.h5):
                barrier (test loss barrier) and barrier_error (test error barrier), method from the cell's manifest;
              * a CSV table with columns method,lr_ratio,epoch_ratio and a column named like --metric.
            Several values for one method and cell are averaged.
            """)

    @Argument(help: "Sweep folders, cell folders, interpolation files (.h5) or tables (.csv).") var inputs: [String]
    @OptionGroup var figure: FigureOptions
    @Option(help: "ensemble_accuracy, member_accuracy, ensemble_nll, member_nll, barrier, barrier_error, or a CSV column.")
    var metric: String = "ensemble_accuracy"
    @OptionGroup var color: ColorOptions
    @Option(help: "Comma-separated methods, one panel each, in this order (default: sse, starsse, then others).")
    var methods: String?
    @Option(help: "Decimals written in the cells (default: three significant digits of the largest value).") var decimals: Int?
    @Option(help: "Also write the table drawn (method,lr_ratio,epoch_ratio,<metric>) to this CSV file.") var csv: String?

    static let known: [String: (label: String, scale: Double)] = [
        "ensemble_accuracy": ("ensemble accuracy (%)", 100), "member_accuracy": ("member accuracy (%)", 100),
        "ensemble_nll": ("ensemble NLL", 1), "member_nll": ("member NLL", 1),
        "barrier": ("loss barrier to member 1", 1), "barrier_error": ("error barrier to member 1 (%)", 100),
        // Columns of the pipeline's sweep table (basin report sweep).
        "snapshot_accuracy": ("snapshot accuracy (%)", 100), "snapshot_nll": ("snapshot NLL", 1),
        "snapshot_barrier_loss": ("loss barrier to member 1", 1),
        "snapshot_barrier_error": ("error barrier to member 1 (%)", 100),
    ]
    /// How the recipes' method names read in figures (other names are kept as given).
    static let displayNames = ["sse": "SSE", "starsse": "StarSSE", "fge": "FGE", "local-de": "Local DE",
                               "global-de": "Global DE", "scratch-de": "DE from scratch"]

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one sweep folder, interpolation file or CSV table") }
        guard !metric.isEmpty, !metric.contains(",") else { throw ValidationError("--metric must name one metric") }
        if let decimals, !(0...6).contains(decimals) { throw ValidationError("--decimals must be in 0...6, got \(decimals)") }
    }

    func run() throws {
        var values: [SweepValue] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
                throw PlotInputError("sweep input \(input) does not exist")
            }
            if isFolder.boolValue {
                values += try folderValues(input)
            } else if input.lowercased().hasSuffix(".csv") {
                values += try csvValues(input)
            } else {
                values += [try interpolationValue(input)]
            }
        }
        guard !values.isEmpty else { throw PlotInputError("no \(metric) values in \(inputs.joined(separator: ", "))") }

        // Average repeated cells; order panels sse, starsse, others.
        var found: [String] = []
        for v in values where !found.contains(v.method) { found.append(v.method) }
        var panelsOrder = ["sse", "starsse"].filter(found.contains) + found.filter { !["sse", "starsse"].contains($0) }.sorted()
        if let methods {
            panelsOrder = commaList(methods)
            for m in panelsOrder where !found.contains(m) {
                throw ValidationError("--methods: no values for method '\(m)' (found: \(found.joined(separator: ", ")))")
            }
        }
        let chosen = values.filter { panelsOrder.contains($0.method) }
        let lrs = Array(Set(chosen.map(\.lrRatio))).sorted(), eps = Array(Set(chosen.map(\.epochRatio))).sorted()
        let scale = Self.known[metric]?.scale ?? 1
        var rows: [[String]] = []
        let panels = panelsOrder.map { method -> MatrixPanel in
            let matrix = eps.map { e in
                lrs.map { r -> Double in
                    let cell = chosen.filter { $0.method == method && $0.lrRatio == r && $0.epochRatio == e && $0.value.isFinite }
                    guard !cell.isEmpty else { return .nan }
                    let mean = cell.map(\.value).reduce(0, +) / Double(cell.count)
                    rows.append([method, formatNumber(r), formatNumber(e), formatNumber(mean)])
                    return mean * scale
                }
            }
            return MatrixPanel(title: Self.displayNames[method] ?? method, values: matrix)
        }
        let heatmap = AnnotatedHeatmap(
            panels: panels, rowLabels: eps.map(ratioLabel), columnLabels: lrs.map(ratioLabel),
            rowTitle: "cycle epoch ratio", columnTitle: "cycle LR ratio",
            valueLabel: Self.known[metric]?.label ?? metric, title: figure.title, colormap: try color.parsedColormap(),
            logScale: color.log, colorRange: color.range, decimals: decimals, firstRowAtTop: false,
            size: figure.figureSize(height: panels.count > 1 ? 1.9 : 2.4))
        try figure.write(heatmap, kind: "sweep", sources: inputs, extra: [("Metric", metric)])
        if let csv { try writeCSV(path: csv, header: ["method", "lr_ratio", "epoch_ratio", metric], rows: rows) }
        printRecord([("figure", "sweep"), ("metric", metric), ("methods", panelsOrder.joined(separator: ",")),
                     ("lr_ratios", lrs.map(formatNumber).joined(separator: ",")),
                     ("epoch_ratios", eps.map(formatNumber).joined(separator: ",")), ("cells", String(rows.count)),
                     ("out", figure.out), ("width", String(heatmap.size.pixelWidth)), ("height", String(heatmap.size.pixelHeight))])
    }

    func ratioLabel(_ r: Double) -> String {
        r == r.rounded() ? String(Int(r)) : formatNumber(r)
    }

    // MARK: inputs

    func csvValues(_ path: String) throws -> [SweepValue] {
        let table = try CSVTable(path: path)
        let method = try table.column("method"), lr = try table.column("lr_ratio"), ep = try table.column("epoch_ratio")
        let value = try table.column(metric)
        return try table.rows.map { row in
            let r = try table.number(row, lr), e = try table.number(row, ep)
            guard r > 0, e > 0 else { throw PlotInputError("\(path) line \(row.line): ratios must be positive numbers") }
            return SweepValue(method: row.fields[method], lrRatio: r, epochRatio: e, value: try table.number(row, value), source: path)
        }
    }

    /// The ratios a cell folder name `lr<r>_ep<e>` carries.
    static func cellRatios(_ folder: String) -> (Double, Double)? {
        let name = URL(fileURLWithPath: folder).lastPathComponent
        guard name.hasPrefix("lr"), let sep = name.range(of: "_ep") else { return nil }
        guard let r = Double(name[name.index(name.startIndex, offsetBy: 2)..<sep.lowerBound]),
              let e = Double(name[sep.upperBound...]), r > 0, e > 0 else { return nil }
        return (r, e)
    }

    static func manifest(_ folder: String) throws -> [String: Any] {
        let path = folder + "/manifest.json"
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PlotInputError("\(path) is missing or not a JSON object")
        }
        return object
    }

    func folderValues(_ folder: String) throws -> [SweepValue] {
        guard ["ensemble_accuracy", "ensemble_nll", "member_accuracy", "member_nll"].contains(metric) else {
            throw PlotInputError("\(folder): a sweep folder gives ensemble_accuracy, ensemble_nll, member_accuracy or member_nll, "
                                 + "not \(metric) (give interpolation files or a CSV table for it)")
        }
        var cells: [String] = []
        if FileManager.default.fileExists(atPath: folder + "/manifest.json"), Self.cellRatios(folder) != nil {
            cells = [folder]
        } else {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            cells = names.sorted().map { folder + "/" + $0 }.filter {
                Self.cellRatios($0) != nil && FileManager.default.fileExists(atPath: $0 + "/manifest.json")
            }
        }
        guard !cells.isEmpty else {
            throw PlotInputError("\(folder) is not a sweep folder: no lr<r>_ep<e> cell folders with manifest.json")
        }
        var result: [SweepValue] = []
        for cell in cells {
            let (r, e) = Self.cellRatios(cell)!
            let manifest = try Self.manifest(cell)
            guard let method = manifest["method"] as? String, let members = manifest["members"] as? [[String: Any]] else {
                throw PlotInputError("\(cell)/manifest.json has no method or members list")
            }
            let files = members.compactMap { $0["file"] as? String }.map { $0.hasPrefix("/") ? $0 : cell + "/" + $0 }
            let missing = files.filter { !FileManager.default.fileExists(atPath: $0) }
            guard missing.isEmpty, files.count >= 2 else {
                warn("\(cell): \(missing.count) of \(files.count) members missing; cell left empty")
                continue
            }
            let predictions = try files.map { file -> PredictiveDistribution in
                let checkpoint = try readCheckpoint(path: file)
                guard let p = checkpoint.predictions["test"] else {
                    throw PlotInputError("\(file) holds no test predictions (run basin evaluate --save-predictions)")
                }
                return try PredictiveDistribution(probs: p.probs.storage.map(Double.init), labels: p.labels.map { Int($0) },
                                                  numClasses: p.probs.shape.last ?? 0)
            }
            let value: Double
            switch metric {
            case "ensemble_accuracy", "ensemble_nll":
                let m = CalibrationMetrics(try PredictiveDistribution.mean(predictions))
                value = metric == "ensemble_accuracy" ? m.accuracy : m.nll
            default:
                let m = CalibrationMetrics.mean(predictions.dropFirst().map { CalibrationMetrics($0) })
                value = metric == "member_accuracy" ? m.accuracy : m.nll
            }
            result.append(SweepValue(method: method, lrRatio: r, epochRatio: e, value: value, source: cell))
        }
        return result
    }

    func interpolationValue(_ path: String) throws -> SweepValue {
        guard metric == "barrier" || metric == "barrier_error" else {
            throw PlotInputError("\(path): an interpolation file gives barrier or barrier_error, not \(metric)")
        }
        let results = try InterpolationResults(path: path)
        guard let test = results.splits["test"], let value = test.attributes[metric == "barrier" ? "barrier_loss" : "barrier_error"] else {
            throw PlotInputError("\(path) holds no test barrier")
        }
        let folder = (results.bPath as NSString).deletingLastPathComponent
        guard let (r, e) = Self.cellRatios(folder) else {
            throw PlotInputError("\(path): its B checkpoint \(results.bPath) is not in a sweep cell folder (lr<r>_ep<e>)")
        }
        // The stored path is as basin interpolate was given it: from its working folder, or from this file's.
        var candidates = [folder]
        if !folder.hasPrefix("/") { candidates.append(((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(folder)) }
        guard let cell = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/manifest.json") }),
              let method = (try? Self.manifest(cell))?["method"] as? String else {
            throw PlotInputError("\(path): cannot tell the method of \(results.bPath): no manifest.json in its cell folder")
        }
        return SweepValue(method: method, lrRatio: r, epochRatio: e, value: value, source: path)
    }
}
