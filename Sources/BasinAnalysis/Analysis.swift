// BasinAnalysis owns the landscape and ensemble analysis: interpolation barriers, planes,
// surfaces, diversity, ensemble metrics and soups.
import BasinCore
