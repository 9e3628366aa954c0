import Foundation

/// Everything that can be wrong with a data file or a data request. Each description is one
/// line that names the file (or argument) and says what was expected and what was found, so a
/// failed run can be diagnosed from its last log line.
public enum DataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    /// A file named `.gz` that does not start with the gzip magic bytes.
    case notGzip(path: String)
    case corruptGzip(path: String, detail: String)
    case wrongMagic(path: String, expected: UInt32, found: UInt32)
    /// Fewer bytes than the header (or the gzip stream's own framing) promises.
    case truncated(path: String, detail: String)
    /// Bytes left over after everything the header describes.
    case trailingData(path: String, extraBytes: Int)
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)
    case recordSizeMismatch(path: String, size: Int, recordSize: Int)
    case labelOutOfRange(path: String, label: Int, numClasses: Int)
    case missingDataset(path: String, dataset: String)
    case missingGroup(path: String, group: String)
    /// Nothing at the path is a data set basin reads; `found` says what is there.
    case notADataSet(path: String, found: String)
    case missingAttribute(path: String, dataset: String, attribute: String)
    case badLayout(path: String, found: String)
    case badShape(path: String, what: String, expected: String, found: [Int])
    case hdf5(path: String, detail: String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .notGzip(let path):
            return "\(path): not a gzip file (the name ends in .gz but the file lacks the gzip magic bytes 1f 8b)"
        case .corruptGzip(let path, let detail):
            return "\(path): corrupt gzip stream: \(detail)"
        case .wrongMagic(let path, let expected, let found):
            return "\(path): wrong IDX magic number: expected \(hex(expected)), found \(hex(found))"
        case .truncated(let path, let detail):
            return "\(path): truncated: \(detail)"
        case .trailingData(let path, let extra):
            return "\(path): \(extra) unexpected trailing byte(s) after the data the header describes"
        case .countMismatch(let imagesPath, let imageCount, let labelsPath, let labelCount):
            return "image and label counts disagree: \(imagesPath) has \(imageCount) images, "
                + "\(labelsPath) has \(labelCount) labels"
        case .recordSizeMismatch(let path, let size, let recordSize):
            return "\(path): size \(size) bytes is not a multiple of the record size \(recordSize)"
        case .labelOutOfRange(let path, let label, let numClasses):
            return "\(path): label \(label) outside 0..<\(numClasses)"
        case .missingDataset(let path, let dataset):
            return "\(path): missing dataset '\(dataset)'"
        case .missingGroup(let path, let group):
            return "\(path): missing group '\(group)' (a data set file holds /train and /test, each with 'images' and 'labels')"
        case .notADataSet(let path, let found):
            return "\(path): not a data set (\(found)); --dataset takes a folder of Fashion-MNIST gzip IDX files, "
                + "a folder of CIFAR-10 (data_batch_1.bin ... test_batch.bin) or CIFAR-100 (train.bin, test.bin) binary files, "
                + "or an HDF5 file with /train and /test groups"
        case .missingAttribute(let path, let dataset, let attribute):
            return "\(path): dataset '\(dataset)' lacks the attribute '\(attribute)'"
        case .badLayout(let path, let found):
            return "\(path): layout attribute is '\(found)', expected 'NCHW' or 'NHWC'"
        case .badShape(let path, let what, let expected, let found):
            return "\(path): \(what) has shape \(found), expected \(expected)"
        case .hdf5(let path, let detail):
            return "\(path): HDF5 error: \(detail)"
        case .invalidArgument(let detail):
            return "invalid argument: \(detail)"
        }
    }

    public var errorDescription: String? { description }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
