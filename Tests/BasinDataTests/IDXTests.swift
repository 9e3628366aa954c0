import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

final class IDXTests: TemporaryFolderTestCase {
    let imageDims = [3, 4, 5]
    lazy var pixels = testBytes(60, seed: 1)

    func testRoundTripGzipAndPlain() throws {
        let bytes = idxBytes(magic: 0x803, dims: imageDims, data: pixels)
        for p in [try writeGzip(bytes, to: "images.gz"), try write(bytes, to: "images.idx")] {
            let array = try IDXFile.read(path: p)
            XCTAssertEqual(array.dims, imageDims)
            XCTAssertEqual(array.bytes, pixels)
        }
        let labels = try IDXFile.read(path: try writeGzip(idxBytes(magic: 0x801, dims: [3], data: [7, 0, 255]), to: "l.gz"),
                                      expectedMagic: IDXFile.labelsMagic)
        XCTAssertEqual(labels, IDXArray(dims: [3], bytes: [7, 0, 255]))
    }

    func testLargeGzipStreamsAcrossInputChunks() throws {
        // More than one 256 KiB input chunk and several output chunks, poorly compressible.
        let data = testBytes(200 * 28 * 28 * 4, seed: 2)
        let p = try writeGzip(idxBytes(magic: 0x803, dims: [800, 28, 28], data: data), to: "big.gz")
        XCTAssertEqual(try IDXFile.read(path: p).bytes, data)
    }

    func testConcatenatedGzipMembersAreOneStream() throws {
        let bytes = idxBytes(magic: 0x803, dims: imageDims, data: pixels)
        let first = try readBytes(try writeGzip(Array(bytes[..<30]), to: "a.gz"))
        let second = try readBytes(try writeGzip(Array(bytes[30...]), to: "b.gz"))
        let p = try write(first + second, to: "both.gz")
        XCTAssertEqual(try IDXFile.read(path: p).bytes, pixels)
    }

    func testMissingFile() {
        let p = path("nowhere-images.gz")
        assertThrows(.fileNotFound(path: p), mentions: [p]) { try IDXFile.read(path: p) }
    }

    func testNamedPipeAndDirectoryAreRefusedWithoutWaiting() throws {
        // Opening a FIFO for reading blocks until a writer comes: the reader must refuse it instead.
        let fifo = path("images-idx3-ubyte")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertThrows(.unreadable(path: fifo, reason: "not a regular file"), mentions: [fifo]) { try IDXFile.read(path: fifo) }
        let folder = path("folder.gz")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        assertThrows(.unreadable(path: folder, reason: "is a directory"), mentions: [folder]) { try IDXFile.read(path: folder) }
    }

    func testGzNameWithoutGzipContent() throws {
        let p = try write(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: "plain.gz")
        assertThrows(.notGzip(path: p), mentions: [p]) { try IDXFile.read(path: p) }
    }

    func testCorruptGzipChecksum() throws {
        var gz = try readBytes(try writeGzip(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: "x.gz"))
        gz[gz.count - 8] ^= 0xFF  // first byte of the CRC-32 trailer
        let p = try write(gz, to: "corrupt.gz")
        assertThrows(.corruptGzip(path: p, detail: "incorrect data check"), mentions: [p]) { try IDXFile.read(path: p) }
    }

    func testCorruptGzipData() throws {
        var gz = try readBytes(try writeGzip(idxBytes(magic: 0x803, dims: [10, 28, 28], data: testBytes(7840, seed: 3)), to: "x.gz"))
        for i in stride(from: 20, to: gz.count - 8, by: 7) { gz[i] ^= 0x5A }
        let p = try write(gz, to: "garbled.gz")
        do {
            _ = try IDXFile.read(path: p)
            XCTFail("garbled gzip data was accepted")
        } catch let error as DataError {
            guard case .corruptGzip(let errorPath, _) = error else { return XCTFail("expected corruptGzip, got \(error)") }
            XCTAssertEqual(errorPath, p)
            assertOneLine(error, mentions: [p, "corrupt gzip"])
        }
    }

    func testWrongMagic() throws {
        let labels = try writeGzip(idxBytes(magic: 0x801, dims: [3], data: [1, 2, 3]), to: "labels.gz")
        assertThrows(.wrongMagic(path: labels, expected: 0x803, found: 0x801), mentions: [labels, "0x00000803", "0x00000801"]) {
            try IDXFile.read(path: labels, expectedMagic: IDXFile.imagesMagic)
        }
        // Type byte 0x0D is float32 IDX, which this reader does not take.
        let floats = try write(idxBytes(magic: 0x0D03, dims: [1, 1, 1], data: [0, 0, 0, 0]), to: "floats.idx")
        assertThrows(.wrongMagic(path: floats, expected: 0x803, found: 0x0D03), mentions: [floats]) { try IDXFile.read(path: floats) }
        let text = try write(Array("hello world\n".utf8), to: "text.idx")
        XCTAssertThrowsError(try IDXFile.read(path: text)) { error in
            guard case .wrongMagic? = error as? DataError else { return XCTFail("expected wrongMagic, got \(error)") }
        }
    }

