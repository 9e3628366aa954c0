import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinHDF5
import BasinPlot
import Foundation

/// One split of a `basin interpolate` results file.
struct InterpolationSplit {
    var loss: [Double]
    var error: [Double]
    /// Stored barriers: `barrier_loss`, `barrier_loss_alpha`, `barrier_loss_mean`, ... (docs/ANALYSIS.md).
    var attributes: [String: Double]
}

/// A `basin interpolate` results file.
struct InterpolationResults {
    var path: String
    var aPath: String
    var bPath: String
    var alpha: [Double]
    /// "test" and, with --train, "train".
    var splits: [String: InterpolationSplit]

    init(path: String) throws {
        let format = try resultsFormat(path, what: "interpolation file written by basin interpolate")
        guard format == "basin-interpolation" else {
            let hint = format == LandscapeGrid.formatName ? " (plot it with basin plot plane or basin plot simplex)" : ""
            throw PlotInputError("\(path) is a \(format) file, not an interpolation file written by basin interpolate\(hint)")
        }
        do {
            let root = try HDF5File.open(path: path).root
            func text(_ name: String) throws -> String {
                guard case .string(let s)? = try root.attribute(name) else { throw PlotInputError("\(path): attribute \(name) missing") }
                return s
            }
            self.path = path
            aPath = try text("a_path")
            bPath = try text("b_path")
            alpha = try root.readDataset("alpha").values.asDoubles
            guard alpha.count >= 2 else { throw PlotInputError("\(path) holds \(alpha.count) points; a curve needs 2 or more") }
            splits = [:]
            for name in ["test", "train"] where try root.contains(name) {
                let group = try root.openGroup(name)
                let loss = try group.readDataset("loss").values.asDoubles, error = try group.readDataset("error").values.asDoubles
                guard loss.count == alpha.count, error.count == alpha.count else {
                    throw PlotInputError("\(path): /\(name) holds \(loss.count) losses and \(error.count) errors for \(alpha.count) alphas")
                }
                var attributes: [String: Double] = [:]
                for key in try group.attributeNames() {
                    if case .float64(let v)? = try group.attribute(key) { attributes[key] = v }
                }
                splits[name] = InterpolationSplit(loss: loss, error: error, attributes: attributes)
            }
            guard !splits.isEmpty else { throw PlotInputError("\(path) holds neither a test nor a train curve") }
        } catch let error as PlotInputError {
            throw error
        } catch {
            throw PlotInputError("\(path): \(error)")
        }
    }
}

