// BasinCheckpoint owns checkpoint I/O: the HDF5 layout of docs/FORMAT.md, validation of
// everything before use, and atomic writes.
import BasinCore
import BasinHDF5
import Foundation

public let checkpointFormatName = "basin-checkpoint"
public let checkpointFormatVersion: Int64 = 1
/// Written as `basin_version` unless the caller gives another.
public let basinVersion = "0.1.0"

/// Why a checkpoint exists; stored as the `role` attribute.
public enum CheckpointRole: String, CaseIterable, Sendable {
    case pretrained, finetuned, snapshot, soup, interpolated
}

/// The root attributes of a checkpoint, typed. Unknown attributes are ignored on read.
public struct CheckpointMetadata: Equatable, Sendable {
    public var architecture: String
    public var numClasses: Int
    /// The training configuration as a JSON document.
    public var config: String
    /// Stored as int64 (uint64 only for seeds above Int64.max).
    public var seed: UInt64
    public var epoch: Int
    public var step: Int
    /// ISO 8601 UTC, e.g. 2024-05-01T12:00:00Z.
    public var created: String
    public var role: CheckpointRole
    public var method: String?
    public var member: Int?
    public var parent: String?
    public var parentSHA256: String?
    public var basinVersion: String
    /// Stored as float64 attributes `metric_<name>`.
    public var metrics: [String: Double]

    public init(architecture: String, numClasses: Int, role: CheckpointRole, config: String = "{}",
                seed: UInt64 = 0, epoch: Int = 0, step: Int = 0,
                created: String = CheckpointMetadata.timestamp(),
                method: String? = nil, member: Int? = nil, parent: String? = nil, parentSHA256: String? = nil,
                basinVersion: String = BasinCheckpoint.basinVersion, metrics: [String: Double] = [:]) {
        self.architecture = architecture
        self.numClasses = numClasses
        self.role = role
        self.config = config
        self.seed = seed
        self.epoch = epoch
        self.step = step
        self.created = created
        self.method = method
        self.member = member
        self.parent = parent
        self.parentSHA256 = parentSHA256
        self.basinVersion = basinVersion
        self.metrics = metrics
    }

    /// ISO 8601 UTC with second precision.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// A float32 tensor under its PyTorch state_dict key.
public struct NamedTensor: Equatable, Sendable {
    public var path: String
    public var tensor: Tensor

    public init(path: String, tensor: Tensor) {
        self.path = path
        self.tensor = tensor
    }
}

/// A buffer under its state_dict key with its stored element type. int64 buffers
/// (`num_batches_tracked`) are held as floats in memory, exact below 2^24.
public struct BufferTensor: Equatable, Sendable {
    public var path: String
    public var tensor: Tensor
    public var dtype: DType

    public init(path: String, tensor: Tensor, dtype: DType) {
        self.path = path
        self.tensor = tensor
        self.dtype = dtype
    }
}

/// A named array of resume state (RNG words, data order, ...), kept in its own type.
public struct StateArray: Equatable, Sendable {
    public var name: String
    public var array: HDF5Array

    public init(name: String, array: HDF5Array) {
        self.name = name
        self.array = array
    }

    public init(name: String, uint64 values: [UInt64]) {
        self.init(name: name, array: HDF5Array(shape: [values.count], values: .uint64(values)))
    }

    public init(name: String, int64 values: [Int64]) {
        self.init(name: name, array: HDF5Array(shape: [values.count], values: .int64(values)))
    }

    public init(name: String, float32 values: [Float]) {
        self.init(name: name, array: HDF5Array(shape: [values.count], values: .float32(values)))
    }
}

/// A model's outputs on one split: probabilities [N, C] and true labels [N].
public struct Predictions: Equatable, Sendable {
    public var probs: Tensor
    public var labels: [Int64]

