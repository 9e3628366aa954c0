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

/// The layer of a model that sees the images, and which images it takes: a convolutional
/// model any height and width (global pooling; cnn's two 2x2 max-pools need 4 pixels) with
/// its first convolution's channel count, the mlp exactly its first layer's input count C*H*W.
public struct ModelInput: Equatable, Sendable, CustomStringConvertible {
    public let architecture: Architecture
    /// The first layer's weight, e.g. `features.0.weight`.
    public let parameter: String
    public let shape: [Int]

    /// The input layer of `architecture` given that layer's weight shape (e.g. from a file).
    public init(architecture: Architecture, shape: [Int]) {
        self.architecture = architecture
        self.parameter = ModelInput.parameter(of: architecture)
        self.shape = shape
    }

    public init(model: Model) {
        self.init(architecture: model.architecture, shape: model.parameters.first?.value.shape ?? [])
    }

    /// The name of an architecture's first parameter.
    public static func parameter(of architecture: Architecture) -> String { inputParameters[architecture] ?? "" }

    // Read off throwaway models (of 1x1 images, cheap to build) so the names live in one place, the model.
    private static let inputParameters: [Architecture: String] = Dictionary(uniqueKeysWithValues: Architecture.allCases.map {
        ($0, Model($0, numClasses: 1, imageHeight: 1, imageWidth: 1, seed: 0).parameters.first?.path ?? "")
    })

    /// Channels the first convolution takes (nil for the mlp).
    public var channels: Int? { architecture == .mlp || shape.count != 4 ? nil : shape[1] }
    /// Values per image the mlp's first layer takes (nil for convolutional models).
    public var features: Int? { architecture == .mlp && shape.count == 2 ? shape[1] : nil }

    public var description: String {
        let weight = "params/\(parameter) \(shapeList(shape))"
        if let channels { return "\(weight) takes \(channels)-channel images" }
        if let features { return "\(weight) takes images of \(features) values (C*H*W)" }
        return weight
    }

    /// Nil when the model takes images of `imageShape` ([C, H, W]), else what is wrong, naming
    /// `data` (e.g. "the cifar-10 data set /data/cifar") as where the images come from.
    public func mismatch(imageShape: [Int], data: String = "the data") -> String? {
        let images = "\(data) has images of shape \(shapeList(imageShape))"
        guard imageShape.count == 3 else { return "\(images), not [C, H, W]" }
        let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        if architecture == .mlp {
            guard let features else { return "\(self) is not an mlp input layer" }
            return features == c * h * w ? nil : "\(self), but \(images) (\(c * h * w) values)"
        }
        guard let channels else { return "\(self) is not a convolution weight" }
        if channels != c { return "\(self), but \(images)" }
        let least = architecture == .cnn ? 4 : 1
        if h < least || w < least {
            return "\(architecture.rawValue) needs images of at least \(least)x\(least) pixels, but \(images)"
        }
        return nil
    }

    /// A model of `architecture` with this input layer, for images of `imageShape` when given
    /// (they must fit), else of any size the layer allows.
    public func model(numClasses: Int, imageShape: [Int]?) -> Model {
        if let imageShape, imageShape.count == 3 {
            return Model(architecture, numClasses: numClasses, inChannels: imageShape[0], imageHeight: imageShape[1],
                         imageWidth: imageShape[2], seed: 0)
        }
        if let features { return Model(architecture, numClasses: numClasses, imageHeight: 1, imageWidth: features, seed: 0) }
        return Model(architecture, numClasses: numClasses, inChannels: channels ?? 1, seed: 0)
    }
}

private func shapeList(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Model input and data images that do not fit: one line naming the checkpoint (or model),
/// its input parameter and shape, the data set and the images' shape.
public struct ModelInputError: Error, CustomStringConvertible {
    public let model: String
    public let detail: String
    public var description: String { "\(model): \(detail)" }

    public init(model: String, detail: String) {
        self.model = model
        self.detail = detail
    }
}

/// Reads a checkpoint and builds the model it describes, validating every tensor against that
/// architecture first. `architecture` and `numClasses`, when given, must match the file. The
/// model takes the images its input layer in the file takes; with `imageShape` ([C, H, W] of
/// the data it will see, described by `dataName` in errors) a file whose input layer does not
/// take them is refused with a `ModelInputError` before anything else is read.
public func loadModel(path: String, architecture: Architecture? = nil, numClasses: Int? = nil,
                      imageShape: [Int]? = nil, dataName: String = "the data", requireOptimizer: Bool = false,
                      allowNonFinite: Bool = false) throws -> (model: Model, checkpoint: Checkpoint) {
    var built: Model?
    let checkpoint = try readCheckpoint(path: path, allowNonFinite: allowNonFinite) { metadata, shapeOf in
        guard let fileArchitecture = Architecture(rawValue: metadata.architecture) else {
            throw ModelCheckpointError(file: path, reason: "unknown architecture '\(metadata.architecture)' "
                                       + "(known: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard metadata.numClasses > 0 else {
            throw ModelCheckpointError(file: path, reason: "num_classes \(metadata.numClasses) must be positive")
        }
        let model: Model
        let parameter = ModelInput.parameter(of: fileArchitecture)
        if let stored = shapeOf("params", parameter), stored.count == (fileArchitecture == .mlp ? 2 : 4), stored.allSatisfy({ $0 > 0 }) {
            let input = ModelInput(architecture: fileArchitecture, shape: stored)
            if let imageShape, let problem = input.mismatch(imageShape: imageShape, data: dataName) {
                throw ModelInputError(model: "checkpoint \(path)", detail: problem)
            }
            model = input.model(numClasses: metadata.numClasses, imageShape: imageShape)
        } else {
            // No usable input layer in the file: validation below names what is missing or misshapen.
            model = Model(fileArchitecture, numClasses: metadata.numClasses, seed: 0)
        }
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
