import LookoutSupport
import MetricModel

/// A selector's matchers made ready to test many series: the metric name written before the
/// braces as one more `__name__=` matcher, and each regular expression compiled once, anchored
/// at both ends as Prometheus anchors it (RE2 syntax, linear-time matching). Literal patterns
/// (`web`, `a|b|c`) are compared as strings: they are most of what rules write. A pattern that
/// does not compile is refused when the matcher is made, never taken to match nothing.
struct PromQLSelectorMatcher {
    private enum Test {
        case equal(String)
        case notEqual(String)
        case oneOf(Set<String>, negated: Bool)
        case regex(RE2Regex, negated: Bool)
    }

    private let tests: [(label: String, test: Test)]
    /// The metric name the selector asks for by equality, if any: the source need only look
    /// at series of that name.
    let metricName: String?

    init(_ selector: PromQLSelector) throws(PromQLEvaluationError) {
        var tests: [(String, Test)] = []
        if let name = selector.metricName { tests.append((metricNameLabel, .equal(name))) }
        for matcher in selector.matchers {
            switch matcher.operation {
            case .equal: tests.append((matcher.label, .equal(matcher.value)))
            case .notEqual: tests.append((matcher.label, .notEqual(matcher.value)))
            case .matchesRegex, .doesNotMatchRegex:
                tests.append((matcher.label, try Self.regexTest(matcher.value, negated: matcher.operation == .doesNotMatchRegex)))
            }
        }
        metricName = tests.lazy.compactMap { entry -> String? in
            if entry.0 == metricNameLabel, case .equal(let name) = entry.1 { return name }
            return nil
        }.first
        // The name first: it rejects most series with one comparison.
        self.tests = tests.sorted { $0.0 == metricNameLabel && $1.0 != metricNameLabel }
    }

    /// Whether a series of `name` with `labels` (without `__name__`) is selected.
    func matches(name: String, labels: [Label]) -> Bool {
        for (label, test) in tests {
            let value = label == metricNameLabel ? name : labels.value(of: label)
            switch test {
            case .equal(let expected): if value != expected { return false }
            case .notEqual(let refused): if value == refused { return false }
            case .oneOf(let values, let negated): if values.contains(value) == negated { return false }
            case .regex(let regex, let negated):
                if regex.matches(value) == negated { return false }
            }
        }
        return true
    }

    /// A literal alternation as a set, anything else as a compiled expression.
    private static func regexTest(_ pattern: String, negated: Bool) throws(PromQLEvaluationError) -> Test {
        let literal = pattern.unicodeScalars.allSatisfy { scalar in
            scalar == "|" || scalar == "_" || scalar == "-" || scalar == ":" || scalar == "/" || scalar == " " || scalar == ","
                || (scalar.properties.isAlphabetic && scalar.isASCII) || ("0"..."9").contains(scalar)
        }
        if literal {
            return .oneOf(Set(pattern.split(separator: "|", omittingEmptySubsequences: false).map(String.init)), negated: negated)
        }
        do {
            return .regex(try RE2Regex.anchored(pattern), negated: negated)
        } catch {
            throw PromQLEvaluationError(error.description)
        }
    }
}
