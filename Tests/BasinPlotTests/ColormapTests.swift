import BasinPlot
import XCTest

final class ColormapTests: XCTestCase {
    /// The tables hold 6 decimals, and the reference values are those table entries: 1e-6 is exact.
    private func assertColor(_ color: Color, _ expected: (Double, Double, Double), accuracy: Double,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(color.red, expected.0, accuracy: accuracy, file: file, line: line)
        XCTAssertEqual(color.green, expected.1, accuracy: accuracy, file: file, line: line)
        XCTAssertEqual(color.blue, expected.2, accuracy: accuracy, file: file, line: line)
    }

    func testViridisKnownPoints() {
        assertColor(Colormap.viridis.color(at: 0), (0.267004, 0.004874, 0.329415), accuracy: 1e-6)
        assertColor(Colormap.viridis.color(at: 1), (0.993248, 0.906157, 0.143936), accuracy: 1e-6)
        // 0.5 falls halfway between entries 127 and 128; entry 128 is (0.127568, 0.566949, 0.550556) and
        // neighbouring entries differ by under 0.004 per channel.
        assertColor(Colormap.viridis.color(at: 0.5), (0.127568, 0.566949, 0.550556), accuracy: 0.004)
        assertColor(Colormap.viridis.color(at: 128.0 / 255), (0.127568, 0.566949, 0.550556), accuracy: 1e-6)
        XCTAssertEqual(Colormap.viridis.count, 256)
    }

    func testOtherMapsEndpoints() {
        assertColor(Colormap.magma.color(at: 0), (0.001462, 0.000466, 0.013866), accuracy: 1e-6)
        assertColor(Colormap.magma.color(at: 1), (0.987053, 0.991438, 0.749504), accuracy: 1e-6)
        assertColor(Colormap.inferno.color(at: 1), (0.988362, 0.998364, 0.644924), accuracy: 1e-6)
        assertColor(Colormap.plasma.color(at: 0), (0.050383, 0.029803, 0.527975), accuracy: 1e-6)
        assertColor(Colormap.plasma.color(at: 1), (0.940015, 0.975158, 0.131326), accuracy: 1e-6)
        assertColor(Colormap.cividis.color(at: 0), (0.0, 0.135112, 0.304751), accuracy: 1e-6)
        assertColor(Colormap.cividis.color(at: 1), (0.995737, 0.909344, 0.217772), accuracy: 1e-6)
        for map in [Colormap.magma, .inferno, .plasma, .cividis] { XCTAssertEqual(map.count, 256, map.name) }
    }

    func testInterpolationIsLinearBetweenEntries() {
        let low = Colormap.viridis.color(at: 10.0 / 255), high = Colormap.viridis.color(at: 11.0 / 255)
        let middle = Colormap.viridis.color(at: 10.5 / 255)
        XCTAssertEqual(middle.red, (low.red + high.red) / 2, accuracy: 1e-9)
        XCTAssertEqual(middle.blue, (low.blue + high.blue) / 2, accuracy: 1e-9)
    }

    func testReversedAndClamping() throws {
        XCTAssertEqual(Colormap.viridis.reversed.color(at: 0), Colormap.viridis.color(at: 1))
        XCTAssertEqual(Colormap.viridis.reversed.color(at: 0.3), Colormap.viridis.color(at: 0.7))
        XCTAssertEqual(Colormap.viridis.reversed.reversed, Colormap.viridis)
        XCTAssertEqual(Colormap.viridis.color(at: -3), Colormap.viridis.color(at: 0))
        XCTAssertEqual(Colormap.viridis.color(at: .nan), Color.missing)
        XCTAssertEqual(try Colormap.named("magma_r"), Colormap.magma.reversed)
        XCTAssertThrowsError(try Colormap.named("jet"))
    }

    /// Viridis is designed with lightness rising monotonically; relative luminance tracks lightness, so
    /// over steps of 8 entries (well above the table's rounding) it must increase.
    func testViridisLuminanceRises() {
        var previous = -1.0
        for step in stride(from: 0, through: 255, by: 8) {
            let luminance = Colormap.viridis.color(at: Double(step) / 255).luminance
            XCTAssertGreaterThan(luminance, previous, "entry \(step)")
            previous = luminance
        }
    }

    func testDivergingMapIsNeutralInTheMiddle() {
        let middle = Colormap.redBlue.color(at: 0.5)
        XCTAssertEqual(middle.red, 0xF7 / 255.0, accuracy: 1e-9)
        XCTAssertGreaterThan(Colormap.redBlue.color(at: 0).red, Colormap.redBlue.color(at: 0).blue)
        XCTAssertGreaterThan(Colormap.redBlue.color(at: 1).blue, Colormap.redBlue.color(at: 1).red)
    }
}
