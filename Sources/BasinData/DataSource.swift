import BasinCore
import Foundation

/// The data set formats `--dataset` reads. Which one a path holds is decided by what is there
/// (`DataSource.detect`), never by its name.
public enum DataFormat: String, Codable, Sendable, CaseIterable {
    /// A folder of gzip IDX files with Fashion-MNIST's names (MNIST and Kuzushiji-MNIST ship the same files).
    case fashionMNIST = "fashion-mnist"
    /// A folder of CIFAR-10 binary batches: data_batch_1.bin ... data_batch_5.bin, test_batch.bin.
    case cifar10 = "cifar-10"
    /// A folder of CIFAR-100 binary files: train.bin, test.bin.
    case cifar100 = "cifar-100"
    /// An HDF5 file with groups /train and /test, each holding `images` and `labels` (HDF5Images).
    case hdf5
}

/// Which of CIFAR-100's two labels a run classifies.
public enum CIFAR100Labels: String, Codable, Sendable, CaseIterable {
    /// The 100 classes.
    case fine
    /// The 20 superclasses.
    case coarse
}

/// Where a data set is and how to read it: what `--dataset` resolves to.
public struct DataSource: Codable, Hashable, Sendable, CustomStringConvertible {
    public var format: DataFormat
    /// Absolute, so a run configuration names the same data from any working directory.
    public var path: String
    /// CIFAR-100 only (nil means fine there).
    public var labels: CIFAR100Labels?

    public init(format: DataFormat, path: String, labels: CIFAR100Labels? = nil) {
        self.format = format
        self.path = path
        self.labels = format == .cifar100 ? (labels ?? .fine) : nil
    }

    /// Debian's Fashion-MNIST: the default of every command.
    public static let fashionMNIST = DataSource(format: .fashionMNIST, path: FashionMNIST.defaultDirectory)

    public var description: String {
        "\(format.rawValue)\(labels.map { " (\($0.rawValue) labels)" } ?? "") data set \(path)"
    }

    /// The data set at `path`, its format told by the files there. `cifar100Labels` is only
    /// meaningful for a CIFAR-100 folder.
    public static func detect(path: String, cifar100Labels: CIFAR100Labels? = nil) throws -> DataSource {
        var isFolder: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw DataError.notADataSet(path: path, found: "no such file or folder")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let format: DataFormat
        if isFolder.boolValue {
            func has(_ name: String) -> Bool {
                var dir: ObjCBool = false
                return FileManager.default.fileExists(atPath: absolute + "/" + name, isDirectory: &dir) && !dir.boolValue
            }
            // One marker file per format; a folder missing others of that format's files gets the
            // loader's error naming the missing file, which says more than "not a data set".
            if has(FashionMNIST.fileNames(.train).images) {
                format = .fashionMNIST
            } else if has(CIFAR.fileNames(.cifar10, split: .train)[0]) {
                format = .cifar10
            } else if has(CIFAR.fileNames(.cifar100(fine: true), split: .train)[0]) {
                format = .cifar100
            } else {
                throw DataError.notADataSet(path: path, found: "a folder without \(FashionMNIST.fileNames(.train).images), "
                                            + "data_batch_1.bin or train.bin")
            }
        } else {
            guard HDF5Images.isHDF5(path: absolute) else {
                throw DataError.notADataSet(path: path, found: "a file that is not HDF5")
            }
            format = .hdf5
        }
        if let cifar100Labels, format != .cifar100 {
            throw DataError.invalidArgument("\(path): CIFAR-100 labels (\(cifar100Labels.rawValue)) apply to CIFAR-100 only, not to \(format.rawValue) data")
        }
        return DataSource(format: format, path: absolute, labels: cifar100Labels)
    }

    /// One split as stored, pixels in [0, 1] (uint8 / 255) or float32 as given, not normalized.
    public func read(_ split: Split) throws -> Dataset {
        switch format {
        case .fashionMNIST:
            return try FashionMNIST.load(split, directory: path)
        case .cifar10:
            return try CIFAR.load(.cifar10, split: split, directory: path)
        case .cifar100:
            return try CIFAR.load(.cifar100(fine: labels != .coarse), split: split, directory: path)
        case .hdf5:
            return try HDF5Images.read(path: path, group: split.rawValue)
        }
    }

