import BasinCore
import Foundation

/// Per-channel normalization x = (pixel / 255 - mean) / std, computed in float32 with a true
/// division as torchvision's Normalize does, so values match the PyTorch reference bit for bit.
public struct Normalization: Hashable, Sendable, Codable {
    public let mean: [Float]
    public let std: [Float]

    /// `mean` and `std` are per channel; std must be positive. A mismatch here is a programming
    /// error; statistics from data go through `computed(from:)`, which throws instead.
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "Normalization needs one mean and one std per channel")
        precondition(std.allSatisfy { $0 > 0 && $0.isFinite }, "Normalization std must be positive and finite")
        self.mean = mean
        self.std = std
    }

    private enum CodingKeys: String, CodingKey { case mean, std }

    /// Statistics read from a run configuration are user input: checked like `init`, but thrown.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let mean = try container.decode([Float].self, forKey: .mean)
        let std = try container.decode([Float].self, forKey: .std)
        guard mean.count == std.count, !mean.isEmpty, mean.allSatisfy(\.isFinite),
              std.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "normalization needs one finite mean and one positive std per channel"))
        }
        self.init(mean: mean, std: std)
    }

    /// The statistics of the benchmark workloads (Fashion-MNIST training set).
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])

    public var channels: Int { mean.count }

    /// What a black (zero) pixel becomes: the fill value for padding applied before normalization.
    public var normalizedZero: [Float] { zip(mean, std).map { (0 - $0) / $1 } }

    /// Normalizes an [N, C, H, W] tensor in place.
    public func apply(to tensor: inout Tensor) throws {
        guard tensor.rank == 4, tensor.shape[1] == channels else {
            throw DataError.badShape(path: "normalization", what: "images",
                                     expected: "[N, \(channels), H, W]", found: tensor.shape)
        }
        let plane = tensor.shape[2] * tensor.shape[3]
        let n = tensor.shape[0]
        tensor.storage.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            for image in 0..<n {
                for c in 0..<channels {
                    let m = mean[c], s = std[c]
                    let base = p + (image * channels + c) * plane
                    for i in 0..<plane { base[i] = (base[i] - m) / s }
                }
            }
        }
    }

    /// Per-channel mean and (population) standard deviation of a data set's images as they
    /// are held (pixels in [0, 1] for the loaders here); accumulated in double precision.
    public static func computed(from dataset: Dataset) throws -> Normalization {
        let channels = dataset.channels
        let plane = dataset.imageShape[1] * dataset.imageShape[2]
        guard dataset.count > 0, plane > 0 else {
            throw DataError.invalidArgument("cannot compute normalization statistics of an empty data set")
        }
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        dataset.images.storage.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            for image in 0..<dataset.count {
                for c in 0..<channels {
                    let base = p + (image * channels + c) * plane
                    var s = 0.0, q = 0.0
                    for i in 0..<plane {
                        let v = Double(base[i])
                        s += v
                        q += v * v
                    }
                    sums[c] += s
                    squares[c] += q
                }
            }
        }
        let n = Double(dataset.count * plane)
        var mean = [Float](), std = [Float]()
        for c in 0..<channels {
            let m = sums[c] / n
            let variance = max(0, squares[c] / n - m * m)
            guard variance > 0, variance.isFinite else {
                throw DataError.invalidArgument("channel \(c) has zero or non-finite variance; cannot normalize")
            }
            mean.append(Float(m))
            std.append(Float(variance.squareRoot()))
        }
        return Normalization(mean: mean, std: std)
    }
}
