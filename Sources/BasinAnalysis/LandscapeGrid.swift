import BasinCheckpoint
import BasinCore
import BasinHDF5
import Foundation

/// A named point drawn on a landscape: a defining checkpoint or a projected one.
public struct LandscapePoint: Equatable, Sendable {
    public var label: String
    public var sha256: String
    public var x: Double
    public var y: Double
    /// Distance from the plane (0 for the points that define it).
    public var distance: Double
    /// The checkpoint's `role` attribute (pretrained, finetuned, snapshot, soup, ...), nil when
    /// unknown (files written before roles were recorded). Not part of the fingerprint: the
    /// SHA-256 already names the file.
    public var role: String?

    public init(label: String, sha256: String, x: Double, y: Double, distance: Double, role: String? = nil) {
        self.label = label
        self.sha256 = sha256
        self.x = x
        self.y = y
        self.distance = distance
        self.role = role
    }
}

/// Loss and error over a grid of weights origin + x u + y v: the results file of `basin plane`,
/// `basin surface` and `basin simplex` (docs/ANALYSIS.md). Cells are numbered row-major,
/// cell = iy * nx + ix; arrays are [ny, nx]. Cells not computed yet are NaN with done = 0.
/// A simplex (origin C, u = A - C, v = B - C, x = y = 0, 1/n, ..., 1) only has the cells with
/// ix + iy <= n: the others lie outside the triangle, stay NaN with done = 0 and are never due.
public struct LandscapeGrid: Equatable {
    public static let formatName = "basin-landscape"
    public static let formatVersion: Int64 = 1

    /// "plane", "surface" or "simplex".
    public var kind: String
    public var architecture: String
    public var numClasses: Int
    public var x: [Double]
    public var y: [Double]
    /// Settings that make the grid what it is (margin, range, seed, images, task...).
    public var settings: [String: HDF5AttributeValue]
    public var origin: [Double]
    public var u: [Double]
    public var v: [Double]
    /// The checkpoints that define the grid (A, B, C of a plane; the centre of a surface).
    public var inputs: [LandscapePoint]
    /// Checkpoints projected onto the plane.
    public var projected: [LandscapePoint]
    /// Test loss and error.
    public var loss: [Double]
    public var error: [Double]
    /// Training loss and error, when the grid evaluates the training split too (`--train`).
    public var trainLoss: [Double]?
    public var trainError: [Double]?
    public var done: [Int64]
    public var shardIndex: Int
    public var shardCount: Int

    public var nx: Int { x.count }
    public var ny: Int { y.count }
    public var cellCount: Int { x.count * y.count }
    public var hasTrain: Bool { trainLoss != nil }
    /// Whether the cell belongs to the grid (always, except outside a simplex's triangle).
    public func inDomain(_ cell: Int) -> Bool { kind != "simplex" || cell % nx + cell / nx <= nx - 1 }
    public var domainCount: Int { (0..<cellCount).filter(inDomain).count }
    /// Cells of the domain not computed yet, in order.
    public var missingCells: [Int] { (0..<cellCount).filter { inDomain($0) && done[$0] == 0 } }
    public var missingCount: Int { missingCells.count }
    public var cellsDone: Int { done.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }

    public init(kind: String, architecture: String, numClasses: Int, x: [Double], y: [Double],
                settings: [String: HDF5AttributeValue], origin: [Double], u: [Double], v: [Double],
                inputs: [LandscapePoint], projected: [LandscapePoint], train: Bool = false,
                shardIndex: Int = 0, shardCount: Int = 1) {
        self.kind = kind
        self.architecture = architecture
        self.numClasses = numClasses
        self.x = x
        self.y = y
        self.settings = settings
        self.origin = origin
        self.u = u
        self.v = v
        self.inputs = inputs
        self.projected = projected
        let n = x.count * y.count
        loss = [Double](repeating: .nan, count: n)
        error = [Double](repeating: .nan, count: n)
        done = [Int64](repeating: 0, count: n)
        if train {
            trainLoss = [Double](repeating: .nan, count: n)
            trainError = [Double](repeating: .nan, count: n)
        }
        self.shardIndex = shardIndex
        self.shardCount = shardCount
    }