    /// Both splits, normalized with the data set's statistics: Fashion-MNIST's fixed ones for
    /// the IDX format (the benchmark workloads and every Fashion-MNIST result depend on exactly
    /// those), per-channel mean and std of the whole training split for every other format, so
    /// the source and target tasks of one data set see the same statistics.
    public func load() throws -> LoadedData {
        var train = try read(.train)
        var test = try read(.test)
        guard train.count > 0 else { throw DataError.invalidArgument("\(path): the training split holds no images") }
        guard train.imageShape == test.imageShape else {
            throw DataError.badShape(path: path, what: "the test images", expected: "\(train.imageShape) as the training images",
                                     found: test.imageShape)
        }
        guard train.imageShape.allSatisfy({ $0 > 0 }) else {
            throw DataError.badShape(path: path, what: "the images", expected: "[C, H, W] with every size positive",
                                     found: train.imageShape)
        }
        // An HDF5 file's class count comes from its labels: both splits must agree on it.
        let classes = max(train.numClasses, test.numClasses)
        if train.numClasses != classes {
            train = try Dataset(images: train.images, labels: train.labels, numClasses: classes, source: path)
        }
        if test.numClasses != classes {
            test = try Dataset(images: test.images, labels: test.labels, numClasses: classes, source: path)
        }
        let normalization: Normalization
        do {
            normalization = format == .fashionMNIST ? .fashionMNIST : try Normalization.computed(from: train)
        } catch DataError.invalidArgument(let detail) {
            throw DataError.invalidArgument("\(path): training split: \(detail)")
        }
        let config = DatasetConfig(format: format, path: path, labels: labels, inputShape: train.imageShape,
                                   numClasses: classes, normalization: normalization)
        return LoadedData(config: config, train: try train.normalized(normalization), test: try test.normalized(normalization))
    }
}

extension DataSource {
    /// One split, normalized as `load()` normalizes it; reads only that split when the statistics are fixed.
    public func load(_ split: Split) throws -> Dataset {
        guard format == .fashionMNIST else { return try load().split(split) }
        return try read(split).normalized(.fashionMNIST)
    }
}

/// A data set as a run saw it: where it is, its image shape, class count and the statistics
/// its images were normalized with. Stored in every run configuration (`task.dataset`).
public struct DatasetConfig: Codable, Hashable, Sendable, CustomStringConvertible {
    public var format: DataFormat
    public var path: String
    public var labels: CIFAR100Labels?
    /// [C, H, W] of one image.
    public var inputShape: [Int]
    /// Classes of the whole data set (a task uses some of them).
    public var numClasses: Int
    public var normalization: Normalization

    public init(format: DataFormat, path: String, labels: CIFAR100Labels? = nil, inputShape: [Int], numClasses: Int,
                normalization: Normalization) {
        self.format = format
        self.path = path
        self.labels = labels
        self.inputShape = inputShape
        self.numClasses = numClasses
        self.normalization = normalization
    }

    /// Debian's Fashion-MNIST at its fixed statistics: what a configuration written before
    /// data sets were recorded was trained on.
    public static let fashionMNIST = DatasetConfig(format: .fashionMNIST, path: FashionMNIST.defaultDirectory,
                                                   inputShape: [1, 28, 28], numClasses: 10, normalization: .fashionMNIST)

    public var source: DataSource { DataSource(format: format, path: path, labels: labels) }

    public var description: String {
        source.description + " [" + inputShape.map(String.init).joined(separator: ", ") + "]"
    }

    private enum CodingKeys: String, CodingKey { case format, path, labels, inputShape, numClasses, normalization }

    /// A configuration file is user input: a shape or class count no data set has is an error, not a trap later.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(DataFormat.self, forKey: .format)
        path = try c.decode(String.self, forKey: .path)
        labels = try c.decodeIfPresent(CIFAR100Labels.self, forKey: .labels)
        inputShape = try c.decode([Int].self, forKey: .inputShape)
        numClasses = try c.decode(Int.self, forKey: .numClasses)
        normalization = try c.decode(Normalization.self, forKey: .normalization)
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .inputShape, in: c,
                                                   debugDescription: "input shape \(inputShape) is not [C, H, W]")
        }
        guard numClasses > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .numClasses, in: c, debugDescription: "numClasses \(numClasses)")
        }
        guard normalization.channels == inputShape[0] else {
            throw DecodingError.dataCorruptedError(forKey: .normalization, in: c,
                                                   debugDescription: "normalization of \(normalization.channels) channels for \(inputShape[0])")
        }
    }
}

/// Both splits of a data set, normalized, with its record.
public struct LoadedData: Sendable {
    public let config: DatasetConfig
    public let train: Dataset
    public let test: Dataset

    public init(config: DatasetConfig, train: Dataset, test: Dataset) {
        self.config = config
        self.train = train
        self.test = test
    }

    public func split(_ split: Split) -> Dataset { split == .train ? train : test }
}
