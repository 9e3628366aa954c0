// BasinAnalysis owns the landscape and ensemble analysis: interpolation barriers, planes,
// surfaces, diversity, ensemble metrics and soups. The numerics live in pure functions on
// arrays (Geometry, Metrics) so they can be checked in closed form; `LandscapeEvaluator`
// is the one place that turns a weight vector into a loss.
import BasinCore
import Foundation

/// Bad input to an analysis: one line naming the thing.
public struct AnalysisError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message.replacingOccurrences(of: "\n", with: " ") }
}

/// Progress lines on stderr (results go to files and stdout).
public func reportProgress(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}
