import LookoutSupport

/// Parses Prometheus text format 0.0.4 into metric families, with the semantics of the Go reference
/// parser (prometheus/common `expfmt/text_parse.go`), which node_exporter's textfile collector uses.
///
/// - `# HELP` unescapes `\\` and `\n`; `# TYPE` takes counter, gauge, histogram, summary or untyped
///   (any case) and must come before the family's first sample. Other `#` lines are comments.
/// - Label values unescape `\\`, `\"` and `\n`; a trailing comma inside `{}` is allowed.
/// - Values use Go `ParseFloat` syntax plus `NaN`, `+Inf`, `-Inf`; a timestamp is an int64 of
///   milliseconds and its presence is reported in ``ExpositionDocument/timestampedLines``.
/// - For a family declared `summary` or `histogram`, `_sum`, `_count` and `_bucket` lines (and the
///   `quantile` / `le` labels) are grouped into that family, one series per label set. Buckets and
///   quantiles come out sorted by bound, a `+Inf` bucket equal to `_count` is added when missing,
///   then `_sum` and `_count`, as the Go text writer does.
/// - Every non-blank line must end in `\n` (spec section "Text format details").
///
/// Families come out in the order they were first named; label order is the input order.
package enum ExpositionParser {
    /// The families in `text`. Throws the first syntax error, naming its 1-based line.
    package static func parse(_ text: String) throws(ExpositionParseError) -> [MetricFamily] {
        try parseDocument(text).families
    }

    /// The families in `text` plus the lines that carried a client-side timestamp.
    package static func parseDocument(_ text: String) throws(ExpositionParseError) -> ExpositionDocument {
        var parser = TextParser(bytes: Array(text.utf8))
        try parser.run()
        return parser.document()
    }
}

/// The result of ``ExpositionParser/parseDocument(_:)``.
package struct ExpositionDocument: Sendable, Equatable {
    /// The parsed families, in order of first mention; families with no samples are dropped.
    package var families: [MetricFamily]
    /// Whether each family (same index) had a `# HELP` line; an absent HELP leaves `help` empty.
    package var hasHelp: [Bool]
    /// The 1-based line numbers of samples that carried a timestamp.
    package var timestampedLines: [Int]
}

/// A syntax error in exposition text: where and why.
package struct ExpositionParseError: Error, Equatable, CustomStringConvertible {
    /// The 1-based line the error is on.
    package var line: Int
    /// What is wrong, e.g. `expected float as value, got "x"`.
    package var reason: String

    /// Creates an error for `line`.
    package init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    package var description: String { "line \(line): \(reason)" }
}

private struct SeriesKey: Hashable {
    var family: Int
    var labels: [Label]
}

private struct Series {
    var labels: [Label]
    var bounds: [Double: Double] = [:]
    var sum: Double = 0
    var count: Double = 0
}

private struct FamilyBuilder {
    var name: String
    var help: String?
    var type: MetricType?
    var samples: [Sample] = []
    var series: [Series] = []
}

private struct TextParser {
    let bytes: [UInt8]
    var position = 0
    var line = 0
    var families: [FamilyBuilder] = []
    var familyIndex: [String: Int] = [:]
    var seriesIndex: [SeriesKey: Int] = [:]
    var timestampedLines: [Int] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func document() -> ExpositionDocument {
        var result: [MetricFamily] = []
        var hasHelp: [Bool] = []
        for builder in families {
            let type = builder.type ?? .untyped
            var family = MetricFamily(name: builder.name, help: builder.help ?? "", type: type)
            switch type {
            case .histogram:
                for series in builder.series {
                    let buckets = series.bounds.sorted { $0.key < $1.key }
                    for (bound, count) in buckets {
                        let le = Label("le", PrometheusFloat.format(bound))
                        family.samples.append(Sample(suffix: "_bucket", labels: series.labels + [le], value: count))
                    }
                    if series.bounds[.infinity] == nil {
                        family.samples.append(
                            Sample(suffix: "_bucket", labels: series.labels + [Label("le", "+Inf")], value: series.count))
                    }
                    family.samples.append(Sample(suffix: "_sum", labels: series.labels, value: series.sum))
                    family.samples.append(Sample(suffix: "_count", labels: series.labels, value: series.count))
                }
            case .summary:
                for series in builder.series {
                    for (quantile, value) in series.bounds.sorted(by: { $0.key < $1.key }) {
                        let label = Label("quantile", PrometheusFloat.format(quantile))
                        family.samples.append(Sample(labels: series.labels + [label], value: value))
                    }
                    family.samples.append(Sample(suffix: "_sum", labels: series.labels, value: series.sum))
                    family.samples.append(Sample(suffix: "_count", labels: series.labels, value: series.count))
                }
            case .counter, .gauge, .untyped:
                family.samples = builder.samples
            }
            if family.samples.isEmpty { continue }
            result.append(family)
            hasHelp.append(builder.help != nil)
        }
        return ExpositionDocument(families: result, hasHelp: hasHelp, timestampedLines: timestampedLines)
    }