    public init(probs: Tensor, labels: [Int64]) {
        self.probs = probs
        self.labels = labels
    }
}

/// Everything a checkpoint file holds. Sections are kept in the order given; a file reads
/// back in the order it was written.
public struct Checkpoint: Equatable, Sendable {
    public var metadata: CheckpointMetadata
    public var params: [NamedTensor]
    public var buffers: [BufferTensor]
    /// Momentum buffers under their parameter's path; written only for resumable files.
    public var optimizer: [NamedTensor]
    public var state: [StateArray]
    public var predictions: [String: Predictions]

    public init(metadata: CheckpointMetadata, params: [NamedTensor], buffers: [BufferTensor] = [],
                optimizer: [NamedTensor] = [], state: [StateArray] = [], predictions: [String: Predictions] = [:]) {
        self.metadata = metadata
        self.params = params
        self.buffers = buffers
        self.optimizer = optimizer
        self.state = state
        self.predictions = predictions
    }

    public func stateArray(named name: String) -> StateArray? { state.first { $0.name == name } }
}

/// What a loader needs the file to hold. Params and buffers must match exactly (no missing,
/// no extra, same shape and dtype).
public struct CheckpointExpectation: Equatable, Sendable {
    public var params: [TensorSpec]
    public var buffers: [TensorSpec]
    public var architecture: String?
    public var numClasses: Int?
    /// Resuming needs one momentum buffer per expected parameter, with its shape.
    public var requireOptimizer: Bool

    public init(params: [TensorSpec], buffers: [TensorSpec], architecture: String? = nil,
                numClasses: Int? = nil, requireOptimizer: Bool = false) {
        self.params = params
        self.buffers = buffers
        self.architecture = architecture
        self.numClasses = numClasses
        self.requireOptimizer = requireOptimizer
    }
}

/// One thing wrong with a checkpoint file. Paths are `section/name`, e.g. `params/head.bias`.
public enum CheckpointProblem: Equatable, Sendable, CustomStringConvertible {
    case fileMissing
    case notRegularFile
    case fileEmpty
    case notHDF5
    /// The file's SHA-256 seal does not match its bytes (corrupted, truncated or edited).
    case corrupted(detail: String)
    /// HDF5 could not open or read an object (corruption, truncation); `path` "" is the file.
    case unreadable(path: String, detail: String)
    case missingAttribute(name: String)
    case badAttribute(name: String, detail: String)
    case architectureMismatch(expected: String, actual: String)
    case numClassesMismatch(expected: Int, actual: Int)
    case missing(path: String)
    case unexpected(path: String)
    case shapeMismatch(path: String, expected: [Int], actual: [Int])
    case dtypeMismatch(path: String, expected: String, actual: String)
    case nonFinite(path: String, count: Int)
    case badValue(path: String, detail: String)

    public var description: String {
        switch self {
        case .fileMissing: return "file does not exist"
        case .notRegularFile: return "not a regular file"
        case .fileEmpty: return "file is empty (0 bytes)"
        case .notHDF5: return "not an HDF5 file (no HDF5 signature)"
        case .corrupted(let detail): return "corrupted: \(detail)"
        case .unreadable(let path, let detail):
            return path.isEmpty ? "cannot open as HDF5: \(detail)" : "\(path) unreadable: \(detail)"
        case .missingAttribute(let name): return "attribute \(name) missing"
        case .badAttribute(let name, let detail): return "attribute \(name) \(detail)"
        case .architectureMismatch(let expected, let actual):
            return "architecture \"\(actual)\" expected \"\(expected)\""
        case .numClassesMismatch(let expected, let actual): return "num_classes \(actual) expected \(expected)"
        case .missing(let path): return "\(path) missing"
        case .unexpected(let path): return "\(path) unexpected"
        case .shapeMismatch(let path, let expected, let actual):
            return "\(path) shape \(shapeText(actual)) expected \(shapeText(expected))"
        case .dtypeMismatch(let path, let expected, let actual): return "\(path) dtype \(actual) expected \(expected)"
        case .nonFinite(let path, let count): return "\(path) has \(count) non-finite value\(count == 1 ? "" : "s")"
        case .badValue(let path, let detail): return "\(path) \(detail)"
        }
    }
}

public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    public typealias Problem = CheckpointProblem

