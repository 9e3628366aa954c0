import BasinCore
import Foundation

/// The random choices for one image: where the crop window sits in the padded image and
/// whether the crop is mirrored. `top` and `left` are in 0...2*padding; padding/padding is
/// the identity crop.
public struct AugmentationDraw: Equatable, Sendable {
    public let top: Int
    public let left: Int
    public let flip: Bool

    public init(top: Int, left: Int, flip: Bool) {
        self.top = top
        self.left = left
        self.flip = flip
    }
}

/// Training-time augmentation as torchvision's RandomCrop(size, padding) followed by
/// RandomHorizontalFlip(p). torchvision pads the raw image with black before normalizing, so
/// on normalized images the padding value is the normalized zero, (0 - mean) / std per channel.
/// None of this is applied at evaluation.
public struct Augmentation: Equatable, Sendable {
    public let padding: Int
    public let flipProbability: Float
    /// Per-channel padding value.
    public let fill: [Float]

    /// The settings are the recipe's constants; out-of-range values are programming errors.
    public init(padding: Int = 2, flipProbability: Float = 0.5, fill: [Float]) {
        precondition(padding >= 0, "augmentation padding must be non-negative")
        precondition((0...1).contains(flipProbability), "flip probability must lie in [0, 1]")
        self.padding = padding
        self.flipProbability = flipProbability
        self.fill = fill
    }

    /// Pads with the normalized black pixel of `normalization`.
    public init(padding: Int = 2, flipProbability: Float = 0.5, normalization: Normalization) {
        self.init(padding: padding, flipProbability: flipProbability, fill: normalization.normalizedZero)
    }

    /// Draws the choices for `count` images. Per image, in this order: top, left (each
    /// uniform in 0...2*padding), then one uniform float compared with `flipProbability`.
    public func draws(count: Int, rng: inout RandomGenerator) -> [AugmentationDraw] {
        (0..<count).map { _ in
            let top = rng.nextInt(below: 2 * padding + 1)
            let left = rng.nextInt(below: 2 * padding + 1)
            let flip = rng.nextFloat() < flipProbability
            return AugmentationDraw(top: top, left: left, flip: flip)
        }
    }

    /// Augments the [N, C, H, W] `input` into the preallocated `output` of the same shape.
    public func apply(_ input: Tensor, into output: inout Tensor, rng: inout RandomGenerator) throws {
        guard input.rank == 4 else {
            throw DataError.badShape(path: "augmentation", what: "input", expected: "[N, C, H, W]", found: input.shape)
        }
        try apply(input, into: &output, draws: draws(count: input.shape[0], rng: &rng))
    }

    /// Augmented copy of `input`.
    public func applied(to input: Tensor, rng: inout RandomGenerator) throws -> Tensor {
        var output = Tensor(zeros: input.shape)
        try apply(input, into: &output, rng: &rng)
        return output
    }

    /// Applies given choices (one per image); the deterministic half of `apply(_:into:rng:)`.
    public func apply(_ input: Tensor, into output: inout Tensor, draws: [AugmentationDraw]) throws {
        guard input.rank == 4, input.shape[1] == fill.count else {
            throw DataError.badShape(path: "augmentation", what: "input",
                                     expected: "[N, \(fill.count), H, W]", found: input.shape)
        }
        if output.shape != input.shape { output = Tensor(zeros: input.shape) }
        let (n, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        guard draws.count == n else {
            throw DataError.invalidArgument("augmentation has \(draws.count) draws for \(n) images")
        }
        let p = padding
        if let bad = draws.first(where: { !(0...(2 * p)).contains($0.top) || !(0...(2 * p)).contains($0.left) }) {
            throw DataError.invalidArgument("augmentation draw \(bad) outside 0...\(2 * p)")
        }
        input.storage.withUnsafeBufferPointer { inBuffer in
            output.storage.withUnsafeMutableBufferPointer { outBuffer in
                let src = inBuffer.baseAddress!
                let dst = outBuffer.baseAddress!
                for image in 0..<n {
                    let draw = draws[image]
                    let shiftY = draw.top - p, shiftX = draw.left - p
                    // Output columns whose source column lies inside the image.
                    let lo = min(width, max(0, -shiftX)), hi = max(lo, min(width, width - shiftX))
                    for c in 0..<channels {
                        let plane = (image * channels + c) * height * width
                        let value = fill[c]
                        for y in 0..<height {
                            let out = dst + plane + y * width
                            let sy = y + shiftY
                            if sy < 0 || sy >= height {
                                out.update(repeating: value, count: width)
                                continue
                            }
                            let row = src + plane + sy * width
                            if !draw.flip {
                                out.update(repeating: value, count: lo)
                                (out + lo).update(from: row + lo + shiftX, count: hi - lo)
                                (out + hi).update(repeating: value, count: width - hi)
                            } else {
                                for x in 0..<width {
                                    out[width - 1 - x] = (x >= lo && x < hi) ? row[x + shiftX] : value
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
