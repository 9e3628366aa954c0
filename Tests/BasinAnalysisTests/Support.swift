import BasinAnalysis
import BasinCheckpoint
import BasinCore
import BasinData
import Foundation
import TestSupport
import XCTest

/// Fashion-MNIST-like bytes: each class a bright horizontal band at its own height, plus noise,
/// so a tiny model separates the classes a little and a random one does not.
func syntheticImages(count: Int, seed: UInt64) -> (pixels: [UInt8], labels: [UInt8]) {
    var rng = RandomGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: count * 784), labels = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        let label = i % 10
        labels[i] = UInt8(label)
        for r in 0..<28 {
            for c in 0..<28 {
                let band = abs(r - (2 + 2 * label)) <= 1 ? 160 : 0
                pixels[i * 784 + r * 28 + c] = UInt8(min(255, band + Int(rng.next() % 80)))
            }
        }
    }
    return (pixels, labels)
}

/// The same images as a normalized Dataset.
func syntheticDataset(count: Int, seed: UInt64) throws -> Dataset {
    let (pixels, labels) = syntheticImages(count: count, seed: seed)
    let images = Tensor(shape: [count, 1, 28, 28], storage: pixels.map { Float($0) / 255 })
    return try Dataset(images: images, labels: labels.map(Int.init), numClasses: 10).normalized(.fashionMNIST)
}

/// Writes gzip IDX files named as Fashion-MNIST's into `folder`.
func writeSyntheticFashionMNIST(folder: String, train: Int, test: Int) throws {
    for (prefix, count, seed) in [("train", train, UInt64(1)), ("t10k", test, UInt64(2))] {
        let (pixels, labels) = syntheticImages(count: count, seed: seed)
        try DataFixtures.writeGzip(DataFixtures.idxBytes(magic: 0x0803, dims: [count, 28, 28], data: pixels),
                                   to: folder + "/\(prefix)-images-idx3-ubyte.gz")
        try DataFixtures.writeGzip(DataFixtures.idxBytes(magic: 0x0801, dims: [count], data: labels),
                                   to: folder + "/\(prefix)-labels-idx1-ubyte.gz")
    }
}

/// Writes a checkpoint of a freshly initialized model (BatchNorm statistics made non-trivial by
/// one train-mode pass, so "own statistics" and "recomputed" differ).
@discardableResult
func writeModelCheckpoint(_ arch: Architecture, seed: UInt64, to path: String, warmup: Dataset? = nil,
                          config: String = "{}") throws -> Model {
    let model = Model(arch, numClasses: 10, seed: seed)
    if let warmup {
        let (images, _) = warmup.batch(indices: Array(0..<min(16, warmup.count)))
        _ = try model.forward(images, ForwardContext(mode: .train, keepsCaches: false))
    }
    try writeCheckpoint(Checkpoint(model: model, metadata: CheckpointMetadata(architecture: arch.rawValue, numClasses: 10,
                                                                               role: .finetuned, config: config, seed: seed)),
                        to: path)
    return model
}

/// The value of `key` in the first stdout line that has it.
func value(_ key: String, in stdout: String) -> String? {
    for line in stdout.split(separator: "\n") {
        for field in line.split(separator: " ") where field.hasPrefix(key + "=") {
            return String(field.dropFirst(key.count + 1))
        }
    }
    return nil
}