    /// SHA-256 over everything that defines the grid's values (not the shard, not the values):
    /// runs that agree on it compute the same number in every cell.
    public var fingerprint: String {
        var text = "\(kind)|\(architecture)|\(numClasses)|"
        for key in settings.keys.sorted() { text += "\(key)=\(settings[key]!)|" }
        for p in inputs + projected { text += "\(p.label):\(p.sha256)|" }
        // Only grids with a training split say so, so older files keep their fingerprints.
        if hasTrain { text += "splits=test,train|" }
        var bytes = Array(text.utf8)
        for array in [x, y, origin, u, v] {
            bytes += withUnsafeBytes(of: Int64(array.count).littleEndian) { Array($0) }
            for value in array { bytes += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        }
        return SHA256.hex(of: bytes)
    }

    /// The cells this shard computes: every shardCount-th, starting at shardIndex (inside the domain).
    public var shardCells: [Int] { stride(from: shardIndex, to: cellCount, by: shardCount).filter(inDomain) }

    public func weights(cell: Int) -> [Double] {
        let ix = cell % nx, iy = cell / nx
        var p = origin
        let a = x[ix], b = y[iy]
        for i in 0..<p.count { p[i] += a * u[i] + b * v[i] }
        return p
    }

    // MARK: file

    public func write(to path: String) throws {
        try HDF5File.writeAtomically(path: path) { root in
            try root.setAttribute("format", .string(Self.formatName))
            try root.setAttribute("format_version", .int64(Self.formatVersion))
            try root.setAttribute("kind", .string(kind))
            try root.setAttribute("architecture", .string(architecture))
            try root.setAttribute("num_classes", .int64(Int64(numClasses)))
            try root.setAttribute("fingerprint", .string(fingerprint))
            try root.setAttribute("shard_index", .int64(Int64(shardIndex)))
            try root.setAttribute("shard_count", .int64(Int64(shardCount)))
            try root.setAttribute("nx", .int64(Int64(nx)))
            try root.setAttribute("ny", .int64(Int64(ny)))
            try root.setAttribute("cells_done", .int64(Int64(cellsDone)))
            try root.setAttribute("basin_version", .string(BasinCheckpoint.basinVersion))
            for key in settings.keys.sorted() { try root.setAttribute(key, settings[key]!) }
            try root.writeDataset("x", HDF5Array(shape: [nx], values: .float64(x)))
            try root.writeDataset("y", HDF5Array(shape: [ny], values: .float64(y)))
            try root.writeDataset("loss", HDF5Array(shape: [ny, nx], values: .float64(loss)))
            try root.writeDataset("error", HDF5Array(shape: [ny, nx], values: .float64(error)))
            try root.writeDataset("done", HDF5Array(shape: [ny, nx], values: .int64(done)))
            if let trainLoss, let trainError {
                try root.writeDataset("train_loss", HDF5Array(shape: [ny, nx], values: .float64(trainLoss)))
                try root.writeDataset("train_error", HDF5Array(shape: [ny, nx], values: .float64(trainError)))
            }
            try Self.writePoints(inputs, to: try root.createGroup("inputs"))
            try Self.writePoints(projected, to: try root.createGroup("projected"))
            let basis = try root.createGroup("basis")
            try basis.writeDataset("origin", HDF5Array(shape: [origin.count], values: .float64(origin)))
            try basis.writeDataset("u", HDF5Array(shape: [u.count], values: .float64(u)))
            try basis.writeDataset("v", HDF5Array(shape: [v.count], values: .float64(v)))
        }
    }

    static func writePoints(_ points: [LandscapePoint], to group: HDF5Group) throws {
        try group.setAttribute("paths", .string(jsonArray(points.map(\.label))))
        try group.setAttribute("sha256", .string(jsonArray(points.map(\.sha256))))
        try group.setAttribute("roles", .string(jsonArray(points.map { $0.role ?? "" })))
        try group.writeDataset("xy", HDF5Array(shape: [points.count, 2], values: .float64(points.flatMap { [$0.x, $0.y] })))
        try group.writeDataset("distance", HDF5Array(shape: [points.count], values: .float64(points.map(\.distance))))
    }

    static func readPoints(_ group: HDF5Group, file: String) throws -> [LandscapePoint] {
        let labels = try stringList(group, "paths", file: file), hashes = try stringList(group, "sha256", file: file)
        let xy = try group.readDataset("xy").values.asDoubles, distance = try group.readDataset("distance").values.asDoubles
        // Roles are optional: files written before they were recorded have none.
        let roles = try group.attribute("roles") == nil ? nil : try stringList(group, "roles", file: file)
        guard labels.count == hashes.count, xy.count == 2 * labels.count, distance.count == labels.count,
              roles == nil || roles!.count == labels.count else {
            throw AnalysisError("\(file): \(group.path) holds inconsistent point arrays")
        }
        return labels.indices.map { i in
            let role = roles.flatMap { $0[i].isEmpty ? nil : $0[i] }
            return LandscapePoint(label: labels[i], sha256: hashes[i], x: xy[2 * i], y: xy[2 * i + 1], distance: distance[i],
                                  role: role)
        }
    }

    static func stringList(_ group: HDF5Group, _ name: String, file: String) throws -> [String] {
        guard case .string(let text)? = try group.attribute(name),
              let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
            throw AnalysisError("\(file): attribute \(group.path) \(name) is missing or not a JSON list of strings")
        }
        return list
    }

