import Foundation
import LookoutSupport
import PromQL

/// An alert label or annotation template: the part of Go's `text/template` that alert rules use,
/// with Prometheus' functions (prometheus `template/template.go`, docs
/// `configuration/template_reference.md`).
///
/// - text, and actions `{{ … }}` with `{{-`/`-}}` trimming and `{{/* comments */}}`;
/// - `{{ if … }}`, `{{ else if … }}`, `{{ else }}`, `{{ end }}`;
/// - pipelines `a | f b`, parenthesised pipelines, string (`"…"`, `` `…` ``), number and
///   `true`/`false` literals;
/// - `$labels`, `$externalLabels`, `$externalURL`, `$value` and `.Labels`, `.ExternalLabels`,
///   `.ExternalURL`, `.Value`, with `.name` to read a label (a missing one reads as "");
/// - functions `humanize`, `humanize1024`, `humanizeDuration`, `humanizePercentage`,
///   `humanizeTimestamp`, `printf`, `print`, `toUpper`, `toLower`, `title`, `reReplaceAll`,
///   `match`, `index`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`.
///
/// Anything else (`query`, `range`, `with`, variables of one's own) is refused when the
/// template is parsed, so a rule file that needs it fails to load rather than alerting with a
/// wrong text.
struct AlertTemplate: Sendable, Equatable {
    /// What a template sees.
    package struct Data: Sendable {
        /// The alert's labels (the result's, before the rule's own are added).
        package var labels: [String: String]
        /// The configuration's external labels.
        var externalLabels: [String: String]
        /// The external URL.
        package var externalURL: String
        /// The result's value.
        package var value: Double

        /// Data for one alert.
        package init(labels: [String: String], externalLabels: [String: String] = [:], externalURL: String = "", value: Double) {
            self.labels = labels
            self.externalLabels = externalLabels
            self.externalURL = externalURL
            self.value = value
        }
    }

