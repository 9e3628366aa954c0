import ArgumentParser
import BasinAnalysis
import BasinCheckpoint
import BasinHDF5
import BasinPlot
import Foundation

/// `basin plot KIND ...`: figures (PNG) from the files the analysis and recipe commands write.
/// BasinPlot draws arrays; these commands read the files, pick the numbers and name them.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a figure (PNG) from results files: plane, simplex, interpolation, ensembles or sweep.",
        discussion: "Every figure records the command line, the input files (with their SHA-256) and basin's version "
            + "as PNG text chunks. Sizes are in inches at --dpi; the defaults fit one column of a paper. See docs/PLOTS.md.",
        subcommands: [PlotPlane.self, PlotSimplex.self, PlotInterpolation.self, PlotEnsembles.self, PlotSweep.self])
}

/// A problem with an input of a figure, said in one line that names the input.
struct PlotInputError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message.replacingOccurrences(of: "\n", with: " ") }
}

/// `--size 3.4x2.8` (inches).
struct InchSize: ExpressibleByArgument {
    let width: Double, height: Double
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x").map { Double($0) }
        guard parts.count == 2, let w = parts[0], let h = parts[1], w > 0, h > 0, w.isFinite, h.isFinite else { return nil }
        width = w
        height = h
    }
}

/// Output file, size, resolution and title: the options every figure shares.
struct FigureOptions: ParsableArguments {
    @Option(name: [.short, .customLong("out")], help: "PNG file to write (written atomically).") var out: String
    @Option(help: "Figure width in inches (default: one paper column, 3.4).") var width: Double?
    @Option(help: "Figure height in inches (default: the figure's own).") var height: Double?
    @Option(help: "Width and height in inches, e.g. 3.4x2.8 (instead of --width/--height).") var size: InchSize?
    @Option(help: "Resolution in dots per inch.") var dpi: Double = 300
    @Option(help: "Title above the figure.") var title: String?

    func validate() throws {
        if size != nil && (width != nil || height != nil) { throw ValidationError("give --size or --width/--height, not both") }
        for (flag, value) in [("--width", width), ("--height", height)] {
            if let value, !(value > 0 && value.isFinite) { throw ValidationError("\(flag) must be a positive number of inches, got \(value)") }
        }
        guard dpi > 0, dpi.isFinite, dpi <= 2400 else { throw ValidationError("--dpi must be in (0, 2400], got \(dpi)") }
        guard !out.isEmpty, !out.hasSuffix("/") else { throw ValidationError("-o/--out must name a file, got '\(out)'") }
    }

    /// The figure size with the figure's defaults where no flag is given.
    func figureSize(width defaultWidth: Double = 3.4, height defaultHeight: Double) -> FigureSize {
        FigureSize(widthInches: size?.width ?? width ?? defaultWidth, heightInches: size?.height ?? height ?? defaultHeight,
                   dpi: dpi)
    }

    /// Whether the height was left to the figure.
    var defaultHeight: Bool { height == nil && size == nil }

    /// A line chart whose default height grows by a legend row for each row beyond the first, so
    /// long legends do not squeeze the panels.
    func fittingLegend(_ chart: LineChart) throws -> LineChart {
        guard defaultHeight else { return chart }
        var fitted = chart
        let extra = max(0, try chart.legendRowCount() - 1)
        fitted.size.heightInches += Double(extra) * LineChart.legendRowHeightInches
        return fitted
    }

