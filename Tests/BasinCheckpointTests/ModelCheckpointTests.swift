import BasinCheckpoint
import BasinCore
import Foundation
import TestSupport
import XCTest

/// Models of the training core through checkpoint files.
final class ModelCheckpointTests: TemporaryFolderTestCase {
    var folder: String { dir }

    func testEveryModelRoundTripsBitForBit() throws {
        for arch in Architecture.allCases {
            let model = Model(arch, numClasses: 5, seed: 3)
            model.batchNorms.first?.runningMean.value.storage[0] = 0.25
            let sgd = SGD()
            for p in model.parameters { sgd.setMomentumBuffer(Tensor(filling: 0.5, shape: p.value.shape), for: p.path) }
            let path = "\(folder)/\(arch).h5"
            try Checkpoint(model: model, metadata: CheckpointMetadata(architecture: "", numClasses: 0, role: .pretrained),
                           optimizer: sgd).write(to: path)
            let (loaded, checkpoint) = try loadModel(path: path, requireOptimizer: true)
            XCTAssertEqual(loaded.architecture, arch)
            XCTAssertEqual(loaded.numClasses, 5)
            XCTAssertEqual(loaded.parameters.map(\.value), model.parameters.map(\.value), "\(arch) parameters")
            XCTAssertEqual(loaded.buffers.map(\.value), model.buffers.map(\.value), "\(arch) buffers")
            let restored = SGD()
            checkpoint.loadOptimizerState(into: restored)
            XCTAssertEqual(restored.momentumBuffers, sgd.momentumBuffers, "\(arch) momentum")
        }
    }

    func testArchitectureAndClassMismatchesAreRefusedWithTheFileNamed() throws {
        let path = "\(folder)/cnn.h5"
        try Checkpoint(model: Model(.cnn, numClasses: 10, seed: 1),
                       metadata: CheckpointMetadata(architecture: "", numClasses: 0, role: .finetuned)).write(to: path)
        XCTAssertThrowsError(try loadModel(path: path, architecture: .resnet20)) { error in
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("resnet20"), "\(error)")
        }
        XCTAssertThrowsError(try loadModel(path: path, numClasses: 5)) { error in
            XCTAssertTrue("\(error)".contains("num_classes") || "\(error)".contains("classes"), "\(error)")
        }
        XCTAssertThrowsError(try loadModel(path: path, requireOptimizer: true))
    }
}