    public static func read(path: String) throws -> LandscapeGrid {
        let file = try HDF5File.open(path: path)
        let root = try file.root
        func string(_ name: String) throws -> String {
            guard case .string(let s)? = try root.attribute(name) else { throw AnalysisError("\(path): attribute \(name) missing") }
            return s
        }
        func int(_ name: String) throws -> Int {
            guard case .int64(let v)? = try root.attribute(name) else { throw AnalysisError("\(path): attribute \(name) missing") }
            return Int(v)
        }
        guard case .string(let format)? = try root.attribute("format"), format == formatName else {
            throw AnalysisError("\(path) is not a basin landscape file (written by basin plane, surface or simplex)")
        }
        let fixed: Set<String> = ["format", "format_version", "kind", "architecture", "num_classes", "fingerprint",
                                  "shard_index", "shard_count", "nx", "ny", "cells_done", "basin_version"]
        var settings: [String: HDF5AttributeValue] = [:]
        for name in try root.attributeNames() where !fixed.contains(name) { settings[name] = try root.attribute(name) }
        let basis = try root.openGroup("basis")
        let train = try root.contains("train_loss")
        var grid = LandscapeGrid(kind: try string("kind"), architecture: try string("architecture"),
                                 numClasses: try int("num_classes"),
                                 x: try root.readDataset("x").values.asDoubles, y: try root.readDataset("y").values.asDoubles,
                                 settings: settings,
                                 origin: try basis.readDataset("origin").values.asDoubles,
                                 u: try basis.readDataset("u").values.asDoubles, v: try basis.readDataset("v").values.asDoubles,
                                 inputs: try readPoints(try root.openGroup("inputs"), file: path),
                                 projected: try readPoints(try root.openGroup("projected"), file: path), train: train,
                                 shardIndex: try int("shard_index"), shardCount: try int("shard_count"))
        let loss = try root.readDataset("loss").values.asDoubles, error = try root.readDataset("error").values.asDoubles
        guard case .int64(let done) = try root.readDataset("done").values,
              loss.count == grid.cellCount, error.count == grid.cellCount, done.count == grid.cellCount else {
            throw AnalysisError("\(path): loss, error and done must each hold \(grid.cellCount) cells")
        }
        grid.loss = loss
        grid.error = error
        grid.done = done
        if train {
            let trainLoss = try root.readDataset("train_loss").values.asDoubles
            let trainError = try root.readDataset("train_error").values.asDoubles
            guard trainLoss.count == grid.cellCount, trainError.count == grid.cellCount else {
                throw AnalysisError("\(path): train_loss and train_error must each hold \(grid.cellCount) cells")
            }
            grid.trainLoss = trainLoss
            grid.trainError = trainError
        }
        guard try string("fingerprint") == grid.fingerprint else {
            throw AnalysisError("\(path): stored fingerprint does not match its contents")
        }
        return grid
    }

