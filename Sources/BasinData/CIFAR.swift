import BasinCore
import Foundation

/// CIFAR-10 and CIFAR-100 in their binary-batch form: fixed-size records of label byte(s)
/// followed by a 32x32 RGB image stored channel-planar (1024 red, 1024 green, 1024 blue).
public enum CIFAR {
    public enum Variant: Sendable, Equatable {
        /// Records of 1 label byte + 3072 image bytes, 10 classes.
        case cifar10
        /// Records of 1 coarse + 1 fine label byte + 3072 image bytes; `fine` picks the
        /// 100 fine classes, otherwise the 20 coarse superclasses.
        case cifar100(fine: Bool)

        public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        public var recordSize: Int { labelBytes + imageBytes }
        public var numClasses: Int {
            switch self {
            case .cifar10: return 10
            case .cifar100(let fine): return fine ? 100 : 20
            }
        }
        var labelOffset: Int {
            switch self {
            case .cifar10: return 0
            case .cifar100(let fine): return fine ? 1 : 0
            }
        }
    }

    public static let imageBytes = 3 * 32 * 32

    public static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// The batch files of a split inside the extracted archive's directory.
    public static func fileNames(_ variant: Variant, split: Split) -> [String] {
        switch (variant, split) {
        case (.cifar10, .train): return (1...5).map { "data_batch_\($0).bin" }
        case (.cifar10, .test): return ["test_batch.bin"]
        case (.cifar100, .train): return ["train.bin"]
        case (.cifar100, .test): return ["test.bin"]
        }
    }

    /// One split from a directory (`cifar-10-batches-bin` or `cifar-100-binary`), pixels in [0, 1].
    public static func load(_ variant: Variant, split: Split, directory: String) throws -> Dataset {
        let dir = URL(fileURLWithPath: directory)
        let paths = fileNames(variant, split: split).map { dir.appendingPathComponent($0).path }
        let names: [String]? = variant == .cifar10 ? cifar10ClassNames : nil
        return try read(paths: paths, variant: variant, classNames: names)
    }

    /// Concatenates batch files into one [N, 3, 32, 32] data set with pixels in [0, 1].
    public static func read(paths: [String], variant: Variant, classNames: [String]? = nil) throws -> Dataset {
        guard !paths.isEmpty else { throw DataError.invalidArgument("no CIFAR batch files given") }
        var pixels = [Float]()
        var labels = [Int]()
        for path in paths {
            let source = try FileByteSource(path: path)
            let size = try source.size()
            guard size % variant.recordSize == 0 else {
                throw DataError.recordSizeMismatch(path: path, size: size, recordSize: variant.recordSize)
            }
            let bytes = try readExactly(source, count: size, path: path, what: "CIFAR batch")
            let records = size / variant.recordSize
            let start = pixels.count
            pixels.append(contentsOf: repeatElement(0, count: records * imageBytes))
            try bytes.withUnsafeBufferPointer { raw in
                try pixels.withUnsafeMutableBufferPointer { all in
                    let out = UnsafeMutableBufferPointer(rebasing: all[start...])
                    for r in 0..<records {
                        let record = r * variant.recordSize
                        let label = Int(raw[record + variant.labelOffset])
                        guard label < variant.numClasses else {
                            throw DataError.labelOutOfRange(path: path, label: label, numClasses: variant.numClasses)
                        }
                        labels.append(label)
                        bytesToUnitFloats(
                            UnsafeBufferPointer(rebasing: raw[(record + variant.labelBytes)..<(record + variant.recordSize)]),
                            into: UnsafeMutableBufferPointer(rebasing: out[(r * imageBytes)..<((r + 1) * imageBytes)]))
                    }
                }
            }
        }
        return try Dataset(images: Tensor(shape: [labels.count, 3, 32, 32], storage: pixels), labels: labels,
                           numClasses: variant.numClasses, classNames: classNames, source: paths[0])
    }
}
