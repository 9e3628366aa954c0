import BasinAnalysis
import XCTest

final class TaskTests: XCTestCase {
    func testTaskFromConfigJSON() {
        XCTAssertEqual(AnalysisTask.fromConfig(#"{"task": {"classes": [2, 4, 6], "per_class": 100, "data_seed": 7}}"#),
                       AnalysisTask(classes: [2, 4, 6], perClass: 100, dataSeed: 7))
        XCTAssertEqual(AnalysisTask.fromConfig(#"{"classes": [0, 1], "perClass": 5, "dataSeed": 3, "epochs": 4}"#),
                       AnalysisTask(classes: [0, 1], perClass: 5, dataSeed: 3))
        XCTAssertEqual(AnalysisTask.fromConfig(#"{"classes": [9]}"#), AnalysisTask(classes: [9]))
        XCTAssertNil(AnalysisTask.fromConfig(#"{"architecture": "cnn", "epochs": 1}"#))
        XCTAssertNil(AnalysisTask.fromConfig("not json"))
        XCTAssertNil(AnalysisTask.fromConfig("{}"))
    }
}
