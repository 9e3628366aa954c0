import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

final class CIFARTests: TemporaryFolderTestCase {
    func record(labels: [UInt8], seed: UInt64) -> (bytes: [UInt8], image: [UInt8]) {
        let image = testBytes(CIFAR.imageBytes, seed: seed)
        return (labels + image, image)
    }

    func testCIFAR10RecordsAreChannelPlanarImages() throws {
        let a = record(labels: [3], seed: 1), b = record(labels: [9], seed: 2)
        let first = try write(a.bytes, to: "data_batch_1.bin")
        let second = try write(b.bytes + a.bytes, to: "data_batch_2.bin")
        let d = try CIFAR.read(paths: [first, second], variant: .cifar10, classNames: CIFAR.cifar10ClassNames)
        XCTAssertEqual(d.images.shape, [3, 3, 32, 32])
        XCTAssertEqual(d.labels, [3, 9, 3])
        XCTAssertEqual(d.numClasses, 10)
        XCTAssertEqual(Array(d.images.storage[(3072)..<(2 * 3072)]), b.image.map { Float($0) / 255 })
        // Green plane of image 0 is bytes 1024..<2048 of its record's image.
        XCTAssertEqual(d.images.storage[1024 + 5], Float(a.image[1024 + 5]) / 255)
    }

    func testCIFAR100FineAndCoarseLabels() throws {
        let p = try write(record(labels: [19, 87], seed: 3).bytes + record(labels: [4, 2], seed: 4).bytes, to: "train.bin")
        XCTAssertEqual(try CIFAR.read(paths: [p], variant: .cifar100(fine: true)).labels, [87, 2])
        let coarse = try CIFAR.read(paths: [p], variant: .cifar100(fine: false))
        XCTAssertEqual(coarse.labels, [19, 4])
        XCTAssertEqual(coarse.numClasses, 20)
    }

    func testSizeNotAMultipleOfTheRecord() throws {
        let p = try write(record(labels: [1], seed: 5).bytes + [0, 0], to: "odd.bin")
        assertThrows(.recordSizeMismatch(path: p, size: 3075, recordSize: 3073), mentions: [p, "3075", "3073"]) {
            try CIFAR.read(paths: [p], variant: .cifar10)
        }
        assertThrows(.recordSizeMismatch(path: p, size: 3075, recordSize: 3074), mentions: [p]) {
            try CIFAR.read(paths: [p], variant: .cifar100(fine: true))
        }
    }

    func testLabelOutOfRangeAndMissingFile() throws {
        let p = try write(record(labels: [10], seed: 6).bytes, to: "bad.bin")
        assertThrows(.labelOutOfRange(path: p, label: 10, numClasses: 10), mentions: [p]) {
            try CIFAR.read(paths: [p], variant: .cifar10)
        }
        let missing = path("test_batch.bin")
        assertThrows(.fileNotFound(path: missing), mentions: [missing]) { try CIFAR.load(.cifar10, split: .test, directory: dir) }
    }
}

final class HDF5ImagesTests: TemporaryFolderTestCase {
    let n = 3, c = 2, h = 2, w = 4

    /// Writes images (given NCHW bytes, stored in `layout`), labels and the layout attribute.
    func makeFile(_ name: String, layout: String? = "NCHW", storeAs: String = "NCHW", float: Bool = false,
                  labels: [Int64]? = nil, withImages: Bool = true, withLabels: Bool = true,
                  variableString: Bool = true) throws -> (path: String, nchw: [UInt8]) {
        let p = path(name)
        let nchw = testBytes(n * c * h * w, seed: 8)
        var stored = nchw
        var dims = [n, c, h, w]
        if storeAs == "NHWC" {
            dims = [n, h, w, c]
            for i in 0..<n { for y in 0..<h { for x in 0..<w { for ch in 0..<c {
                stored[((i * h + y) * w + x) * c + ch] = nchw[((i * c + ch) * h + y) * w + x]
            } } } }
        }
        let writer = try HDF5FixtureWriter(path: p)
        if withImages {
            try writer.writeImages(float ? .float32(stored.map { Float($0) / 255 }) : .uint8(stored), shape: dims,
                                   layout: layout, variableLengthLayout: variableString)
        }
        if withLabels {
            try writer.writeLabels(labels ?? [2, 0, 1])
        }
        try writer.close()
        return (p, nchw)
    }

    func testUInt8NCHWAndNHWCReadTheSame() throws {
        let (nchwPath, expected) = try makeFile("nchw.h5")
        let (nhwcPath, _) = try makeFile("nhwc.h5", layout: "NHWC", storeAs: "NHWC", variableString: false)
        for p in [nchwPath, nhwcPath] {
            let d = try HDF5Images.read(path: p)
            XCTAssertEqual(d.images.shape, [n, c, h, w], p)
            XCTAssertEqual(d.images.storage, expected.map { Float($0) / 255 }, p)
            XCTAssertEqual(d.labels, [2, 0, 1])
            XCTAssertEqual(d.numClasses, 3)
        }
        XCTAssertEqual(try HDF5Images.read(path: nchwPath, numClasses: 10).numClasses, 10)
    }

    func testFloat32ImagesTakenAsIs() throws {
        let (p, expected) = try makeFile("float.h5", layout: "NHWC", storeAs: "NHWC", float: true)
        XCTAssertEqual(try HDF5Images.read(path: p).images.storage, expected.map { Float($0) / 255 })
    }

    func testErrors() throws {
        let noImages = try makeFile("a.h5", withImages: false).path
        assertThrows(.missingDataset(path: noImages, dataset: "images"), mentions: [noImages, "images"]) {
            try HDF5Images.read(path: noImages)
        }
        let noLabels = try makeFile("b.h5", withLabels: false).path
        assertThrows(.missingDataset(path: noLabels, dataset: "labels"), mentions: [noLabels, "labels"]) {
            try HDF5Images.read(path: noLabels)
        }
        let noLayout = try makeFile("c.h5", layout: nil).path
        assertThrows(.missingAttribute(path: noLayout, dataset: "images", attribute: "layout"), mentions: [noLayout, "layout"]) {
            try HDF5Images.read(path: noLayout)
        }
        let badLayout = try makeFile("d.h5", layout: "CHWN").path
        assertThrows(.badLayout(path: badLayout, found: "CHWN"), mentions: [badLayout, "CHWN"]) {
            try HDF5Images.read(path: badLayout)
        }
        let fewLabels = try makeFile("e.h5", labels: [0, 1]).path
        assertThrows(.countMismatch(imagesPath: "\(fewLabels):images", imageCount: 3, labelsPath: "\(fewLabels):labels", labelCount: 2),
                     mentions: [fewLabels, "3 images", "2 labels"]) { try HDF5Images.read(path: fewLabels) }
        let negative = try makeFile("f.h5", labels: [0, -1, 1]).path
        assertThrows(.labelOutOfRange(path: negative, label: -1, numClasses: 2), mentions: [negative]) {
            try HDF5Images.read(path: negative)
        }
        let notHDF5 = try write(Array("not hdf5".utf8), to: "g.h5")
        assertThrows(.hdf5(path: notHDF5, detail: "not an HDF5 file"), mentions: [notHDF5]) { try HDF5Images.read(path: notHDF5) }
        let missing = path("none.h5")
        assertThrows(.fileNotFound(path: missing), mentions: [missing]) { try HDF5Images.read(path: missing) }
    }
}