    /// Joins shards of one grid. Every file must carry the same fingerprint; a cell computed in
    /// several shards must hold the same bits in each.
    public static func merge(_ shards: [(path: String, grid: LandscapeGrid)]) throws -> LandscapeGrid {
        guard let (firstPath, first) = shards.first else { throw AnalysisError("merge: no shard files given") }
        var merged = first
        merged.shardIndex = 0
        merged.shardCount = 1
        let fingerprint = first.fingerprint
        for (path, grid) in shards.dropFirst() {
            guard grid.fingerprint == fingerprint else {
                throw AnalysisError("merge: \(path) holds a different \(grid.kind) than \(firstPath) (inputs, grid or settings differ)")
            }
            for c in 0..<grid.cellCount where grid.done[c] != 0 {
                if merged.done[c] != 0 {
                    guard merged.loss[c].bitPattern == grid.loss[c].bitPattern,
                          merged.error[c].bitPattern == grid.error[c].bitPattern,
                          merged.trainLoss?[c].bitPattern == grid.trainLoss?[c].bitPattern,
                          merged.trainError?[c].bitPattern == grid.trainError?[c].bitPattern else {
                        throw AnalysisError("merge: cell \(c) differs between \(path) and another shard")
                    }
                } else {
                    merged.loss[c] = grid.loss[c]
                    merged.error[c] = grid.error[c]
                    if let t = grid.trainLoss?[c], let e = grid.trainError?[c] {
                        merged.trainLoss?[c] = t
                        merged.trainError?[c] = e
                    }
                    merged.done[c] = 1
                }
            }
        }
        return merged
    }

    /// Computes the missing cells of this shard with `evaluator` (split "eval"), saving to
    /// `path` every `saveEvery` cells and at the end. A file already at `path` is resumed when
    /// it holds the same grid and shard, refused otherwise.
    public mutating func compute(evaluator: LandscapeEvaluator, path: String, saveEvery: Int,
                                 progressLabel: String) throws {
        if FileManager.default.fileExists(atPath: path) {
            let existing = try LandscapeGrid.read(path: path)
            guard existing.fingerprint == fingerprint, existing.shardIndex == shardIndex, existing.shardCount == shardCount else {
                throw AnalysisError("refusing to resume \(path): it holds a different \(existing.kind) or shard "
                                    + "(inputs, grid or settings differ); remove it or choose another --out")
            }
            loss = existing.loss
            error = existing.error
            trainLoss = existing.trainLoss
            trainError = existing.trainError
            done = existing.done
        }
        let todo = shardCells.filter { done[$0] == 0 }
        if !todo.isEmpty { reportProgress("\(progressLabel): \(todo.count) of \(shardCells.count) cells to compute") }
        let start = Date()
        var sinceSave = 0
        let splits = hasTrain ? ["eval", "train"] : ["eval"]
        if hasTrain, evaluator.splits["train"] == nil { throw AnalysisError("\(progressLabel): the evaluator has no training split") }
        for (k, cell) in todo.enumerated() {
            let results = try evaluator.evaluate(parameters: weights(cell: cell), on: splits)
            let result = results[0]
            loss[cell] = result.loss
            error[cell] = result.error
            if hasTrain {
                trainLoss![cell] = results[1].loss
                trainError![cell] = results[1].error
            }
            done[cell] = 1
            sinceSave += 1
            let elapsed = Date().timeIntervalSince(start)
            reportProgress(String(format: "%@ cell %d/%d (x %.4g, y %.4g) loss %.4f error %.4f elapsed %.0fs eta %.0fs",
                                  progressLabel, k + 1, todo.count, x[cell % nx], y[cell / nx], result.loss, result.error,
                                  elapsed, elapsed / Double(k + 1) * Double(todo.count - k - 1)))
            if sinceSave >= saveEvery && k + 1 < todo.count {
                try write(to: path)
                sinceSave = 0
            }
        }
        try write(to: path)
    }
}
