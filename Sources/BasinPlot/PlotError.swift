// BasinPlot owns figures: heatmaps and charts drawn with cairo and encoded to PNG with
// libpng. It draws arrays, coordinates and labels and knows nothing of training.

/// Everything a figure can reject, each described in one line that names the offending input.
public enum PlotError: Error, Equatable, CustomStringConvertible {
    case emptyData(String)
    case mismatchedLengths(first: String, firstCount: Int, second: String, secondCount: Int)
    case allMissing(String)
    case nonFinite(String)
    case invalidArgument(String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    case rendering(String)

    public var description: String {
        switch self {
        case .emptyData(let what): return "empty data: \(what) has no values"
        case let .mismatchedLengths(first, firstCount, second, secondCount):
            return "mismatched lengths: \(first) has \(firstCount) values but \(second) has \(secondCount)"
        case .allMissing(let what): return "no finite values: every value of \(what) is NaN or infinite"
        case .nonFinite(let what): return "non-finite value: \(what)"
        case .invalidArgument(let what): return "invalid argument: \(what)"
        case let .cannotWrite(path, reason): return "cannot write \(path): \(reason)"
        case let .cannotRead(path, reason): return "cannot read \(path): \(reason)"
        case .rendering(let what): return "rendering failed: \(what)"
        }
    }
}