    // MARK: Lines

    mutating func run() throws(ExpositionParseError) {
        while position < bytes.count {
            line += 1
            var end = position
            while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
            let hasNewline = end < bytes.count
            var cursor = Cursor(bytes: bytes, index: position, end: end, line: line)
            position = hasNewline ? end + 1 : end
            cursor.skipBlanks()
            if cursor.atEnd { continue }
            if !hasNewline { throw cursor.error("unexpected end of input stream") }
            if cursor.peek == UInt8(ascii: "#") {
                try comment(&cursor)
            } else {
                try sample(&cursor)
            }
        }
    }

    private mutating func comment(_ cursor: inout Cursor) throws(ExpositionParseError) {
        cursor.advance()
        cursor.skipBlanks()
        let keyword = cursor.token()
        guard keyword == "HELP" || keyword == "TYPE" else { return }
        cursor.skipBlanks()
        if cursor.atEnd { return }
        let name = try cursor.metricName()
        let target = familyFor(name)
        cursor.skipBlanks()
        if cursor.atEnd { return }
        if keyword == "HELP" {
            if families[target.index].help != nil {
                throw cursor.error("second HELP line for metric name \"\(families[target.index].name)\"")
            }
            families[target.index].help = try cursor.helpText()
        } else {
            let word = String(decoding: cursor.rest(), as: UTF8.self)
            guard let type = MetricType(rawValue: word.lowercased()) else {
                throw cursor.error("unknown metric type \"\(word)\"")
            }
            if families[target.index].type != nil {
                throw cursor.error(
                    "second TYPE line for metric name \"\(families[target.index].name)\", or TYPE reported after samples")
            }
            families[target.index].type = type
        }
    }

    private enum Role { case plain, sum, count }

    /// Go's `setOrCreateCurrentMF`: an exact name first, then the summary or histogram this
    /// `_sum`/`_count`/`_bucket` line belongs to, else a new family.
    private mutating func familyFor(_ name: String) -> (index: Int, role: Role) {
        if let index = familyIndex[name] { return (index, .plain) }
        let role: Role = name.hasSuffix("_sum") ? .sum : name.hasSuffix("_count") ? .count : .plain
        if role != .plain {
            let base = String(name.dropLast(role == .sum ? 4 : 6))
            if let index = familyIndex[base], families[index].type == .summary { return (index, role) }
        }
        if role != .plain || name.hasSuffix("_bucket") {
            let base = String(name.dropLast(role == .sum ? 4 : role == .count ? 6 : 7))
            if let index = familyIndex[base], families[index].type == .histogram { return (index, role) }
        }
        families.append(FamilyBuilder(name: name))
        familyIndex[name] = families.count - 1
        return (families.count - 1, .plain)
    }

