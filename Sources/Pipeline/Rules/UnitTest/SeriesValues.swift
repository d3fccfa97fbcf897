import LookoutSupport

/// The `values` of an `input_series` in a promtool rule unit-test file, expanded: one entry per
/// evaluation interval, from the test's start.
///
/// The notation (prometheus `docs/configuration/unit_testing_rules.md`, the `series_values` rules
/// of `promql/parser/generated_parser.y`):
/// - `a` — one value (`Inf`, `NaN`, exponents; not hex: `0x3` is 0 four times);
/// - `a+bxn`, `a-bxn` — n+1 values, a, a+b, …, each the previous plus b, as promtool adds them;
/// - `axn` — a, n+1 times;
/// - `_` — no sample in that interval; `_xn` — n intervals without;
/// - `stale` — a staleness marker.
package enum SeriesValue: Sendable, Equatable {
    /// A sample with this value.
    case sample(Double)
    /// No sample in this interval.
    case missing
    /// A staleness marker: the series ended.
    case stale

    /// The values `text` denotes, or an error naming the item at fault and its column (1-based).
    static func expand(_ text: String) throws(SeriesValuesError) -> [SeriesValue] {
        var values: [SeriesValue] = []
        var column = 1
        for item in text.split(separator: " ", omittingEmptySubsequences: false) {
            defer { column += item.count + 1 }
            if item.isEmpty { continue }
            values += try expandItem(String(item), column: column)
        }
        return values
    }

    private static func expandItem(_ item: String, column: Int) throws(SeriesValuesError) -> [SeriesValue] {
        func problem(_ reason: String) -> SeriesValuesError { SeriesValuesError(column: column, item: item, reason: reason) }
        if item == "_" { return [.missing] }
        if item == "stale" { return [.stale] }
        // promtool reads no hex here (`0x30` is 0, 31 times): the x is always the repeat.
        guard let times = item.firstIndex(of: "x") else {
            guard let value = number(item) else { throw problem("not a number, _ or stale") }
            return [.sample(value)]
        }
        guard let count = UInt(item[item.index(after: times)...]) else {
            throw problem("the repeat count after x must be a whole number")
        }
        let head = String(item[..<times])
        if head == "_" { return Array(repeating: .missing, count: Int(count)) }
        let (startText, stepText) = splitStep(head)
        guard let start = number(startText) else { throw problem("'\(startText)' is not a number") }
        var step = 0.0
        if let stepText {
            guard let parsed = number(stepText) else { throw problem("'\(stepText)' is not a number") }
            step = parsed
        }
        var values: [SeriesValue] = []
        var current = start
        for _ in 0...count {
            values.append(.sample(current))
            current += step
        }
        return values
    }

    /// `a+b` → ("a", "+b"), `a-b` → ("a", "-b"), `a+-b` → ("a", "-b"), `a` → ("a", nil); a sign
    /// that begins the text or follows an exponent's `e` belongs to the number.
    private static func splitStep(_ text: String) -> (String, String?) {
        let characters = Array(text)
        var index = characters.count - 1
        while index > 0 {
            let character = characters[index]
            if character == "+" || character == "-" {
                let previous = characters[index - 1]
                let inExponent = (previous == "e" || previous == "E") && index >= 2 && characters[index - 2].isNumber
                if !inExponent {
                    // `100+-10`: the operator, then the step's own sign.
                    if (previous == "+" || previous == "-") && index >= 2 {
                        let negative = (previous == "-") != (character == "-")
                        return (String(characters[..<(index - 1)]), (negative ? "-" : "+") + String(characters[(index + 1)...]))
                    }
                    return (String(characters[..<index]), String(characters[index...]))
                }
            }
            index -= 1
        }
        return (text, nil)
    }

    /// A number as a series value or an expected sample writes one, or nil: decimal with an
    /// optional exponent and one optional sign, read as Go's `strconv.ParseFloat` reads it (so a
    /// value too large for a float64 is refused), or `Inf`, `NaN` and YAML's `.inf`, `.nan`; no
    /// hexadecimal and no `_` separators, which promtool's series lexer does not take.
    package static func number(_ text: String) -> Double? {
        var body = Substring(text)
        var sign = 1.0
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        switch body.lowercased() {
        case "inf", ".inf": return sign * .infinity
        case "nan", ".nan": return .nan
        default: break
        }
        guard let first = body.first, first != "+", first != "-",
              body.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || ".eE+-".utf8.contains($0) }),
              let value = GoFloat.parse(String(body)) else { return nil }
        return sign * value
    }
}

/// A `values` string that is not in the notation: the column of the item, the item, and why.
struct SeriesValuesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based column where the item starts.
    package var column: Int
    /// The item as written.
    package var item: String
    /// What is wrong with it.
    package var reason: String

    /// Creates the error.
    package init(column: Int, item: String, reason: String) {
        self.column = column
        self.item = item
        self.reason = reason
    }

    /// The problem as one line.
    package var description: String { "column \(column): '\(item)': \(reason)" }
}
