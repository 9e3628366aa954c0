import BasinCore
import BasinData
import Foundation
import XCTest

final class AugmentationTests: XCTestCase {
    let height = 5, width = 6

    /// Distinct values per (image, channel, y, x) so any misplaced pixel shows.
    func makeBatch(n: Int, channels: Int) -> Tensor {
        let count = n * channels * height * width
        return Tensor(shape: [n, channels, height, width], storage: (0..<count).map { Float($0) + 0.5 })
    }

    /// Straightforward definition: crop from the zero-padded image at (top, left), then mirror.
    func reference(_ input: Tensor, draws: [AugmentationDraw], padding p: Int, fill: [Float]) -> Tensor {
        var out = Tensor(zeros: input.shape)
        let (n, channels, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        for i in 0..<n {
            for c in 0..<channels {
                for y in 0..<h {
                    for x in 0..<w {
                        let cx = draws[i].flip ? w - 1 - x : x
                        let sy = y + draws[i].top - p, sx = cx + draws[i].left - p
                        let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                        out.storage[((i * channels + c) * h + y) * w + x] =
                            inside ? input.storage[((i * channels + c) * h + sy) * w + sx] : fill[c]
                    }
                }
            }
        }
        return out
    }

    func testFlipIsAnExactMirror() throws {
        let input = makeBatch(n: 1, channels: 1)
        let augmentation = Augmentation(padding: 2, fill: [-9])
        var output = Tensor(zeros: input.shape)
        try augmentation.apply(input, into: &output, draws: [AugmentationDraw(top: 2, left: 2, flip: true)])
        for y in 0..<height {
            for x in 0..<width {
                XCTAssertEqual(output.storage[y * width + x], input.storage[y * width + width - 1 - x])
            }
        }
        try augmentation.apply(input, into: &output, draws: [AugmentationDraw(top: 2, left: 2, flip: false)])
        XCTAssertEqual(output, input, "the centred crop without flip is the identity")
    }

    func testCropShiftsContentAndPadsWithNormalizedZero() throws {
        let input = makeBatch(n: 1, channels: 1)
        let normalization = Normalization.fashionMNIST
        let augmentation = Augmentation(padding: 2, normalization: normalization)
        let pad = (0 - Float(0.2860)) / 0.3530
        XCTAssertEqual(augmentation.fill, [pad])
        var output = Tensor(zeros: input.shape)
        // Window at the padded image's top-left + (0, 4): content moves down 2 and left 2.
        try augmentation.apply(input, into: &output, draws: [AugmentationDraw(top: 0, left: 4, flip: false)])
        for y in 0..<height {
            for x in 0..<width {
                let expected = (y < 2 || x >= width - 2) ? pad : input.storage[(y - 2) * width + x + 2]
                XCTAssertEqual(output.storage[y * width + x], expected, "at (\(y), \(x))")
            }
        }
    }

    func testRandomBatchMatchesReferenceAndIsReproducible() throws {
        let input = makeBatch(n: 64, channels: 2)
        let augmentation = Augmentation(padding: 2, fill: [-1, -2])
        var rng = RandomGenerator(seed: 5)
        let draws = augmentation.draws(count: 64, rng: &rng)
        var output = Tensor(zeros: input.shape)
        try augmentation.apply(input, into: &output, draws: draws)
        XCTAssertEqual(output, reference(input, draws: draws, padding: 2, fill: [-1, -2]))

        var rngA = RandomGenerator(seed: 5), rngB = RandomGenerator(seed: 5)
        let a = try augmentation.applied(to: input, rng: &rngA)
        let b = try augmentation.applied(to: input, rng: &rngB)
        XCTAssertEqual(a, b, "same seed, same output")
        XCTAssertEqual(a, output, "apply(rng:) draws exactly `draws(count:rng:)`")
        var rngC = RandomGenerator(seed: 6)
        XCTAssertNotEqual(try augmentation.applied(to: input, rng: &rngC), a)
    }

    func testDrawsCoverEveryOffsetAndFlipAboutHalf() {
        var rng = RandomGenerator(seed: 9)
        let draws = Augmentation(padding: 2, fill: [0]).draws(count: 4000, rng: &rng)
        XCTAssertEqual(Set(draws.map { [$0.top, $0.left] }).count, 25)
        let flips = draws.filter(\.flip).count
        // Binomial(4000, 0.5) has sd ~32; 200 is over 6 sd.
        XCTAssertLessThan(abs(flips - 2000), 200)
    }

    func testShapeAndDrawErrors() throws {
        let input = makeBatch(n: 2, channels: 1)
        let augmentation = Augmentation(padding: 2, fill: [0])
        var resized = Tensor(zeros: [2, 1, 5, 5])
        var rng = RandomGenerator(seed: 1)
        try augmentation.apply(input, into: &resized, rng: &rng)
        XCTAssertEqual(resized.shape, input.shape, "the output buffer takes the input's shape")
        var output = Tensor(zeros: input.shape)
        XCTAssertThrowsError(try augmentation.apply(input, into: &output, draws: [AugmentationDraw(top: 0, left: 0, flip: false)]))
        XCTAssertThrowsError(try augmentation.apply(input, into: &output,
                                                    draws: Array(repeating: AugmentationDraw(top: 5, left: 0, flip: false), count: 2)))
        XCTAssertThrowsError(try Augmentation(padding: 2, fill: [0, 0]).apply(input, into: &output, rng: &rng))
    }
}
