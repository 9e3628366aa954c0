// Tiny data sets on disk in the formats `--dataset` reads, written by the tests themselves:
// CIFAR binary batches and HDF5 image files (uint8 or float32, NCHW or NHWC).
import CZlib
import Foundation

/// Labelled images as bytes: class k is a bright vertical band at column k (mod width) in
/// channel k (mod channels), on noise, so a small model learns something in one epoch and a
/// random one does not.
public struct TinyImages {
    public let channels: Int, height: Int, width: Int
    public let labels: [Int]
    /// NCHW.
    public let pixels: [UInt8]

    public init(count: Int, classes: Int, channels: Int, height: Int, width: Int, seed: UInt64) {
        self.channels = channels
        self.height = height
        self.width = width
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func noise() -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % 70)
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(count * channels * height * width)
        labels = (0..<count).map { $0 % classes }
        for label in labels {
            for c in 0..<channels {
                for _ in 0..<height {
                    for x in 0..<width {
                        let band = c == label % channels && x == label % width ? 170 : 0
                        pixels.append(UInt8(min(255, band + noise())))
                    }
                }
            }
        }
        self.pixels = pixels
    }

    /// Given pixels (NCHW) and labels, e.g. hand-made values for exact statistics.
    public init(pixels: [UInt8], labels: [Int], channels: Int, height: Int, width: Int) {
        precondition(pixels.count == labels.count * channels * height * width, "fixture pixels and labels disagree")
        self.pixels = pixels
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var count: Int { labels.count }
    public var shape: [Int] { [count, channels, height, width] }
    public var imageSize: Int { channels * height * width }

    /// The same pixels in NHWC order.
    public var nhwc: [UInt8] {
        var out = [UInt8](repeating: 0, count: pixels.count)
        for i in 0..<count { for c in 0..<channels { for y in 0..<height { for x in 0..<width {
            out[((i * height + y) * width + x) * channels + c] = pixels[((i * channels + c) * height + y) * width + x]
        } } } }
        return out
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
}

public enum DataFixtures {
    /// A CIFAR-10 folder: the training images spread over data_batch_1.bin ... data_batch_5.bin
    /// (in order), the test images in test_batch.bin. Images must be 3x32x32.
    public static func writeCIFAR10(folder: String, train: TinyImages, test: TinyImages) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let perBatch = (train.count + 4) / 5
        for b in 0..<5 {
            let range = min(b * perBatch, train.count)..<min((b + 1) * perBatch, train.count)
            try cifarRecords(train, range, labelBytes: { [UInt8($0)] }).write(to: URL(fileURLWithPath: folder + "/data_batch_\(b + 1).bin"))
        }
        try cifarRecords(test, 0..<test.count, labelBytes: { [UInt8($0)] }).write(to: URL(fileURLWithPath: folder + "/test_batch.bin"))
    }

    /// A CIFAR-100 folder (train.bin, test.bin): records of coarse label `coarse(fine)`, fine label, image.
    public static func writeCIFAR100(folder: String, train: TinyImages, test: TinyImages, coarse: (Int) -> Int) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try cifarRecords(train, 0..<train.count, labelBytes: { [UInt8(coarse($0)), UInt8($0)] })
            .write(to: URL(fileURLWithPath: folder + "/train.bin"))
        try cifarRecords(test, 0..<test.count, labelBytes: { [UInt8(coarse($0)), UInt8($0)] })
            .write(to: URL(fileURLWithPath: folder + "/test.bin"))
    }

    private static func cifarRecords(_ images: TinyImages, _ range: Range<Int>, labelBytes: (Int) -> [UInt8]) throws -> Data {
        guard images.channels == 3, images.height == 32, images.width == 32 else {
            throw FixtureError(description: "CIFAR images are 3x32x32, not \(images.channels)x\(images.height)x\(images.width)")
        }
        var bytes: [UInt8] = []
        for i in range {
            bytes += labelBytes(images.labels[i])
            bytes += images.pixels[(i * 3072)..<((i + 1) * 3072)]
        }
        return Data(bytes)
    }

    /// An HDF5 data set file: groups /train and /test, each with `images` (uint8, or float32
    /// pixel / 255 when `float`) stored in `layout` ("NCHW" or "NHWC", also its `layout`
    /// attribute) and int64 `labels`. `groups` chooses which splits are written.
    public static func writeHDF5(path: String, train: TinyImages, test: TinyImages, float: Bool, layout: String,
                                 groups: [String] = ["train", "test"]) throws {
        let writer = try HDF5FixtureWriter(path: path)
        for (name, images) in [("train", train), ("test", test)] where groups.contains(name) {
            try writer.writeImages(images, group: name, float: float, layout: layout)
        }
        try writer.close()
    }

    /// `bytes` gzip-compressed through zlib's gzwrite.
    public static func writeGzip(_ bytes: [UInt8], to path: String) throws {
        guard let gz = gzopen(path, "wb") else { throw FixtureError(description: "gzopen \(path) failed") }
        let written = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
        let closed = gzclose(gz)
        guard Int(written) == bytes.count, closed == Z_OK else { throw FixtureError(description: "gzwrite \(path) failed") }
    }

    /// An IDX file's bytes: magic, big-endian dimensions, data.
    public static func idxBytes(magic: UInt32, dims: [Int], data: [UInt8]) -> [UInt8] {
        func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        return bigEndian(magic) + dims.flatMap { bigEndian(UInt32($0)) } + data
    }
}
