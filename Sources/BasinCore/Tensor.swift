// BasinCore owns the training core: tensors, layers with forward and backward side by
// side, models by name, the loss, SGD, learning-rate schedules, the random generator
// and the parallel loops. It knows nothing of files or data sets.

/// A dense float32 tensor in row-major (NCHW for images) layout with an explicit shape.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var storage: [Float]

    public init(shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count,
                     "Tensor storage count \(storage.count) does not match shape \(shape)")
        self.shape = shape
        self.storage = storage
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor whose every element the caller overwrites before reading (skips zeroing).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.storage = [Float](unsafeUninitializedCapacity: shape.reduce(1, *)) { _, count in
            count = shape.reduce(1, *)
        }
    }

    public init(filling value: Float, shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// Rows `range` of the leading dimension (a batch slice), copied.
    public func slice(rows range: Range<Int>) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape,
                      storage: Array(storage[(range.lowerBound * rowSize)..<(range.upperBound * rowSize)]))
    }

    /// Rows picked by index from the leading dimension, in the given order.
    public func gather(rows indices: [Int]) -> Tensor {
        let rowSize = shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: indices.count * rowSize)
        storage.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (i, row) in indices.enumerated() {
                    (dst.baseAddress! + i * rowSize).update(from: src.baseAddress! + row * rowSize, count: rowSize)
                }
            }
        }
        var newShape = shape
        newShape[0] = indices.count
        return Tensor(shape: newShape, storage: out)
    }

    public var allFinite: Bool { storage.allSatisfy { $0.isFinite } }
}

/// Element type of a stored tensor. Running statistics are float32; `num_batches_tracked`
/// is an int64 counter, held in memory as a float (exact below 2^24 batches).
public enum DType: String, Sendable, Codable {
    case float32
    case int64
}

/// A trainable tensor addressed by its stable path (the PyTorch `state_dict` key, which is
/// also its HDF5 dataset name), with its gradient accumulator.
public final class Parameter {
    public let path: String
    public var value: Tensor
    public var grad: Tensor

    public init(path: String, value: Tensor) {
        self.path = path
        self.value = value
        self.grad = Tensor(zeros: value.shape)
    }

    public func zeroGrad() {
        grad.storage.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

/// A non-trainable state tensor (BatchNorm running statistics, batch counters) addressed by
/// its stable path.
public final class Buffer {
    public let path: String
    public var value: Tensor
    public let dtype: DType

    public init(path: String, value: Tensor, dtype: DType = .float32) {
        self.path = path
        self.value = value
        self.dtype = dtype
    }
}

/// The expected name, shape and type of one stored tensor; what a loader validates against.
public struct TensorSpec: Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let shape: [Int]
    public let dtype: DType

    public init(path: String, shape: [Int], dtype: DType = .float32) {
        self.path = path
        self.shape = shape
        self.dtype = dtype
    }

    public var description: String { "\(path) \(dtype.rawValue)\(shape)" }
}

/// Shape mismatch at a layer boundary, naming the layer and both shapes.
public struct ShapeMismatch: Error, CustomStringConvertible, Equatable {
    public let layer: String
    public let expected: String
    public let actual: [Int]

    public init(layer: String, expected: String, actual: [Int]) {
        self.layer = layer
        self.expected = expected
        self.actual = actual
    }

    public var description: String {
        "shape mismatch at layer '\(layer)': expected \(expected), got \(actual)"
    }
}

func shapeString(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