    /// A template that cannot be parsed, or an expansion that failed, in Go's words where they
    /// matter.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong.
        package var message: String
        /// The problem as one line.
        package var description: String { message }
    }

    private let nodes: [Node]
    /// The text as written.
    package let text: String

    /// Parses `text`. Throws for syntax Go refuses and for anything outside the subset.
    package init(_ text: String) throws(Failure) {
        self.text = text
        var parser = TemplateParser(text: text)
        nodes = try parser.parseAll()
    }

    /// Whether the text has no actions at all (most label values).
    var isPlainText: Bool { nodes.allSatisfy { if case .text = $0 { true } else { false } } }

    /// The text with its actions carried out on `data`.
    func expand(_ data: Data) throws(Failure) -> String {
        var output = ""
        try Self.run(nodes, data, into: &output)
        return output
    }

    // MARK: Tree

    indirect enum Node: Sendable, Equatable {
        case text(String)
        case action(Pipeline)
        case conditional(branches: [(Pipeline, [Node])], otherwise: [Node])

        static func == (left: Node, right: Node) -> Bool {
            switch (left, right) {
            case (.text(let a), .text(let b)): return a == b
            case (.action(let a), .action(let b)): return a == b
            case (.conditional(let a, let x), .conditional(let b, let y)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 } && x == y
            default: return false
            }
        }
    }

    /// Commands joined by `|`: each command's result is passed to the next as its last argument.
    struct Pipeline: Sendable, Equatable {
        var commands: [[Operand]]
    }

    indirect enum Operand: Sendable, Equatable {
        case literal(Value)
        /// `$name.a.b` (`name` "" for `.a.b`, the data itself).
        case variable(String, fields: [String])
        case function(String)
        case pipeline(Pipeline)
    }

    enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case map([String: String])
        case data

        var truth: Bool {
            switch self {
            case .string(let text): return !text.isEmpty
            case .integer(let number): return number != 0
            case .float(let number): return number != 0
            case .bool(let flag): return flag
            case .map(let map): return !map.isEmpty
            case .data: return true
            }
        }

        /// As Go's `fmt.Sprint` prints it.
        var printed: String {
            switch self {
            case .string(let text): return text
            case .integer(let number): return String(number)
            case .float(let number): return GoFloat.formatG(number)
            case .bool(let flag): return flag ? "true" : "false"
            case .map(let map): return "map[" + map.keys.sorted().map { "\($0):\(map[$0]!)" }.joined(separator: " ") + "]"
            case .data: return "{}"
            }
        }
    }

    // MARK: Execution

    private static func run(_ nodes: [Node], _ data: Data, into output: inout String) throws(Failure) {
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .action(let pipeline): output += try evaluate(pipeline, data).printed
            case .conditional(let branches, let otherwise):
                var taken = false
                for (condition, body) in branches where try evaluate(condition, data).truth {
                    try run(body, data, into: &output)
                    taken = true
                    break
                }
                if !taken { try run(otherwise, data, into: &output) }
            }
        }
    }

    private static func evaluate(_ pipeline: Pipeline, _ data: Data) throws(Failure) -> Value {
        var carried: Value?
        for command in pipeline.commands {
            carried = try evaluate(command, data, piped: carried)
        }
        return carried ?? .string("")
    }

    private static func evaluate(_ command: [Operand], _ data: Data, piped: Value?) throws(Failure) -> Value {
        guard case .function(let name) = command[0] else {
            guard command.count == 1, piped == nil else {
                throw Failure(message: "can't give argument to non-function \(describe(command[0]))")
            }
            return try value(of: command[0], data)
        }
        var arguments: [Value] = []
        for operand in command.dropFirst() { arguments.append(try value(of: operand, data)) }
        if let piped { arguments.append(piped) }
        return try TemplateFunctions.call(name, arguments)
    }

    private static func value(of operand: Operand, _ data: Data) throws(Failure) -> Value {
        switch operand {
        case .literal(let value): return value
        case .pipeline(let pipeline): return try evaluate(pipeline, data)
        case .function(let name): return try TemplateFunctions.call(name, [])
        case .variable(let name, let fields):
            var current: Value
            switch name {
            case "": current = .data
            case "labels": current = .map(data.labels)
            case "externalLabels": current = .map(data.externalLabels)
            case "externalURL": current = .string(data.externalURL)
            case "value": current = .float(data.value)
            default: throw Failure(message: "undefined variable \"$\(name)\"")
            }
            for field in fields {
                switch current {
                case .data:
                    switch field {
                    case "Labels": current = .map(data.labels)
                    case "ExternalLabels": current = .map(data.externalLabels)
                    case "ExternalURL": current = .string(data.externalURL)
                    case "Value": current = .float(data.value)
                    default: throw Failure(message: "can't evaluate field \(field) in type *template.tmplData")
                    }
                case .map(let map): current = .string(map[field] ?? "")
                default: throw Failure(message: "can't evaluate field \(field) in type \(typeName(current))")
                }
            }
            return current
        }
    }

    static func typeName(_ value: Value) -> String {
        switch value {
        case .string: "string"
        case .integer: "int"
        case .float: "float64"
        case .bool: "bool"
        case .map: "map[string]string"
        case .data: "*template.tmplData"
        }
    }

    private static func describe(_ operand: Operand) -> String {
        switch operand {
        case .literal(let value): value.printed
        case .variable(let name, let fields): (name.isEmpty ? "" : "$" + name) + fields.map { "." + $0 }.joined()
        case .function(let name): name
        case .pipeline: "(…)"
        }
    }
}

/// Prometheus' template functions, and Go's built-ins of the subset.
enum TemplateFunctions {
    typealias Value = AlertTemplate.Value
    typealias Failure = AlertTemplate.Failure

    /// The names `call` knows, for the parser.
    static let names: Set<String> = [
        "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "printf", "print",
        "toUpper", "toLower", "title", "reReplaceAll", "match", "index", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
    ]