    /// Renders `figure` to --out with the provenance chunks and reports it on stdout.
    func write(_ figure: Figure, kind: String, sources: [String], extra: [(key: String, value: String)] = []) throws {
        try ensureFolder(of: out)
        var hashes: [String] = []
        for source in sources {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), !isFolder.boolValue {
                hashes.append(try BasinHDF5.sha256(ofFile: source))
            } else {
                hashes.append("folder")
            }
        }
        let metadata = PNGMetadata(software: "basin \(BasinCheckpoint.basinVersion)", command: commandLine(),
                                   sources: sources,
                                   extra: [("Source SHA-256", hashes.joined(separator: "\n")), ("Figure", kind)] + extra)
        try figure.render(to: out, metadata: metadata)
    }

    /// The command line as typed, quoted so it can be pasted back into a shell.
    func commandLine() -> String {
        CommandLine.arguments.map { argument in
            let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./=:,+@%"))
            if !argument.isEmpty, argument.unicodeScalars.allSatisfy(plain.contains) { return argument }
            return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

/// Color scale options of the heatmap figures.
struct ColorOptions: ParsableArguments {
    @Option(help: "Colormap: viridis, magma, inferno, plasma, cividis or RdBu; append _r to reverse.")
    var colormap: String = "viridis"
    @Flag(help: "Logarithmic color scale (positive values only), e.g. for loss.") var log = false
    @Option(parsing: .unconditional, help: "Fixed color range lo:hi in the metric's displayed units (default: the data's).")
    var colorRange: RangeSpec?

    func validate() throws {
        _ = try parsedColormap()
        if log, let colorRange, colorRange.lo <= 0 { throw ValidationError("--color-range must be positive with --log") }
    }

    func parsedColormap() throws -> Colormap {
        do { return try Colormap.named(colormap) } catch { throw ValidationError("--colormap: \(error)") }
    }

    var range: ClosedRange<Double>? { colorRange.map { $0.lo...$0.hi } }
}

/// Contour options of the plane and simplex figures.
struct ContourOptions: ParsableArguments {
    @Option(help: "Contour levels: auto, none, or comma-separated values in the metric's displayed units.")
    var levels: String = "auto"
    @Option(help: "About this many automatic contour levels.") var contourCount: Int = 6
    @Flag(help: "Leave the contour lines unlabelled.") var noContourLabels = false

    func validate() throws {
        _ = try parsedLevels()
        guard contourCount >= 1 else { throw ValidationError("--contour-count must be at least 1, got \(contourCount)") }
    }

    func parsedLevels() throws -> ContourLevels {
        switch levels.lowercased() {
        case "auto": return .automatic(count: contourCount)
        case "none": return .none
        default:
            let parts = levels.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0.isFinite }) else {
                throw ValidationError("--levels must be auto, none or comma-separated numbers, got '\(levels)'")
            }
            return .explicit(values)
        }
    }
}

/// A comma-separated list option split into trimmed entries (empty entries kept).
func commaList(_ text: String) -> [String] {
    text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
}

/// Short, distinct names for files: the file name without `.h5`/`.csv` and its folder (a bare
/// `member-2` says little), with as many more parent folders as it takes to tell equal names
/// apart (runs/local/member-1, other/local/member-1).
func shortLabels(_ paths: [String], minimumDepth: Int = 2) -> [String] {
    let parts = paths.map { path -> [String] in
        var components = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if var last = components.popLast() {
            for suffix in [".h5", ".hdf5", ".csv"] where last.hasSuffix(suffix) { last = String(last.dropLast(suffix.count)) }
            components.append(last)
        }
        return components
    }
    var depth = parts.map { min(max(1, minimumDepth), max(1, $0.count)) }
    func label(_ i: Int) -> String { parts[i].suffix(depth[i]).joined(separator: "/") }
    var changed = true
    while changed {
        changed = false
        var seen: [String: [Int]] = [:]
        for i in paths.indices { seen[label(i), default: []].append(i) }
        for (_, group) in seen where group.count > 1 {
            // Identical paths stay identical; others grow until they differ.
            for i in group where depth[i] < parts[i].count && Set(group.map { paths[$0] }).count > 1 {
                depth[i] += 1
                changed = true
            }
        }
    }
    return paths.indices.map(label)
}

/// Checks that an input exists and is a regular file, naming it otherwise.
func requireFile(_ path: String, what: String) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
        throw PlotInputError("\(path) does not exist (expected a \(what))")
    }
    guard !isFolder.boolValue else { throw PlotInputError("\(path) is a folder, not a \(what)") }
}

/// The `format` attribute of an HDF5 results file, or a clear error when the file is not one.
func resultsFormat(_ path: String, what: String) throws -> String {
    try requireFile(path, what: what)
    let file: HDF5File
    do { file = try HDF5File.open(path: path) } catch let error as IntegrityError {
        throw PlotInputError("\(path) is damaged: \(error)")
    } catch {
        throw PlotInputError("\(path) is not an HDF5 file (expected a \(what))")
    }
    guard case .string(let format)? = try? file.root.attribute("format") else {
        throw PlotInputError("\(path) is an HDF5 file without a basin format attribute (expected a \(what))")
    }
    return format
}

/// A path stored in a results file, resolved against the results file's folder when it is
/// relative and not found from the working folder.
func resolveStoredPath(_ stored: String, relativeTo resultsFile: String) -> String? {
    if FileManager.default.fileExists(atPath: stored) { return stored }
    guard !stored.hasPrefix("/") else { return nil }
    let folder = URL(fileURLWithPath: resultsFile).deletingLastPathComponent()
    let candidate = folder.appendingPathComponent(stored).path
    return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
}

/// A warning on stderr (figures still get drawn).
func warn(_ message: String) {
    FileHandle.standardError.write(("warning: " + message + "\n").data(using: .utf8)!)
}

/// A metric of a figure: how it is read, named and scaled for display.
struct DisplayMetric {
    let name: String
    let label: String
    /// Factor applied for display (100 for accuracies and errors shown in percent).
    let scale: Double
}