    /// The file cannot be used; every problem found is listed.
    case invalid(file: String, problems: [CheckpointProblem])
    /// Writing failed or the checkpoint value cannot be stored; the destination is untouched.
    case cannotWrite(file: String, reason: String)

    /// How many problems the one-line description lists before summarizing the rest.
    static let listedProblems = 12

    public var description: String {
        switch self {
        case .invalid(let file, let problems):
            var listed = problems.prefix(Self.listedProblems).map(\.description)
            if problems.count > Self.listedProblems { listed.append("and \(problems.count - Self.listedProblems) more") }
            let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            return oneLine("checkpoint \(file): \(count): " + listed.joined(separator: "; "))
        case .cannotWrite(let file, let reason):
            return oneLine("cannot write checkpoint \(file): \(reason)")
        }
    }

    public var problems: [CheckpointProblem] {
        if case .invalid(_, let problems) = self { return problems }
        return []
    }
}

// MARK: Writing

extension Checkpoint {
    /// Writes atomically (temporary in the same folder, fsync, rename, folder fsync).
    public func write(to path: String) throws {
        try writeCheckpoint(self, to: path)
    }
}

/// Writes `checkpoint` atomically to `path`. Throws `CheckpointError.cannotWrite` and
/// leaves any existing file at `path` untouched on failure.
public func writeCheckpoint(_ checkpoint: Checkpoint, to path: String) throws {
    if let reason = checkpoint.unwritableReason() { throw CheckpointError.cannotWrite(file: path, reason: reason) }
    do {
        try HDF5File.writeAtomically(path: path) { root in
            for (name, value) in checkpoint.metadata.attributes() { try root.setAttribute(name, value) }
            let params = try root.createGroup("params")
            for p in checkpoint.params {
                try params.writeDataset(p.path, HDF5Array(shape: p.tensor.shape, values: .float32(p.tensor.storage)))
            }
            let buffers = try root.createGroup("buffers")
            for b in checkpoint.buffers {
                let values: HDF5Values = b.dtype == .int64
                    ? .int64(b.tensor.storage.map { Int64($0) }) : .float32(b.tensor.storage)
                try buffers.writeDataset(b.path, HDF5Array(shape: b.tensor.shape, values: values))
            }
            if !checkpoint.optimizer.isEmpty {
                let optimizer = try root.createGroup("optimizer")
                for m in checkpoint.optimizer {
                    try optimizer.writeDataset(m.path, HDF5Array(shape: m.tensor.shape, values: .float32(m.tensor.storage)))
                }
            }
            if !checkpoint.state.isEmpty {
                let state = try root.createGroup("state")
                for s in checkpoint.state { try state.writeDataset(s.name, s.array) }
            }
            if !checkpoint.predictions.isEmpty {
                let predictions = try root.createGroup("predictions")
                for split in checkpoint.predictions.keys.sorted() {
                    guard let p = checkpoint.predictions[split] else { continue }
                    let group = try predictions.createGroup(split)
                    try group.writeDataset("probs", HDF5Array(shape: p.probs.shape, values: .float32(p.probs.storage)))
                    try group.writeDataset("labels", HDF5Array(shape: [p.labels.count], values: .int64(p.labels)))
                }
            }
        }
    } catch let error as CheckpointError {
        throw error
    } catch {
        throw CheckpointError.cannotWrite(file: path, reason: "\(error)")
    }
}