    static func call(_ name: String, _ arguments: [Value]) throws(Failure) -> Value {
        func arity(_ count: Int) throws(Failure) {
            guard arguments.count == count else {
                throw Failure(message: "wrong number of args for \(name): want \(count) got \(arguments.count)")
            }
        }
        switch name {
        case "humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp":
            try arity(1)
            let number = try float(arguments[0], name)
            switch name {
            case "humanize": return .string(humanize(number))
            case "humanize1024": return .string(humanize1024(number))
            case "humanizeDuration": return .string(humanizeDuration(number))
            case "humanizePercentage": return .string(GoFloat.printf("%.4g", number * 100) + "%")
            default: return .string(humanizeTimestamp(number))
            }
        case "printf":
            guard case .string(let format)? = arguments.first else { throw Failure(message: "printf needs a format string") }
            return .string(GoPrintf.format(format, Array(arguments.dropFirst())))
        case "print":
            return .string(arguments.map(\.printed).joined())
        case "toUpper", "toLower", "title":
            try arity(1)
            let text = arguments[0].printed
            switch name {
            case "toUpper": return .string(text.uppercased())
            case "toLower": return .string(text.lowercased())
            default:
                var result = ""
                var atWordStart = true
                for character in text {
                    result += atWordStart ? character.uppercased() : String(character)
                    atWordStart = !(character.isLetter || character.isNumber || character == "_" || character == "'")
                }
                return .string(result)
            }
        case "reReplaceAll", "match":
            try arity(name == "match" ? 2 : 3)
            let regex: RE2Regex
            do {
                regex = try RE2Regex(arguments[0].printed)
            } catch {
                // Go's regexp.MustCompile panics with the pattern quoted as its quote() does.
                let pattern = arguments[0].printed
                let backquotable = !pattern.contains("`") && pattern.unicodeScalars.allSatisfy { $0 == "\t" || $0.value >= 0x20 && $0.value != 0x7F }
                let quoted = backquotable ? "`" + pattern + "`" : quotedPromQLString(pattern)
                throw Failure(message: "error calling \(name): regexp: Compile(\(quoted)): \(error)")
            }
            if name == "match" { return .bool(regex.matches(arguments[1].printed)) }
            return .string(regex.replacingAll(in: arguments[2].printed, with: arguments[1].printed))
        case "index":
            try arity(2)
            guard case .map(let map) = arguments[0] else { throw Failure(message: "error calling index: can't index item of type \(AlertTemplate.typeName(arguments[0]))") }
            return .string(map[arguments[1].printed] ?? "")
        case "eq", "ne", "lt", "le", "gt", "ge":
            guard arguments.count >= 2 else { throw Failure(message: "wrong number of args for \(name): want at least 2 got \(arguments.count)") }
            if name == "eq" {
                for other in arguments.dropFirst() where try compare(arguments[0], other, name) == 0 { return .bool(true) }
                return .bool(false)
            }
            try arity(2)
            let order = try compare(arguments[0], arguments[1], name)
            switch name {
            case "ne": return .bool(order != 0)
            case "lt": return .bool(order < 0)
            case "le": return .bool(order <= 0)
            case "gt": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "and":
            guard !arguments.isEmpty else { throw Failure(message: "wrong number of args for and: want at least 1 got 0") }
            return arguments.first { !$0.truth } ?? arguments[arguments.count - 1]
        case "or":
            guard !arguments.isEmpty else { throw Failure(message: "wrong number of args for or: want at least 1 got 0") }
            return arguments.first { $0.truth } ?? arguments[arguments.count - 1]
        case "not":
            try arity(1)
            return .bool(!arguments[0].truth)
        default:
            throw Failure(message: "function \"\(name)\" not defined")
        }
    }

    /// A number for the humanize functions: a float, an integer, or a string holding one.
    private static func float(_ value: Value, _ function: String) throws(Failure) -> Double {
        switch value {
        case .float(let number): return number
        case .integer(let number): return Double(number)
        case .string(let text):
            guard let number = GoFloat.parse(text.trimmingCharacters(in: .whitespaces)) else {
                throw Failure(message: "error calling \(function): strconv.ParseFloat: parsing \(quotedPromQLString(text)): invalid syntax")
            }
            return number
        default: throw Failure(message: "error calling \(function): can't convert \(AlertTemplate.typeName(value)) to float")
        }
    }

    /// Go's comparison of basic values: numbers of one kind, strings, booleans (eq/ne only).
    private static func compare(_ left: Value, _ right: Value, _ function: String) throws(Failure) -> Int {
        switch (left, right) {
        case (.integer(let a), .integer(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.float(let a), .float(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.string(let a), .string(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.bool(let a), .bool(let b)) where function == "eq" || function == "ne": return a == b ? 0 : 1
        default: throw Failure(message: "error calling \(function): incompatible types for comparison")
        }
    }

    static func humanize(_ value: Double) -> String {
        if value == 0 || !value.isFinite { return GoFloat.printf("%.4g", value) }
        if value.magnitude >= 1 { return scaled(value, by: 1000, prefixes: ["k", "M", "G", "T", "P", "E", "Z", "Y"]) }
        return scaled(value, by: 1000, prefixes: smallPrefixes, upward: true)
    }

    static func humanize1024(_ value: Double) -> String {
        if value.magnitude <= 1 || !value.isFinite { return GoFloat.printf("%.4g", value) }
        return scaled(value, by: 1024, prefixes: ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"])
    }

    /// The SI prefixes below one, for values scaled up by 1000 at a time.
    private static let smallPrefixes = ["m", "u", "n", "p", "f", "a", "z", "y"]

    /// `value` divided by `factor` while it is at least `factor` (`upward`: multiplied while it
    /// is below one), as `%.4g` with the prefix of the last step taken.
    private static func scaled(_ value: Double, by factor: Double, prefixes: [String], upward: Bool = false) -> String {
        var number = value
        var prefix = ""
        for candidate in prefixes {
            if upward ? number.magnitude >= 1 : number.magnitude < factor { break }
            prefix = candidate
            if upward { number *= factor } else { number /= factor }
        }
        return GoFloat.printf("%.4g", number) + prefix
    }

    static func humanizeDuration(_ value: Double) -> String {
        if !value.isFinite { return GoFloat.printf("%.4g", value) }
        if value == 0 { return GoFloat.printf("%.4g", value) + "s" }
        if value.magnitude >= 1 {
            let sign = value < 0 ? "-" : ""
            let magnitude = value.magnitude
            let whole = Int64(magnitude)
            let (days, hours, minutes, seconds) = (whole / 86_400, whole / 3600 % 24, whole / 60 % 60, whole % 60)
            if days != 0 { return "\(sign)\(days)d \(hours)h \(minutes)m \(seconds)s" }
            if hours != 0 { return "\(sign)\(hours)h \(minutes)m \(seconds)s" }
            if minutes != 0 { return "\(sign)\(minutes)m \(seconds)s" }
            return sign + GoFloat.printf("%.4g", magnitude) + "s"
        }
        return scaled(value, by: 1000, prefixes: smallPrefixes, upward: true) + "s"
    }

    /// Go's `fmt.Sprint(time.Time)` of seconds since the epoch, in UTC, at the millisecond
    /// precision of Prometheus' `model.Time`: `2006-01-02 15:04:05.999 +0000 UTC`.
    static func humanizeTimestamp(_ seconds: Double) -> String {
        guard seconds.isFinite, (seconds * 1e9).magnitude < 9.2e18 else { return GoFloat.printf("%.4g", seconds) }
        let milliseconds = Int64(seconds * 1e9) / 1_000_000
        let (whole, fraction) = (milliseconds - ((milliseconds % 1000) + 1000) % 1000, ((milliseconds % 1000) + 1000) % 1000)
        let time = CivilTime(microseconds: whole * 1000)
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        let text = "\(time.year)-\(two(time.month))-\(two(time.day)) \(two(time.hour)):\(two(time.minute)):\(two(time.second))"
            + goFraction(Int(fraction), digits: 3)
        return text + " +0000 UTC"
    }
}

/// `fmt.Sprintf` for the verbs templates use: `%s %v %q %d %f %e %g %x %%` with flags, width
/// and precision.
enum GoPrintf {
    static func format(_ format: String, _ arguments: [AlertTemplate.Value]) -> String {
        var output = ""
        var remaining = arguments[...]
        var characters = format[...]
        while let percent = characters.firstIndex(of: "%") {
            output += characters[..<percent]
            characters = characters[characters.index(after: percent)...]
            var spec = "%"
            while let character = characters.first, "+-# 0123456789.".contains(character) {
                spec.append(character)
                characters = characters.dropFirst()
            }
            guard let verb = characters.first else {
                output += "%!(NOVERB)"
                break
            }
            characters = characters.dropFirst()
            if verb == "%" {
                output += "%"
                continue
            }
            guard let argument = remaining.popFirst() else {
                output += "%!\(verb)(MISSING)"
                continue
            }
            output += formatted(argument, spec: spec, verb: verb)
        }
        output += characters
        if !remaining.isEmpty {
            output += "%!(EXTRA " + remaining.map { "\(AlertTemplate.typeName($0))=\($0.printed)" }.joined(separator: ", ") + ")"
        }
        return output
    }

    private static func formatted(_ argument: AlertTemplate.Value, spec: String, verb: Character) -> String {
        switch (verb, argument) {
        case ("f", .float(let number)), ("F", .float(let number)), ("e", .float(let number)), ("g", .float(let number)):
            return GoFloat.printf(spec + String(verb), number)
        case ("f", .integer), ("e", .integer), ("g", .integer):
            return "%!\(verb)(int=\(argument.printed))"
        case ("d", .integer(let number)): return String(format: spec + "ld", number)
        case ("x", .integer(let number)): return String(format: spec + "lx", number)
        case ("q", .string(let text)): return quotedPromQLString(text)
        case ("s", _), ("v", _):
            let text = argument.printed
            let leftAligned = spec.contains("-")
            let width = Int(spec.drop { !("1"..."9").contains($0) }.prefix { $0.isNumber }) ?? 0
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return leftAligned ? text + padding : padding + text
        default:
            return "%!\(verb)(\(AlertTemplate.typeName(argument))=\(argument.printed))"
        }
    }
}