    private mutating func sample(_ cursor: inout Cursor) throws(ExpositionParseError) {
        let name = try cursor.metricName()
        let (index, role) = familyFor(name)
        if families[index].type == nil { families[index].type = .untyped }
        let type = families[index].type!
        let boundLabel: String? = type == .summary ? "quantile" : type == .histogram ? "le" : nil
        var labels: [Label] = []
        var bound: Double? = nil
        cursor.skipBlanks()
        if cursor.peek == UInt8(ascii: "{") {
            cursor.advance()
            while true {
                cursor.skipBlanks()
                if cursor.peek == UInt8(ascii: "}") { cursor.advance(); break }
                let labelName = try cursor.labelName()
                if labelName == "__name__" { throw cursor.error("label name \"__name__\" is reserved") }
                cursor.skipBlanks()
                guard cursor.peek == UInt8(ascii: "=") else {
                    throw cursor.error("expected '=' after label name, found \(cursor.describePeek())")
                }
                cursor.advance()
                cursor.skipBlanks()
                let value = try cursor.labelValue()
                if labelName == boundLabel {
                    guard let parsed = PrometheusFloat.parse(value) else {
                        throw cursor.error("expected float as value for '\(labelName)' label, got \"\(value)\"")
                    }
                    bound = parsed
                } else {
                    if labels.contains(where: { $0.name == labelName }) {
                        throw cursor.error("duplicate label names for metric \"\(families[index].name)\"")
                    }
                    labels.append(Label(labelName, value))
                }
                cursor.skipBlanks()
                if cursor.peek == UInt8(ascii: ",") {
                    cursor.advance()
                } else if cursor.peek == UInt8(ascii: "}") {
                    cursor.advance()
                    break
                } else {
                    throw cursor.error("unexpected end of label value \"\(value)\"")
                }
            }
            cursor.skipBlanks()
        }
        if cursor.atEnd { throw cursor.error("expected value after metric \"\(name)\"") }
        let valueText = cursor.token()
        guard let value = PrometheusFloat.parse(valueText) else {
            throw cursor.error("expected float as value, got \"\(valueText)\"")
        }
        // As in the Go parser, anything after the value — even only blanks — must be a timestamp,
        // and nothing, not even blanks, may follow the timestamp.
        if !cursor.atEnd {
            cursor.skipBlanks()
            let stamp = cursor.token()
            guard Int64(stamp) != nil else { throw cursor.error("expected integer as timestamp, got \"\(stamp)\"") }
            timestampedLines.append(line)
            if !cursor.atEnd {
                let rest = String(decoding: cursor.rest(), as: UTF8.self)
                throw cursor.error("spurious string after timestamp: \"\(rest)\"")
            }
        }

        switch type {
        case .counter, .gauge, .untyped:
            families[index].samples.append(Sample(labels: labels, value: value))
        case .summary, .histogram:
            let key = SeriesKey(family: index, labels: labels.sorted { $0.name < $1.name })
            let seriesPosition: Int
            if let existing = seriesIndex[key] {
                seriesPosition = existing
            } else {
                families[index].series.append(Series(labels: labels))
                seriesPosition = families[index].series.count - 1
                seriesIndex[key] = seriesPosition
            }
            switch role {
            case .sum: families[index].series[seriesPosition].sum = value
            case .count: families[index].series[seriesPosition].count = value
            case .plain:
                // A line with neither a suffix nor a bound is ignored, as in the Go parser.
                if let bound { families[index].series[seriesPosition].bounds[bound] = value }
            }
        }
    }
}

/// A position within one line.
private struct Cursor {
    let bytes: [UInt8]
    var index: Int
    let end: Int
    let line: Int

    var atEnd: Bool { index >= end }
    var peek: UInt8? { index < end ? bytes[index] : nil }

    mutating func advance() { index += 1 }

    mutating func skipBlanks() {
        while index < end, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
    }

    func error(_ reason: String) -> ExpositionParseError {
        ExpositionParseError(line: line, reason: reason)
    }

    func describePeek() -> String {
        guard let peek else { return "end of line" }
        return "'\(String(decoding: [peek], as: UTF8.self))'"
    }

    /// Bytes up to the next blank, tab or end of line.
    mutating func token() -> String {
        let start = index
        while index < end, bytes[index] != UInt8(ascii: " "), bytes[index] != UInt8(ascii: "\t") { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func rest() -> ArraySlice<UInt8> {
        defer { index = end }
        return bytes[index..<end]
    }

    mutating func metricName() throws(ExpositionParseError) -> String {
        let start = index
        while index < end, Cursor.isNameByte(bytes[index], first: index == start, colon: true) { index += 1 }
        if index == start { throw error("invalid metric name starting with \(describePeek())") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func labelName() throws(ExpositionParseError) -> String {
        let start = index
        while index < end, Cursor.isNameByte(bytes[index], first: index == start, colon: false) { index += 1 }
        if index == start { throw error("invalid label name starting with \(describePeek())") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func isNameByte(_ byte: UInt8, first: Bool, colon: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"): true
        case UInt8(ascii: "0")...UInt8(ascii: "9"): !first
        case UInt8(ascii: ":"): colon
        default: false
        }
    }

    /// A quoted label value; the closing quote must be on the same line.
    mutating func labelValue() throws(ExpositionParseError) -> String {
        guard peek == UInt8(ascii: "\"") else {
            throw error("expected '\"' at start of label value, found \(describePeek())")
        }
        advance()
        var value: [UInt8] = []
        while index < end {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { return String(decoding: value, as: UTF8.self) }
            guard byte == UInt8(ascii: "\\") else { value.append(byte); continue }
            guard index < end else { break }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(escaped)
            case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
            default:
                throw error("invalid escape sequence '\\\(String(decoding: [escaped], as: UTF8.self))'")
            }
        }
        throw error("label value \"\(String(decoding: value, as: UTF8.self))\" contains unescaped new-line")
    }

    /// HELP text to the end of the line with `\\` and `\n` unescaped.
    mutating func helpText() throws(ExpositionParseError) -> String {
        var text: [UInt8] = []
        while index < end {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else { text.append(byte); continue }
            guard index < end else { throw error("invalid escape sequence at end of HELP text") }
            let escaped = bytes[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "\\"): text.append(escaped)
            case UInt8(ascii: "n"): text.append(UInt8(ascii: "\n"))
            default:
                throw error("invalid escape sequence '\\\(String(decoding: [escaped], as: UTF8.self))'")
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}
