import BasinCore
import Foundation

/// The bridge between models of the training core and checkpoint files: a model's
/// parameters, buffers and optimizer state under their stable paths.
extension Checkpoint {
    /// A checkpoint of `model` (and of `optimizer`'s momentum, for resuming).
    public init(model: Model, metadata: CheckpointMetadata, optimizer: SGD? = nil, state: [StateArray] = [],
                predictions: [String: Predictions] = [:]) {
        var metadata = metadata
        metadata.architecture = model.architecture.rawValue
        metadata.numClasses = model.numClasses
        self.init(metadata: metadata,
                  params: model.parameters.map { NamedTensor(path: $0.path, tensor: $0.value) },
                  buffers: model.buffers.map { BufferTensor(path: $0.path, tensor: $0.value, dtype: $0.dtype) },
                  optimizer: optimizer.map { sgd in
                      model.parameters.compactMap { p in sgd.momentumBuffers[p.path].map { NamedTensor(path: p.path, tensor: $0) } }
                  } ?? [],
                  state: state, predictions: predictions)
    }

    /// Copies parameters and buffers into a model of the same architecture; the reader has
    /// already checked names and shapes against it.
    public func load(into model: Model) {
        let params = Dictionary(uniqueKeysWithValues: self.params.map { ($0.path, $0.tensor) })
        let buffers = Dictionary(uniqueKeysWithValues: self.buffers.map { ($0.path, $0.tensor) })
        for p in model.parameters { if let t = params[p.path] { p.value = t } }
        for b in model.buffers { if let t = buffers[b.path] { b.value = t } }
    }

    /// Restores the optimizer's momentum buffers saved with the checkpoint.
    public func loadOptimizerState(into sgd: SGD) {
        sgd.reset()
        for entry in optimizer { sgd.setMomentumBuffer(entry.tensor, for: entry.path) }
    }
}

extension CheckpointExpectation {
    /// What a checkpoint of `model` must hold.
    public init(model: Model, requireOptimizer: Bool = false) {
        self.init(params: model.parameterSpecs, buffers: model.bufferSpecs, architecture: model.architecture.rawValue,
                  numClasses: model.numClasses, requireOptimizer: requireOptimizer)
    }
}

/// A model checkpoint that could not be turned into a model.
public struct ModelCheckpointError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "checkpoint \(file): \(reason)" }
}

/// Reads a checkpoint and builds the model it describes, validating every tensor against that
/// architecture first. `architecture` and `numClasses`, when given, must match the file.
public func loadModel(path: String, architecture: Architecture? = nil, numClasses: Int? = nil,
                      inChannels: Int = 1, requireOptimizer: Bool = false,
                      allowNonFinite: Bool = false) throws -> (model: Model, checkpoint: Checkpoint) {
    var built: Model?
    let checkpoint = try readCheckpoint(path: path, allowNonFinite: allowNonFinite) { metadata in
        guard let fileArchitecture = Architecture(rawValue: metadata.architecture) else {
            throw ModelCheckpointError(file: path, reason: "unknown architecture '\(metadata.architecture)' "
                                       + "(known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard metadata.numClasses > 0 else {
            throw ModelCheckpointError(file: path, reason: "num_classes \(metadata.numClasses) must be positive")
        }
        let model = Model(fileArchitecture, numClasses: metadata.numClasses, inChannels: inChannels, seed: 0)
        built = model
        var expectation = CheckpointExpectation(model: model, requireOptimizer: requireOptimizer)
        if let architecture { expectation.architecture = architecture.rawValue }
        if let numClasses { expectation.numClasses = numClasses }
        return expectation
    }
    guard let model = built else { throw ModelCheckpointError(file: path, reason: "no model metadata") }
    checkpoint.load(into: model)
    return (model, checkpoint)
}