extension Checkpoint {
    /// Why this value cannot be stored faithfully, or nil.
    func unwritableReason() -> String? {
        func badName(_ name: String) -> Bool { name.isEmpty || name == "." || name.contains("/") || name.contains("\0") }
        let sections: [(String, [String])] = [
            ("params", params.map(\.path)), ("buffers", buffers.map(\.path)),
            ("optimizer", optimizer.map(\.path)), ("state", state.map(\.name)),
            ("predictions", Array(predictions.keys)),
        ]
        for (section, names) in sections {
            if let name = names.first(where: badName) { return "\(section) name '\(name)' is empty or contains '/'" }
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted { return "\(section)/\(name) appears twice" }
        }
        for b in buffers where b.dtype == .int64 {
            if let v = b.tensor.storage.first(where: { $0.rounded() != $0 || abs($0) >= 0x1p63 }) {
                return "buffers/\(b.path) is int64 but holds \(v)"
            }
        }
        for (split, p) in predictions {
            guard p.probs.rank == 2, p.probs.shape[0] == p.labels.count else {
                return "predictions/\(split) probs shape \(shapeText(p.probs.shape)) does not fit \(p.labels.count) labels"
            }
        }
        if metadata.metrics.keys.contains(where: \.isEmpty) { return "metric with an empty name" }
        if metadata.numClasses < 1 || metadata.epoch < 0 || metadata.step < 0 {
            return "num_classes, epoch and step must be positive / non-negative"
        }
        return nil
    }
}

extension CheckpointMetadata {
    /// Root attributes in writing order.
    func attributes() -> [(String, HDF5AttributeValue)] {
        var list: [(String, HDF5AttributeValue)] = [
            ("format", .string(checkpointFormatName)),
            ("format_version", .int64(checkpointFormatVersion)),
            ("architecture", .string(architecture)),
            ("num_classes", .int64(Int64(numClasses))),
            ("config", .string(config)),
            ("seed", seed <= UInt64(Int64.max) ? .int64(Int64(seed)) : .uint64(seed)),
            ("epoch", .int64(Int64(epoch))),
            ("step", .int64(Int64(step))),
            ("created", .string(created)),
            ("role", .string(role.rawValue)),
        ]
        if let method { list.append(("method", .string(method))) }
        if let member { list.append(("member", .int64(Int64(member)))) }
        if let parent { list.append(("parent", .string(parent))) }
        if let parentSHA256 { list.append(("parent_sha256", .string(parentSHA256))) }
        list.append(("basin_version", .string(basinVersion)))
        for name in metrics.keys.sorted() {
            if let value = metrics[name] { list.append(("metric_" + name, .float64(value))) }
        }
        return list
    }
}

// MARK: Reading

/// Reads and validates a checkpoint. Nothing is returned unless every check passes; all
/// problems found are reported together in one `CheckpointError.invalid`.
///
/// Checks: the file exists, is non-empty and HDF5; `format`/`format_version` and the other
/// required attributes are present and well-typed; with an expectation, the architecture,
/// class count and the exact set of params and buffers with shapes and dtypes; optimizer
/// entries name existing params with their shapes; predictions are consistent; and every
/// float value is finite unless `allowNonFinite`. Sections come back in the file's creation
/// order (the order they were written).
public func readCheckpoint(path: String, expecting expectation: CheckpointExpectation? = nil,
                           allowNonFinite: Bool = false) throws -> Checkpoint {
    try readCheckpoint(path: path, allowNonFinite: allowNonFinite) { _ in expectation }
}

/// Reads and validates a checkpoint whose expectation depends on its own metadata (the
/// architecture named in the file decides which tensors it must hold).
public func readCheckpoint(path: String, allowNonFinite: Bool = false,
                           expectation: (CheckpointMetadata) throws -> CheckpointExpectation?) throws -> Checkpoint {
    try readCheckpoint(path: path, allowNonFinite: allowNonFinite) { metadata, _ in try expectation(metadata) }
}

