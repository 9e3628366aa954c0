// The one HDF5 fixture writer of the tests: image files as other tools (h5py) write them,
// unsealed, through BasinHDF5 like everything else in basin.
import BasinHDF5
import Foundation

public struct HDF5FixtureWriter {
    public let file: HDF5File
    public let root: HDF5Group

    public init(path: String) throws {
        file = try HDF5File.create(path: path)
        root = try file.root
    }

    /// The group `name` (created), or the root for nil.
    public func group(_ name: String?) throws -> HDF5Group {
        guard let name else { return root }
        return try root.contains(name) ? try root.openGroup(name) : try root.createGroup(name)
    }

    /// `images` (stored values, shape as given) with a string attribute `layout` when given:
    /// variable length as h5py writes it, or fixed length.
    public func writeImages(_ values: HDF5Values, shape: [Int], group name: String? = nil, layout: String?,
                            variableLengthLayout: Bool = true) throws {
        let parent = try group(name)
        try parent.writeDataset("images", HDF5Array(shape: shape, values: values))
        if let layout {
            try parent.setAttribute("layout", .string(layout), of: "images", fixedLengthString: !variableLengthLayout)
        }
    }

    /// int64 `labels`.
    public func writeLabels(_ labels: [Int64], group name: String? = nil) throws {
        try group(name).writeDataset("labels", HDF5Array(shape: [labels.count], values: .int64(labels)))
    }

    /// `images` of `TinyImages` in `layout` (uint8, or float32 pixel / 255 when `float`) and their labels.
    public func writeImages(_ images: TinyImages, group name: String? = nil, float: Bool, layout: String) throws {
        let stored = layout == "NHWC" ? images.nhwc : images.pixels
        let shape = layout == "NHWC" ? [images.count, images.height, images.width, images.channels] : images.shape
        try writeImages(float ? .float32(stored.map { Float($0) / 255 }) : .uint8(stored), shape: shape, group: name,
                        layout: layout)
        try writeLabels(images.labels.map(Int64.init), group: name)
    }

    public func close() throws { try file.close() }
}