/// `basin plot interpolation R1.h5 R2.h5 ...`: loss and error along segments, barriers marked.
struct PlotInterpolation: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interpolation",
        abstract: "Loss and error against alpha along one or more segments (basin interpolate), barriers marked.",
        discussion: "One color per file, solid for test and dashed for train. The barrier is a dotted vertical line "
            + "from the baseline to the curve at the alpha of the largest excess, topped by a diamond.")

    @Argument(help: "Results files written by basin interpolate.") var files: [String]
    @OptionGroup var figure: FigureOptions
    @Option(help: "Comma-separated legend labels, one per file (default: 'A → B' from the file's checkpoints).")
    var labels: String?
    @Option(help: "Panels, comma-separated: loss, error.") var metrics: String = "loss,error"
    @Option(help: "Splits to draw, comma-separated: test, train (default: those present).") var splits: String?
    @Option(help: "Barrier to mark: linear (over the line between the ends), mean (over the ends' mean) or none.")
    var barrier: String = "linear"
    @Flag(help: "Logarithmic y axis for loss.") var logLoss = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one interpolation file") }
        guard ["linear", "mean", "none"].contains(barrier) else {
            throw ValidationError("--barrier must be linear, mean or none, got '\(barrier)'")
        }
        let panels = commaList(metrics)
        guard !panels.isEmpty, panels.allSatisfy({ ["loss", "error"].contains($0) }), Set(panels).count == panels.count else {
            throw ValidationError("--metrics must list loss and/or error, got '\(metrics)'")
        }
        if let splits {
            let list = commaList(splits)
            guard !list.isEmpty, list.allSatisfy({ ["test", "train"].contains($0) }) else {
                throw ValidationError("--splits must list test and/or train, got '\(splits)'")
            }
        }
        if let labels, commaList(labels).count != files.count {
            throw ValidationError("--labels has \(commaList(labels).count) entries for \(files.count) files")
        }
    }

    func run() throws {
        let results = try files.map { try InterpolationResults(path: $0) }
        let names: [String]
        if let labels {
            names = commaList(labels)
        } else {
            let ends = shortLabels(results.flatMap { [$0.aPath, $0.bPath] })
            names = results.indices.map { "\(ends[2 * $0]) \u{2192} \(ends[2 * $0 + 1])" }
        }
        let wanted = splits.map(commaList) ?? ["test", "train"]
        let present = wanted.filter { split in results.contains { $0.splits[split] != nil } }
        guard !present.isEmpty else {
            throw PlotInputError("no file holds a \(wanted.joined(separator: " or ")) curve (train needs basin interpolate --train)")
        }
        for r in results where splits != nil {
            for split in wanted where r.splits[split] == nil { warn("\(r.path) holds no \(split) curve") }
        }
        var panels: [LinePanel] = []
        var anyBarrier = false
        for metric in commaList(metrics) {
            let scale = metric == "error" ? 100.0 : 1.0
            var series: [LineSeries] = []
            var barriers: [LineSeries] = []
            for (index, r) in results.enumerated() {
                let color = Color.cycle[index % Color.cycle.count]
                for split in present {
                    guard let s = r.splits[split] else { continue }
                    let values = (metric == "loss" ? s.loss : s.error).map { $0 * scale }
                    series.append(LineSeries(name: names[index], x: r.alpha, y: values,
                                             style: split == "train" ? .dashed : .solid, color: color))
                    guard barrier != "none" else { continue }
                    let key = "barrier_\(metric)" + (barrier == "mean" ? "_mean" : "")
                    guard let height = s.attributes[key], let at = s.attributes[key + "_alpha"],
                          height > 0, at > 0, at < 1, let i = r.alpha.firstIndex(of: at) else { continue }
                    let top = values[i], base = top - height * scale
                    barriers.append(LineSeries(name: names[index], x: [at, at], y: [base, top], style: .dotted, color: color,
                                               inLegend: false))
                    barriers.append(LineSeries(name: names[index], x: [at], y: [top], marker: .diamond, color: color,
                                               inLegend: false))
                    anyBarrier = true
                    printRecord([("file", r.path), ("split", split), ("metric", metric), ("barrier", formatNumber(height)),
                                 ("alpha", formatNumber(at))])
                }
            }
            panels.append(LinePanel(xLabel: "\u{03B1}", yLabel: metric == "loss" ? "loss" : "error (%)", series: series + barriers,
                                    logY: metric == "loss" && logLoss))
        }
        var extra: [LegendItem] = []
        if present.count > 1 {
            extra.append(LegendItem(name: "test", color: Color(hex: 0x404040), style: .solid))
            extra.append(LegendItem(name: "train", color: Color(hex: 0x404040), style: .dashed))
        }
        if anyBarrier {
            extra.append(LegendItem(name: barrier == "mean" ? "barrier (over mean)" : "barrier", color: Color(hex: 0x404040),
                                    style: .dotted, marker: .diamond))
        }
        let chart = try figure.fittingLegend(LineChart(panels: panels, title: figure.title, extraLegend: extra,
                                                       size: figure.figureSize(height: panels.count > 1 ? 2.3 : 2.4)))
        try figure.write(chart, kind: "interpolation", sources: files)
        printRecord([("figure", "interpolation"), ("files", String(files.count)), ("out", figure.out),
                     ("width", String(chart.size.pixelWidth)), ("height", String(chart.size.pixelHeight))])
    }
}