    func testTruncatedData() throws {
        let full = idxBytes(magic: 0x803, dims: imageDims, data: pixels)
        let cut = Array(full.dropLast(10))
        let detail = "data of shape 3x4x5 needs 60 bytes, found 50"
        let plain = try write(cut, to: "cut.idx")
        assertThrows(.truncated(path: plain, detail: detail), mentions: [plain, "60", "50"]) { try IDXFile.read(path: plain) }
        // A complete gzip stream of too little data: the IDX layer notices.
        let gz = try writeGzip(cut, to: "cut.gz")
        assertThrows(.truncated(path: gz, detail: detail), mentions: [gz]) { try IDXFile.read(path: gz) }
        let header = try write(Array(full[..<10]), to: "header.idx")
        assertThrows(.truncated(path: header, detail: "IDX header with 3 dimension(s) needs 12 bytes, found 6"),
                     mentions: [header]) { try IDXFile.read(path: header) }
    }

    func testGzipStreamCutShort() throws {
        let gz = try readBytes(try writeGzip(idxBytes(magic: 0x803, dims: [10, 28, 28], data: testBytes(7840, seed: 4)), to: "x.gz"))
        for keep in [gz.count / 2, gz.count - 4] {  // mid-data, and inside the trailer
            let p = try write(Array(gz[..<keep]), to: "short-\(keep).gz")
            do {
                _ = try IDXFile.read(path: p)
                XCTFail("gzip stream cut to \(keep) of \(gz.count) bytes was accepted")
            } catch let error as DataError {
                guard case .truncated(let errorPath, let detail) = error else { return XCTFail("expected truncated, got \(error)") }
                XCTAssertEqual(errorPath, p)
                XCTAssertTrue(detail.contains("gzip stream ends before its end marker"), detail)
                assertOneLine(error, mentions: [p])
            }
        }
    }

    func testTrailingDataIsAnError() throws {
        let bytes = idxBytes(magic: 0x803, dims: imageDims, data: pixels) + [9, 9, 9]
        for p in [try write(bytes, to: "extra.idx"), try writeGzip(bytes, to: "extra.gz")] {
            assertThrows(.trailingData(path: p, extraBytes: 3), mentions: [p, "3"]) { try IDXFile.read(path: p) }
        }
        // Bytes after the gzip stream that are not another gzip member.
        let gz = try readBytes(try writeGzip(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: "ok.gz"))
        let p = try write(gz + [1, 2, 3, 4], to: "after.gz")
        assertThrows(.corruptGzip(path: p, detail: "unexpected non-gzip data after the end of the gzip stream"),
                     mentions: [p]) { try IDXFile.read(path: p) }
    }

    func testImageAndLabelCountsDisagree() throws {
        let images = try writeGzip(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: "i.gz")
        let labels = try writeGzip(idxBytes(magic: 0x801, dims: [4], data: [0, 1, 2, 3]), to: "l.gz")
        assertThrows(.countMismatch(imagesPath: images, imageCount: 3, labelsPath: labels, labelCount: 4),
                     mentions: [images, labels, "3 images", "4 labels"]) {
            try FashionMNIST.loadIDX(imagesPath: images, labelsPath: labels, numClasses: 10)
        }
    }

    func testLabelOutOfRange() throws {
        let images = try writeGzip(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: "i.gz")
        let labels = try writeGzip(idxBytes(magic: 0x801, dims: [3], data: [0, 12, 2]), to: "l.gz")
        assertThrows(.labelOutOfRange(path: labels, label: 12, numClasses: 10), mentions: [labels, "12"]) {
            try FashionMNIST.loadIDX(imagesPath: images, labelsPath: labels, numClasses: 10)
        }
    }

    func testLoadScalesPixelsAndShapesNCHW() throws {
        let data: [UInt8] = [0, 255, 51, 128] + [UInt8](repeating: 7, count: 4)
        let images = try writeGzip(idxBytes(magic: 0x803, dims: [2, 2, 2], data: data), to: "i.gz")
        let labels = try writeGzip(idxBytes(magic: 0x801, dims: [2], data: [3, 9]), to: "l.gz")
        let d = try FashionMNIST.loadIDX(imagesPath: images, labelsPath: labels, numClasses: 10)
        XCTAssertEqual(d.images.shape, [2, 1, 2, 2])
        XCTAssertEqual(d.labels, [3, 9])
        // Exactly torchvision's ToTensor: float32(byte) / 255.
        XCTAssertEqual(d.images.storage, data.map { Float($0) / 255 })
        XCTAssertEqual(d.images.storage[1], 1.0)
    }

    func testDirectoryLoaderUsesFashionMNISTNames() throws {
        let names = FashionMNIST.fileNames(.test)
        XCTAssertEqual(names.images, "t10k-images-idx3-ubyte.gz")
        XCTAssertEqual(names.labels, "t10k-labels-idx1-ubyte.gz")
        _ = try writeGzip(idxBytes(magic: 0x803, dims: imageDims, data: pixels), to: names.images)
        _ = try writeGzip(idxBytes(magic: 0x801, dims: [3], data: [0, 5, 9]), to: names.labels)
        let d = try FashionMNIST.load(.test, directory: dir)
        XCTAssertEqual(d.count, 3)
        XCTAssertEqual(d.classNames?[9], "Ankle boot")
        let missing = path("train-images-idx3-ubyte.gz")
        assertThrows(.fileNotFound(path: missing), mentions: [missing]) { try FashionMNIST.load(.train, directory: dir) }
    }
}