/// As above, for expectations that also depend on the stored shape of a tensor (a model's input
/// layer says which images it takes): `shapeOf("params", "fc1.weight")` is that dataset's
/// shape, nil when it is absent (then validation reports it missing).
public func readCheckpoint(path: String, allowNonFinite: Bool = false,
                           expectation: (CheckpointMetadata, _ shapeOf: (String, String) -> [Int]?) throws
                               -> CheckpointExpectation?) throws -> Checkpoint {
    var reader = CheckpointReader(path: path, expectation: nil, allowNonFinite: allowNonFinite)
    let checkpoint = try reader.read(expectationFor: expectation)
    guard reader.problems.isEmpty, let checkpoint else {
        throw CheckpointError.invalid(file: path, problems: reader.problems)
    }
    return checkpoint
}

struct CheckpointReader {
    let path: String
    var expectation: CheckpointExpectation?
    let allowNonFinite: Bool
    var problems: [CheckpointProblem] = []

    init(path: String, expectation: CheckpointExpectation?, allowNonFinite: Bool) {
        self.path = path
        self.expectation = expectation
        self.allowNonFinite = allowNonFinite
    }

    mutating func read(expectationFor: (CheckpointMetadata, (String, String) -> [Int]?) throws -> CheckpointExpectation?) throws
        -> Checkpoint? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            problems.append(errno == ENOENT ? .fileMissing : .unreadable(path: "", detail: String(cString: strerror(errno))))
            return nil
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { problems.append(.notRegularFile); return nil }
        guard info.st_size > 0 else { problems.append(.fileEmpty); return nil }
        guard HDF5File.hasSignature(path: path, size: Int(info.st_size)) else { problems.append(.notHDF5); return nil }
        let root: HDF5Group
        do {
            root = try HDF5File.open(path: path).root
        } catch let error as HDF5Error {
            problems.append(.unreadable(path: "", detail: error.detail))
            return nil
        } catch let error as IntegrityError {
            problems.append(.corrupted(detail: error.detail))
            return nil
        } catch {
            problems.append(.unreadable(path: "", detail: "\(error)"))
            return nil
        }
        let metadata = readMetadata(root)
        if let metadata {
            expectation = try expectationFor(metadata) { section, name in
                guard (try? root.contains(section)) == true, let group = try? root.openGroup(section),
                      (try? group.kind(of: name)) == .dataset else { return nil }
                return try? group.datasetInfo(name).shape
            }
        }
        if let expectation, let metadata {
            if let architecture = expectation.architecture, architecture != metadata.architecture {
                problems.append(.architectureMismatch(expected: architecture, actual: metadata.architecture))
            }
            if let numClasses = expectation.numClasses, numClasses != metadata.numClasses {
                problems.append(.numClassesMismatch(expected: numClasses, actual: metadata.numClasses))
            }
        }
        let params = readSection(root, "params", required: true, allowed: [.float32],
                                 expected: expectation?.params)
        let buffers = readSection(root, "buffers", required: expectation.map { !$0.buffers.isEmpty } ?? false,
                                  allowed: [.float32, .int64], expected: expectation?.buffers)
        let optimizerSpecs = params.map { TensorSpec(path: $0.name, shape: $0.array.shape) }
        let optimizer = readSection(root, "optimizer", required: expectation?.requireOptimizer ?? false,
                                    allowed: [.float32],
                                    expected: expectation?.requireOptimizer == true ? expectation?.params : nil,
                                    mustBeAmong: expectation?.params ?? optimizerSpecs)
        let state = readSection(root, "state", required: false, allowed: [.float32, .float64, .int64, .uint64],
                                expected: nil)
        let predictions = readPredictions(root, numClasses: metadata?.numClasses)
        checkUnknownSections(root)
        guard problems.isEmpty, let metadata else { return nil }
        return Checkpoint(
            metadata: metadata,
            params: params.map { NamedTensor(path: $0.name, tensor: tensor($0.array)) },
            buffers: buffers.map {
                BufferTensor(path: $0.name, tensor: tensor($0.array), dtype: $0.array.values.elementType == .int64 ? .int64 : .float32)
            },
            optimizer: optimizer.map { NamedTensor(path: $0.name, tensor: tensor($0.array)) },
            state: state.map { StateArray(name: $0.name, array: $0.array) },
            predictions: predictions)
    }

    private func tensor(_ array: HDF5Array) -> Tensor {
        let values: [Float]
        switch array.values {
        case .float32(let v): values = v
        case .float64(let v): values = v.map { Float($0) }
        case .int64(let v): values = v.map { Float($0) }
        case .uint64(let v): values = v.map { Float($0) }
        case .uint8(let v): values = v.map { Float($0) }
        }
        return Tensor(shape: array.shape, storage: values)
    }

    private mutating func checkUnknownSections(_ root: HDF5Group) {
        let known: Set<String> = ["params", "buffers", "optimizer", "state", "predictions"]
        guard let names = attempt("", { try root.childNames() }) else { return }
        for name in names where !known.contains(name) { problems.append(.unexpected(path: name)) }
    }

    /// Runs an HDF5 step, turning a failure into an `unreadable` problem.
    private mutating func attempt<T>(_ object: String, _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as HDF5Error {
            problems.append(.unreadable(path: object, detail: error.detail))
        } catch {
            problems.append(.unreadable(path: object, detail: "\(error)"))
        }
        return nil
    }

    private mutating func readMetadata(_ root: HDF5Group) -> CheckpointMetadata? {
        let before = problems.count
        func value(_ name: String, required: Bool = true) -> HDF5AttributeValue? {
            switch Result(catching: { try root.attribute(name) }) {
            case .success(let v?): return v
            case .success(nil):
                if required { problems.append(.missingAttribute(name: name)) }
                return nil
            case .failure(let error):
                problems.append(.badAttribute(name: name, detail: "unreadable: \((error as? HDF5Error)?.detail ?? "\(error)")"))
                return nil
            }
        }
        func string(_ name: String, required: Bool = true) -> String? {
            guard let v = value(name, required: required) else { return nil }
            if case .string(let s) = v { return s }
            problems.append(.badAttribute(name: name, detail: "is \(v.typeName), expected string"))
            return nil
        }
        func integer(_ name: String, required: Bool = true, minimum: Int64 = 0) -> Int64? {
            guard let v = value(name, required: required) else { return nil }
            let n: Int64
            switch v {
            case .int64(let x): n = x
            case .uint64(let x) where x <= UInt64(Int64.max): n = Int64(x)
            default:
                problems.append(.badAttribute(name: name, detail: "is \(v), expected an integer"))
                return nil
            }
            guard n >= minimum else {
                problems.append(.badAttribute(name: name, detail: "is \(n), expected at least \(minimum)"))
                return nil
            }
            return n
        }

        if let format = string("format"), format != checkpointFormatName {
            problems.append(.badAttribute(name: "format", detail: "is \"\(format)\", expected \"\(checkpointFormatName)\""))
        }
        if let version = integer("format_version"), version != checkpointFormatVersion {
            problems.append(.badAttribute(name: "format_version",
                                          detail: "is \(version), this reader supports \(checkpointFormatVersion)"))
        }
        let architecture = string("architecture")
        let numClasses = integer("num_classes", minimum: 1)
        let config = string("config")
        if let config, (try? JSONSerialization.jsonObject(with: Data(config.utf8), options: [.fragmentsAllowed])) == nil {
            problems.append(.badAttribute(name: "config", detail: "is not valid JSON"))
        }
        var seed: UInt64?
        switch value("seed") {
        case .int64(let x)?: seed = UInt64(bitPattern: x)
        case .uint64(let x)?: seed = x
        case let other?: problems.append(.badAttribute(name: "seed", detail: "is \(other), expected an integer"))
        case nil: break
        }
        let epoch = integer("epoch")
        let step = integer("step")
        let created = string("created")
        var role: CheckpointRole?
        if let text = string("role") {
            role = CheckpointRole(rawValue: text)
            if role == nil {
                let allowed = CheckpointRole.allCases.map(\.rawValue).joined(separator: "|")
                problems.append(.badAttribute(name: "role", detail: "is \"\(text)\", expected \(allowed)"))
            }
        }
        let method = string("method", required: false)
        let member = integer("member", required: false)
        let parent = string("parent", required: false)
        let parentSHA256 = string("parent_sha256", required: false)
        if let parentSHA256, parentSHA256.count != 64 || !parentSHA256.allSatisfy(\.isHexDigit) {
            problems.append(.badAttribute(name: "parent_sha256", detail: "is not 64 hex digits"))
        }
        let version = string("basin_version")
        var metrics: [String: Double] = [:]
        if let names = attempt("", { try root.attributeNames() }) {
            for name in names where name.hasPrefix("metric_") && name.count > 7 {
                switch value(name) {
                case .float64(let x)?: metrics[String(name.dropFirst(7))] = x
                case .int64(let x)?: metrics[String(name.dropFirst(7))] = Double(x)
                case let other?: problems.append(.badAttribute(name: name, detail: "is \(other), expected a number"))
                case nil: break
                }
            }
        }
        guard problems.count == before, let architecture, let numClasses, let config, let seed, let epoch,
              let step, let created, let role, let version else { return nil }
        return CheckpointMetadata(
            architecture: architecture, numClasses: Int(numClasses), role: role, config: config, seed: seed,
            epoch: Int(epoch), step: Int(step), created: created, method: method, member: member.map { Int($0) },
            parent: parent, parentSHA256: parentSHA256, basinVersion: version, metrics: metrics)
    }

    /// Reads every dataset of a section in file order. With `expected`, the set of names,
    /// shapes and dtypes must match exactly; `mustBeAmong` only forbids names or shapes
    /// outside a list. Data is read only for entries whose shape and type were accepted.
    private mutating func readSection(_ root: HDF5Group, _ section: String, required: Bool,
                                      allowed: [HDF5ElementType], expected: [TensorSpec]?,
                                      mustBeAmong: [TensorSpec]? = nil) -> [(name: String, array: HDF5Array)] {
        guard let exists = attempt(section, { try root.contains(section) }) else { return [] }
        guard exists else {
            if required { problems.append(.missing(path: section)) }
            return []
        }
        guard let group = attempt(section, { try root.openGroup(section) }),
              let names = attempt(section, { try group.childNames() }) else { return [] }
        let specs = expected ?? mustBeAmong
        var specByName: [String: TensorSpec] = [:]
        for spec in specs ?? [] { specByName[spec.path] = spec }
        var result: [(name: String, array: HDF5Array)] = []
        for name in names {
            let object = section + "/" + name
            guard let kind = attempt(object, { try group.kind(of: name) }) else { continue }
            guard kind == .dataset else { problems.append(.unexpected(path: object)); continue }
            guard let info = attempt(object, { try group.datasetInfo(name) }) else { continue }
            if specs != nil {
                guard let spec = specByName[name] else { problems.append(.unexpected(path: object)); continue }
                var fits = true
                if spec.shape != info.shape {
                    problems.append(.shapeMismatch(path: object, expected: spec.shape, actual: info.shape))
                    fits = false
                }
                let wanted: HDF5ElementType = spec.dtype == .int64 ? .int64 : .float32
                if expected != nil, info.elementType != wanted, allowed.contains(wanted) {
                    problems.append(.dtypeMismatch(path: object, expected: wanted.rawValue, actual: info.typeName))
                    fits = false
                }
                if !fits { continue }
            }
            guard let type = info.elementType, allowed.contains(type) else {
                problems.append(.dtypeMismatch(path: object, expected: allowed.map(\.rawValue).joined(separator: " or "),
                                               actual: info.typeName))
                continue
            }
            guard let array = attempt(object, { try group.readDataset(name) }) else { continue }
            checkFinite(array.values, object)
            result.append((name, array))
        }
        if let expected {
            let present = Set(names)
            for spec in expected where !present.contains(spec.path) {
                problems.append(.missing(path: section + "/" + spec.path))
            }
        }
        return result
    }

    private mutating func checkFinite(_ values: HDF5Values, _ object: String) {
        let bad = values.nonFiniteCount
        if bad > 0, !allowNonFinite { problems.append(.nonFinite(path: object, count: bad)) }
    }

    private mutating func readPredictions(_ root: HDF5Group, numClasses: Int?) -> [String: Predictions] {
        guard let exists = attempt("predictions", { try root.contains("predictions") }), exists,
              let group = attempt("predictions", { try root.openGroup("predictions") }),
              let splits = attempt("predictions", { try group.childNames() }) else { return [:] }
        var result: [String: Predictions] = [:]
        for split in splits {
            let base = "predictions/" + split
            guard let kind = attempt(base, { try group.kind(of: split) }) else { continue }
            guard kind == .group else { problems.append(.unexpected(path: base)); continue }
            guard let splitGroup = attempt(base, { try group.openGroup(split) }),
                  let members = attempt(base, { try splitGroup.childNames() }) else { continue }
            for member in members where member != "probs" && member != "labels" {
                problems.append(.unexpected(path: base + "/" + member))
            }
            func load(_ name: String, _ type: HDF5ElementType, rank: Int) -> HDF5Array? {
                let object = base + "/" + name
                guard members.contains(name) else { problems.append(.missing(path: object)); return nil }
                guard let info = attempt(object, { try splitGroup.datasetInfo(name) }) else { return nil }
                guard info.elementType == type else {
                    problems.append(.dtypeMismatch(path: object, expected: type.rawValue, actual: info.typeName))
                    return nil
                }
                guard info.shape.count == rank else {
                    problems.append(.badValue(path: object, detail: "has rank \(info.shape.count), expected \(rank)"))
                    return nil
                }
                return attempt(object, { try splitGroup.readDataset(name) })
            }
            guard let probs = load("probs", .float32, rank: 2), let labels = load("labels", .int64, rank: 1),
                  case .float32(let probValues) = probs.values, case .int64(let labelValues) = labels.values else { continue }
            let rows = probs.shape[0], classes = probs.shape[1]
            var fine = true
            if rows != labelValues.count {
                problems.append(.shapeMismatch(path: base + "/labels", expected: [rows], actual: labels.shape))
                fine = false
            }
            if let numClasses, classes != numClasses {
                problems.append(.shapeMismatch(path: base + "/probs", expected: [rows, numClasses], actual: probs.shape))
                fine = false
            }
            if let bad = labelValues.first(where: { $0 < 0 || $0 >= Int64(classes) }) {
                problems.append(.badValue(path: base + "/labels", detail: "holds label \(bad) outside 0..<\(classes)"))
                fine = false
            }
            checkFinite(probs.values, base + "/probs")
            if fine {
                result[split] = Predictions(probs: Tensor(shape: probs.shape, storage: probValues), labels: labelValues)
            }
        }
        return result
    }
}

// MARK: Folders of checkpoints

/// Names of the checkpoint files in `folder` (`*.h5`, not hidden), sorted. Temporaries of
/// atomic writes (`.<name>.tmp-...`) never match.
public func checkpointFileNames(in folder: String) throws -> [String] {
    do {
        return try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".h5") && !$0.hasPrefix(".") && !AtomicFile.isTemporaryName($0) }
            .sorted()
    } catch {
        throw FileError(file: folder, step: "list folder", detail: error.localizedDescription)
    }
}