/// `basin plot ensembles M.csv ...`: ensemble quality against the number of members.
struct PlotEnsembles: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ensembles",
        abstract: "Ensemble accuracy (or NLL, Brier, ECE) against the number of members, one line per method (basin metrics).",
        discussion: "Reads the kind=ensemble rows of one or more basin metrics tables. Rows with the same method and "
            + "size (several runs, e.g. tables of different seeds) give the mean as the line and mean ± one standard "
            + "deviation as a band.")

    @Argument(help: "Tables written by basin metrics (columns method,kind,size,accuracy,nll,...).") var files: [String]
    @OptionGroup var figure: FigureOptions
    @Option(help: "accuracy, nll, brier or ece.") var metric: String = "accuracy"
    @Option(help: "Comma-separated methods to draw, in this order (default: all, in table order).") var methods: String?
    @Option(help: "Comma-separated legend labels, one per drawn method.") var labels: String?
    @Option(help: "Band over several runs: std (mean ± one standard deviation), minmax or none.") var band: String = "std"
    @Flag(help: "Also draw each method's mean single-member value (kind=member_mean rows) as a dotted line.")
    var memberMean = false

    static let metricLabels = ["accuracy": ("ensemble accuracy (%)", 100.0), "nll": ("ensemble NLL", 1.0),
                               "brier": ("ensemble Brier score", 1.0), "ece": ("ensemble ECE (%)", 100.0)]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one metrics table") }
        guard Self.metricLabels[metric] != nil else {
            throw ValidationError("unknown --metric '\(metric)': use accuracy, nll, brier or ece")
        }
        guard ["std", "minmax", "none"].contains(band) else { throw ValidationError("--band must be std, minmax or none, got '\(band)'") }
    }

    func run() throws {
        // method -> size -> values over runs; member_mean values per method.
        var order: [String] = []
        var curves: [String: [Int: [Double]]] = [:]
        var means: [String: [Double]] = [:]
        for file in files {
            let table = try CSVTable(path: file)
            let method = try table.column("method"), kind = try table.column("kind"), size = try table.column("size")
            let value = try table.column(metric)
            for row in table.rows {
                let name = row.fields[method]
                guard !name.isEmpty else { throw PlotInputError("\(file) line \(row.line): empty method") }
                let v = try table.number(row, value)
                switch row.fields[kind] {
                case "ensemble":
                    let k = try table.number(row, size)
                    guard k >= 1, k == k.rounded() else {
                        throw PlotInputError("\(file) line \(row.line): size '\(row.fields[size])' is not a positive whole number")
                    }
                    if !order.contains(name) { order.append(name) }
                    curves[name, default: [:]][Int(k), default: []].append(v)
                case "member_mean":
                    means[name, default: []].append(v)
                default:
                    throw PlotInputError("\(file) line \(row.line): kind '\(row.fields[kind])' is neither ensemble nor member_mean")
                }
            }
        }
        guard !order.isEmpty else { throw PlotInputError("\(files.joined(separator: ", ")) hold no kind=ensemble rows") }
        var chosen = order
        if let methods {
            chosen = commaList(methods)
            for name in chosen where curves[name] == nil {
                throw ValidationError("--methods: no method '\(name)' in the tables (methods: \(order.joined(separator: ", ")))")
            }
        }
        var names = chosen.map { PlotSweep.displayNames[$0] ?? $0 }
        if let labels {
            let given = commaList(labels)
            guard given.count == chosen.count else {
                throw ValidationError("--labels has \(given.count) entries for \(chosen.count) methods")
            }
            names = given
        }
        let (axisLabel, scale) = Self.metricLabels[metric]!
        var series: [LineSeries] = []
        var sizes = Set<Int>()
        var runsPerMethod: [String] = []
        for (index, method) in chosen.enumerated() {
            let color = Color.cycle[index % Color.cycle.count]
            let points = curves[method]!.keys.sorted()
            sizes.formUnion(points)
            var y: [Double] = [], lower: [Double] = [], upper: [Double] = []
            var runs = 0
            for k in points {
                let values = curves[method]![k]!.filter { $0.isFinite }.map { $0 * scale }
                runs = max(runs, values.count)
                let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
                y.append(mean)
                if values.count > 1 {
                    let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
                    lower.append(band == "minmax" ? values.min()! : mean - sd)
                    upper.append(band == "minmax" ? values.max()! : mean + sd)
                } else {
                    lower.append(mean)
                    upper.append(mean)
                }
            }
            let hasBand = band != "none" && runs > 1
            series.append(LineSeries(name: names[index], x: points.map(Double.init), y: y, lower: hasBand ? lower : nil,
                                     upper: hasBand ? upper : nil, marker: .circle, color: color))
            runsPerMethod.append("\(method):\(runs)")
            if memberMean, let values = means[method]?.filter({ $0.isFinite }), !values.isEmpty, let first = points.first,
               let last = points.last {
                let m = values.reduce(0, +) / Double(values.count) * scale
                series.append(LineSeries(name: names[index], x: [Double(first), Double(last)], y: [m, m], style: .dotted,
                                         color: color, inLegend: false))
            }
        }
        let sorted = sizes.sorted()
        // Whole sizes only; thinned to about eight ticks for long curves.
        let every = max(1, (sorted.count + 7) / 8)
        let ticks = sorted.enumerated().filter { $0.offset % every == 0 }.map { Double($0.element) }
        var extra: [LegendItem] = []
        if memberMean { extra.append(LegendItem(name: "single member (mean)", color: Color(hex: 0x404040), style: .dotted)) }
        // A quarter step of room beyond the first and last size keeps their markers whole.
        let pad = 0.25 * Double(max(1, (sorted.last ?? 1) - (sorted.first ?? 1)) ) / Double(max(1, sorted.count - 1))
        let xRange = (Double(sorted.first ?? 1) - pad)...(Double(sorted.last ?? 1) + pad)
        let chart = try figure.fittingLegend(LineChart(
            panels: [LinePanel(xLabel: "number of members", yLabel: axisLabel, series: series, xTicks: ticks, xRange: xRange)],
            title: figure.title, extraLegend: extra, size: figure.figureSize(height: 2.4)))
        try figure.write(chart, kind: "ensembles", sources: files, extra: [("Metric", metric)])
        printRecord([("figure", "ensembles"), ("metric", metric), ("methods", chosen.joined(separator: ",")),
                     ("runs", runsPerMethod.joined(separator: ",")), ("out", figure.out),
                     ("width", String(chart.size.pixelWidth)), ("height", String(chart.size.pixelHeight))])
    }
}
