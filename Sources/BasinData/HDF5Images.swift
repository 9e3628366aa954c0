import BasinCore
import BasinHDF5
import Foundation

/// Labelled images in an HDF5 file: a rank-4 dataset `images` (uint8, scaled by 1/255, or
/// float32 taken as is) whose string attribute `layout` is "NCHW" or "NHWC", and a rank-1
/// integer dataset `labels`, at the root or inside a group (a data set file for `--dataset`
/// has both in `/train` and in `/test`), read through BasinHDF5.
public enum HDF5Images {
    /// Whether HDF5 recognizes the file (its signature, also after a user block).
    public static func isHDF5(path: String) -> Bool {
        HDF5File.isHDF5(path: path)
    }

    /// Reads `images` and `labels` of the root, or of `group`; `numClasses` defaults to the
    /// largest label + 1.
    public static func read(path: String, group: String? = nil, numClasses: Int? = nil,
                            classNames: [String]? = nil) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        guard isHDF5(path: path) else { throw DataError.hdf5(path: path, detail: "not an HDF5 file") }
        // Data set files are often compressed (h5py's gzip filter): reads are not bounded by the file size.
        guard let file = try? HDF5File.open(path: path, compressedData: true), let root = try? file.root else {
            throw DataError.hdf5(path: path, detail: "cannot open")
        }
        // Any HDF5 failure below becomes a DataError naming the file.
        func hdf5<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let error as HDF5Error {
                throw DataError.hdf5(path: path, detail: "cannot \(error.operation) '\(error.object)': \(error.detail)")
            }
        }
        var parent = root
        if let group {
            guard try hdf5({ try root.contains(group) }), try hdf5({ try root.kind(of: group) }) == .group else {
                throw DataError.missingGroup(path: path, group: group)
            }
            parent = try hdf5 { try root.openGroup(group) }
        }
        let imagesName = group.map { "\($0)/images" } ?? "images"
        let labelsName = group.map { "\($0)/labels" } ?? "labels"
        func dataset(_ name: String, _ fullName: String) throws -> HDF5DatasetInfo {
            guard try hdf5({ try parent.contains(name) }), try hdf5({ try parent.kind(of: name) }) == .dataset else {
                throw DataError.missingDataset(path: path, dataset: fullName)
            }
            return try hdf5 { try parent.datasetInfo(name) }
        }

        let images = try dataset("images", imagesName)
        let dims = images.shape
        guard dims.count == 4 else {
            throw DataError.badShape(path: path, what: "dataset '\(imagesName)'", expected: "rank 4 (NCHW or NHWC)", found: dims)
        }
        let layout: String
        switch try hdf5({ try parent.attribute("layout", of: "images") }) {
        case nil: throw DataError.missingAttribute(path: path, dataset: imagesName, attribute: "layout")
        case .string(let text)?: layout = text
        case _?: throw DataError.hdf5(path: path, detail: "attribute 'layout' of '\(imagesName)' is not a string")
        }
        guard layout == "NCHW" || layout == "NHWC" else { throw DataError.badLayout(path: path, found: layout) }

        var pixels: [Float]
        switch (images.typeClass, images.elementType) {
        case (.integer, .uint8?):
            guard case .uint8(let bytes) = try hdf5({ try parent.readDataset("images", as: .uint8) }).values else {
                throw DataError.hdf5(path: path, detail: "cannot read dataset '\(imagesName)'")
            }
            pixels = unitFloats(from: bytes)
        case (.float, _):
            guard case .float32(let values) = try hdf5({ try parent.readDataset("images", as: .float32) }).values else {
                throw DataError.hdf5(path: path, detail: "cannot read dataset '\(imagesName)'")
            }
            pixels = values
            if let bad = pixels.firstIndex(where: { !$0.isFinite }) {
                throw DataError.hdf5(path: path, detail: "dataset '\(imagesName)' has a non-finite value at flat index \(bad)")
            }
        default:
            throw DataError.hdf5(path: path, detail: "dataset '\(imagesName)' must hold uint8 or float32 values")
        }
        var nchw = dims
        if layout == "NHWC" {
            nchw = [dims[0], dims[3], dims[1], dims[2]]
            pixels = nhwcToNCHW(pixels, n: dims[0], h: dims[1], w: dims[2], c: dims[3])
        }

        let labelsInfo = try dataset("labels", labelsName)
        let labelDims = labelsInfo.shape
        guard labelDims.count == 1 else {
            throw DataError.badShape(path: path, what: "dataset '\(labelsName)'", expected: "rank 1", found: labelDims)
        }
        guard labelsInfo.typeClass == .integer else {
            throw DataError.hdf5(path: path, detail: "dataset '\(labelsName)' must hold integers")
        }
        guard labelDims[0] == dims[0] else {
            throw DataError.countMismatch(imagesPath: "\(path):\(imagesName)", imageCount: dims[0],
                                          labelsPath: "\(path):\(labelsName)", labelCount: labelDims[0])
        }
        guard case .int64(let raw) = try hdf5({ try parent.readDataset("labels", as: .int64) }).values else {
            throw DataError.hdf5(path: path, detail: "cannot read dataset '\(labelsName)'")
        }
        let labels = raw.map { Int($0) }
        let classes = numClasses ?? ((labels.max() ?? 0) + 1)
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw DataError.labelOutOfRange(path: path, label: bad, numClasses: classes)
        }
        return try Dataset(images: Tensor(shape: nchw, storage: pixels), labels: labels,
                           numClasses: classes, classNames: classNames, source: path)
    }

    private static func nhwcToNCHW(_ src: [Float], n: Int, h: Int, w: Int, c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: src.count)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for image in 0..<n {
                    let base = image * h * w * c
                    for y in 0..<h {
                        for x in 0..<w {
                            for ch in 0..<c {
                                d[base + (ch * h + y) * w + x] = s[base + (y * w + x) * c + ch]
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
