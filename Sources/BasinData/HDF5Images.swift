import BasinCore
import CHDF5
import Foundation

/// Labelled images in an HDF5 file: a rank-4 dataset `images` (uint8, scaled by 1/255, or
/// float32 taken as is) whose string attribute `layout` is "NCHW" or "NHWC", and a rank-1
/// integer dataset `labels`, at the root or inside a group (a data set file for `--dataset`
/// has both in `/train` and in `/test`). Kept minimal and private to BasinData;
/// BasinCheckpoint has the general HDF5 layer.
public enum HDF5Images {
    /// Whether HDF5 recognizes the file (its signature, also after a user block).
    public static func isHDF5(path: String) -> Bool {
        H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
        return H5Fis_hdf5(path) > 0
    }

    /// Reads `images` and `labels` of the root, or of `group`; `numClasses` defaults to the
    /// largest label + 1.
    public static func read(path: String, group: String? = nil, numClasses: Int? = nil,
                            classNames: [String]? = nil) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        // HDF5 prints its error stack to stderr by default; every failure here becomes a DataError instead.
        H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
        guard H5Fis_hdf5(path) > 0 else { throw DataError.hdf5(path: path, detail: "not an HDF5 file") }
        let file = H5Fopen(path, basin_H5F_ACC_RDONLY(), defaultList)
        guard file >= 0 else { throw DataError.hdf5(path: path, detail: "cannot open") }
        defer { H5Fclose(file) }
        if let group {
            // Checked first: H5Lexists fails, rather than answering "no", for "train/images" without "train".
            guard H5Lexists(file, group, defaultList) > 0 else { throw DataError.missingGroup(path: path, group: group) }
            guard basin_object_kind(file, group) == 0 else { throw DataError.missingGroup(path: path, group: group) }
        }
        let imagesName = group.map { "\($0)/images" } ?? "images"
        let labelsName = group.map { "\($0)/labels" } ?? "labels"

        let images = try openDataset(file, imagesName, path: path)
        defer { H5Dclose(images) }
        let dims = try shape(of: images, name: imagesName, path: path)
        guard dims.count == 4 else {
            throw DataError.badShape(path: path, what: "dataset '\(imagesName)'", expected: "rank 4 (NCHW or NHWC)", found: dims)
        }
        let layout = try stringAttribute(images, dataset: imagesName, name: "layout", path: path)
        guard layout == "NCHW" || layout == "NHWC" else { throw DataError.badLayout(path: path, found: layout) }

        let count = dims.reduce(1, *)
        let type = H5Dget_type(images)
        defer { H5Tclose(type) }
        var pixels: [Float]
        switch (H5Tget_class(type), H5Tget_size(type), H5Tget_sign(type)) {
        case (H5T_INTEGER, 1, H5T_SGN_NONE):
            var bytes = [UInt8](repeating: 0, count: count)
            guard H5Dread(images, basin_H5T_NATIVE_UINT8(), allSpace, allSpace, defaultList, &bytes) >= 0 else {
                throw DataError.hdf5(path: path, detail: "cannot read dataset '\(imagesName)'")
            }
            pixels = unitFloats(from: bytes)
        case (H5T_FLOAT, _, _):
            pixels = [Float](repeating: 0, count: count)
            guard H5Dread(images, basin_H5T_NATIVE_FLOAT(), allSpace, allSpace, defaultList, &pixels) >= 0 else {
                throw DataError.hdf5(path: path, detail: "cannot read dataset '\(imagesName)'")
            }
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

        let labelsSet = try openDataset(file, labelsName, path: path)
        defer { H5Dclose(labelsSet) }
        let labelDims = try shape(of: labelsSet, name: labelsName, path: path)
        guard labelDims.count == 1 else {
            throw DataError.badShape(path: path, what: "dataset '\(labelsName)'", expected: "rank 1", found: labelDims)
        }
        let labelType = H5Dget_type(labelsSet)
        defer { H5Tclose(labelType) }
        guard H5Tget_class(labelType) == H5T_INTEGER else {
            throw DataError.hdf5(path: path, detail: "dataset '\(labelsName)' must hold integers")
        }
        guard labelDims[0] == dims[0] else {
            throw DataError.countMismatch(imagesPath: "\(path):\(imagesName)", imageCount: dims[0],
                                          labelsPath: "\(path):\(labelsName)", labelCount: labelDims[0])
        }
        var raw = [Int64](repeating: 0, count: labelDims[0])
        guard H5Dread(labelsSet, basin_H5T_NATIVE_INT64(), allSpace, allSpace, defaultList, &raw) >= 0 else {
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

    private static func openDataset(_ file: hid_t, _ name: String, path: String) throws -> hid_t {
        guard H5Lexists(file, name, defaultList) > 0 else { throw DataError.missingDataset(path: path, dataset: name) }
        let dataset = H5Dopen2(file, name, defaultList)
        guard dataset >= 0 else { throw DataError.missingDataset(path: path, dataset: name) }
        return dataset
    }

    private static func shape(of dataset: hid_t, name: String, path: String) throws -> [Int] {
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw DataError.hdf5(path: path, detail: "cannot read the shape of '\(name)'") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// A scalar string attribute, fixed or variable length (h5py writes variable length).
    private static func stringAttribute(_ object: hid_t, dataset: String, name: String, path: String) throws -> String {
        guard H5Aexists(object, name) > 0 else {
            throw DataError.missingAttribute(path: path, dataset: dataset, attribute: name)
        }
        let attribute = H5Aopen(object, name, defaultList)
        guard attribute >= 0 else { throw DataError.missingAttribute(path: path, dataset: dataset, attribute: name) }
        defer { H5Aclose(attribute) }
        let fileType = H5Aget_type(attribute)
        defer { H5Tclose(fileType) }
        guard H5Tget_class(fileType) == H5T_STRING else {
            throw DataError.hdf5(path: path, detail: "attribute '\(name)' of '\(dataset)' is not a string")
        }
        let memoryType = H5Tcopy(basin_H5T_C_S1())
        defer { H5Tclose(memoryType) }
        if H5Tis_variable_str(fileType) > 0 {
            H5Tset_size(memoryType, -1)  // H5T_VARIABLE, (size_t)-1; size_t imports as Int
            var pointer: UnsafeMutablePointer<CChar>? = nil
            guard H5Aread(attribute, memoryType, &pointer) >= 0, let text = pointer else {
                throw DataError.hdf5(path: path, detail: "cannot read attribute '\(name)' of '\(dataset)'")
            }
            defer { H5free_memory(text) }
            return String(cString: text)
        }
        let size = H5Tget_size(fileType)
        H5Tset_size(memoryType, size + 1)
        var buffer = [CChar](repeating: 0, count: size + 1)
        guard H5Aread(attribute, memoryType, &buffer) >= 0 else {
            throw DataError.hdf5(path: path, detail: "cannot read attribute '\(name)' of '\(dataset)'")
        }
        return String(cString: buffer).trimmingCharacters(in: .whitespaces)
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

// HDF5's ID macros import as Int32; its functions take hid_t (Int64).
private let defaultList = hid_t(H5P_DEFAULT)
private let allSpace = hid_t(H5S_ALL)
