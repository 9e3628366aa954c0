import BasinCore
import Foundation

/// Which half of a data set.
public enum Split: String, Sendable, CaseIterable {
    case train
    case test
}

/// Fashion-MNIST: 28x28 grayscale images of 10 clothing classes, 60000 train / 10000 test.
public enum FashionMNIST {
    /// Where Debian's dataset-fashion-mnist package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The images and labels file names of a split.
    public static func fileNames(_ split: Split) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte.gz", "\(prefix)-labels-idx1-ubyte.gz")
    }

    /// One split as [N, 1, 28, 28] images with pixels in [0, 1] (not yet normalized).
    public static func load(_ split: Split, directory: String = defaultDirectory) throws -> Dataset {
        let names = fileNames(split)
        let dir = URL(fileURLWithPath: directory)
        return try loadIDX(imagesPath: dir.appendingPathComponent(names.images).path,
                           labelsPath: dir.appendingPathComponent(names.labels).path,
                           numClasses: classNames.count, classNames: classNames)
    }

    /// Any pair of IDX files (images rank 3, labels rank 1) as a one-channel data set.
    public static func loadIDX(imagesPath: String, labelsPath: String, numClasses: Int,
                               classNames: [String]? = nil) throws -> Dataset {
        let images = try IDXFile.read(path: imagesPath, expectedMagic: IDXFile.imagesMagic)
        let labels = try IDXFile.read(path: labelsPath, expectedMagic: IDXFile.labelsMagic)
        guard images.dims[0] == labels.dims[0] else {
            throw DataError.countMismatch(imagesPath: imagesPath, imageCount: images.dims[0],
                                          labelsPath: labelsPath, labelCount: labels.dims[0])
        }
        if let bad = labels.bytes.first(where: { Int($0) >= numClasses }) {
            throw DataError.labelOutOfRange(path: labelsPath, label: Int(bad), numClasses: numClasses)
        }
        let shape = [images.dims[0], 1, images.dims[1], images.dims[2]]
        return try Dataset(images: Tensor(shape: shape, storage: unitFloats(from: images.bytes)),
                           labels: labels.bytes.map { Int($0) }, numClasses: numClasses,
                           classNames: classNames, source: imagesPath)
    }
}

/// A transfer-learning task: a subset of classes relabelled 0..<classes.count in the order
/// given, optionally with few training images per class.
public struct TransferTask: Equatable, Sendable {
    public let classes: [Int]
    /// Training images per class, drawn with `dataSeed`; nil keeps them all.
    public let perClass: Int?
    public let dataSeed: UInt64

    public init(classes: [Int], perClass: Int? = nil, dataSeed: UInt64 = 0) {
        self.classes = classes
        self.perClass = perClass
        self.dataSeed = dataSeed
    }

    /// The paper-style split of Fashion-MNIST into a pre-training and a fine-tuning task.
    public static let fashionMNISTSourceClasses = [0, 1, 3, 5, 8]
    public static let fashionMNISTTargetClasses = [2, 4, 6, 7, 9]

    /// Throws a one-line error naming `dataName` when a class is outside the data set's `classCount`.
    public func check(classCount: Int, dataName: String) throws {
        if let bad = classes.first(where: { $0 < 0 || $0 >= classCount }) {
            throw DataError.invalidArgument("class \(bad) is outside the \(classCount) classes (0..<\(classCount)) of the "
                                            + "\(dataName); choose others with --classes")
        }
    }

    /// The training images of the task (per-class sample when `perClass` is set).
    public func trainingSet(from train: Dataset) throws -> Dataset {
        try train.selecting(classes: classes, perClass: perClass, seed: dataSeed)
    }

    /// `count` training images per class from outside the task's per-class sample: images that
    /// training never saw, for choices such as a greedy soup's. Nil when the task keeps every image.
    /// `seed` draws them from the unseen images.
    public func unseenTrainingSet(from train: Dataset, count: Int, seed: UInt64 = 0) throws -> Dataset? {
        guard let perClass else { return nil }
        return try train.unsampled(classes: classes, perClass: perClass, seed: dataSeed, count: count, drawSeed: seed)
    }

    /// Every test image of the task's classes.
    public func evaluationSet(from test: Dataset) throws -> Dataset {
        try test.selecting(classes: classes)
    }
}
