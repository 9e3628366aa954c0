import Foundation

/// Tick positions and their labels along one axis.
struct Ticks {
    var values: [Double]
    var labels: [String]
}

enum TickMaker {
    /// "Nice" step (1, 2, 2.5 or 5 times a power of ten) giving about `target` intervals over the span.
    static func niceStep(span: Double, target: Int) -> Double {
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(max(target, 1))
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double
        if fraction < 1.5 { nice = 1 } else if fraction < 2.25 { nice = 2 } else if fraction < 3.5 { nice = 2.5 }
        else if fraction < 7.5 { nice = 5 } else { nice = 10 }
        return nice * magnitude
    }

    /// Multiples of a nice step inside [low, high] (both ends included up to rounding).
    static func linear(low: Double, high: Double, target: Int = 5) -> Ticks {
        guard low.isFinite, high.isFinite else { return Ticks(values: [], labels: []) }
        guard high > low else { return Ticks(values: [low], labels: [format(low, step: max(abs(low), 1))]) }
        let span = high - low
        // A span past Double's range (-1e308 to 1e308), or a nice step below the resolution of
        // the values (1e17 to 1e17 + 64, where index + 1 == index): only the two ends are ticks.
        guard span.isFinite else { return endpoints(low: low, high: high) }
        let step = niceStep(span: span, target: target)
        let tolerance = step * 1e-9
        let first = ceil((low - tolerance) / step), last = floor((high + tolerance) / step)
        guard first.isFinite, last.isFinite, abs(first) < 0x1p52, abs(last) < 0x1p52, last >= first,
              last - first <= 1000 else { return endpoints(low: low, high: high) }
        let values = (0...Int(last - first)).map { offset -> Double in
            // Snap tiny rounding residues (e.g. 3e-17) to exact zero so labels read "0".
            let value = (first + Double(offset)) * step
            return abs(value) < tolerance ? 0 : value
        }
        return Ticks(values: values, labels: values.map { format($0, step: step) })
    }

    /// The axis' two ends as its only ticks, labelled with enough digits to tell them apart.
    static func endpoints(low: Double, high: Double) -> Ticks {
        let gap = high / 2 - low / 2
        return Ticks(values: [low, high], labels: [low, high].map { format($0, step: gap.isFinite && gap > 0 ? gap : abs(high)) })
    }

    /// Decades inside [low, high] for a log axis, with 2 and 5 multiples when fewer than two decades fit.
    static func logarithmic(low: Double, high: Double) -> Ticks {
        guard low > 0, high > low, high.isFinite else { return linear(low: low, high: high) }
        let first = Int(ceil(log10(low) - 1e-9)), last = Int(floor(log10(high) + 1e-9))
        if last - first >= 1 {
            let every = max(1, (last - first + 5) / 6)
            let exponents = stride(from: first, through: last, by: every)
            return Ticks(values: exponents.map { pow(10, Double($0)) }, labels: exponents.map { powerOfTen($0) })
        }
        func multiples(_ mantissas: [Double]) -> [Double] {
            var values: [Double] = []
            for exponent in (first - 1)...(last + 1) {
                for multiple in mantissas {
                    let value = multiple * pow(10, Double(exponent))
                    if value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9) { values.append(value) }
                }
            }
            return values
        }
        var values = multiples([1, 2, 5])
        // Less than a decade: 1-2-5 leaves one or two ticks, so take finer round values.
        if values.count < 3 { values = multiples([1, 1.5, 2, 3, 4, 5, 6, 8]) }
        if values.count > 7 { values = stride(from: 0, to: values.count, by: 2).map { values[$0] } }
        if values.count < 2 { return linear(low: low, high: high, target: 3) }
        // Each label with just the decimals its value needs: 0.6, 0.8, 1, 1.5, 2, 3.
        return Ticks(values: values, labels: values.map { format($0, step: $0) })
    }

    static func powerOfTen(_ exponent: Int) -> String {
        let superscripts: [Character: Character] = [
            "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻",
        ]
        return "10" + String(String(exponent).compactMap { superscripts[$0] })
    }

    /// A number with just enough decimals to tell ticks `step` apart; true minus sign; very large
    /// or small magnitudes in scientific notation.
    static func format(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        let text: String
        if magnitude >= 1e5 || magnitude < 1e-4 {
            text = String(format: "%.*e", decimalsForMantissa(value: value, step: step), value)
                .replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e-0", with: "e-")
                .replacingOccurrences(of: "e+", with: "e")
        } else {
            text = String(format: "%.*f", decimals(step: step), value)
        }
        return text.replacingOccurrences(of: "-", with: "\u{2212}")
    }

    /// Smallest number of decimals that writes `step` exactly (1 → 0, 0.25 → 2, 0.1 → 1).
    static func decimals(step: Double) -> Int {
        guard step > 0, step.isFinite else { return 2 }
        for candidate in 0...8 {
            let scaled = step * pow(10, Double(candidate))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { return candidate }
        }
        return 8
    }

    private static func decimalsForMantissa(value: Double, step: Double) -> Int {
        guard step > 0 else { return 2 }
        let exponent = floor(log10(abs(value)))
        return min(6, max(0, decimals(step: step / pow(10, exponent))))
    }

    /// Contour levels: nice values strictly inside the data range, so no level hugs an edge.
    static func contourLevels(low: Double, high: Double, target: Int) -> [Double] {
        guard high > low else { return [] }
        let ticks = linear(low: low, high: high, target: target + 1).values
        let margin = (high - low) * 1e-6
        return ticks.filter { $0 > low + margin && $0 < high - margin }
    }
}
