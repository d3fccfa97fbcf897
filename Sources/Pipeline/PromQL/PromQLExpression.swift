import LookoutSupport

/// A parsed PromQL expression: the subset of Prometheus' query language that alert rules use
/// (prometheus `docs/querying/basics.md`, `operators.md`, `functions.md`), the subset the README
/// lists (Alert rules). Made by ``parse(_:)``; printed back as PromQL by ``description``, so
/// that parsing the printed text gives the same expression.
///
/// Every node has a static ``PromQLValueType``; the parser refuses ill-typed trees as Prometheus
/// does (`rate` of an instant vector, `sum` of a range vector, `1 > 2` without `bool`).
package indirect enum PromQLExpression: Sendable, Hashable, CustomStringConvertible {
    /// A number literal (`5`, `0.01`, `0x1F`, `Inf`, `NaN`); a sign written before it is folded in.
    case number(Double)
    /// A string literal, unescaped.
    case string(String)
    /// An instant vector selector: `up{job="node"}`, `{__name__=~"node_.*"} offset 5m`.
    case vectorSelector(PromQLSelector)
    /// A range vector selector: `x_total{job="node"}[5m]`, with its offset kept in the selector.
    case rangeSelector(PromQLSelector, range: PromQLDuration)
    /// A call of one of the supported functions: `rate(x[5m])`, `time()`.
    case call(PromQLFunction, [PromQLExpression])
    /// An aggregation: `sum by (job) (x)`, `topk(3, x)`.
    case aggregation(PromQLAggregation)
    /// A binary operation with its matching modifiers: `a / on (job) group_left b`.
    case binary(PromQLBinaryOperator, PromQLExpression, PromQLExpression, PromQLVectorMatching)
    /// `-x` (`negated` true) or `+x` on something other than a number literal.
    case unary(negated: Bool, PromQLExpression)
    /// An expression in parentheses, kept so that printing gives back the same grouping.
    case parenthesized(PromQLExpression)

    /// The highest expression tree accepted, however it grows (parentheses, calls, signs, `^`, or
    /// a chain like `a or b or …`); a higher one is refused when parsed rather than recursed into
    /// by every later walk. Alert rules are a handful of levels high.
    package static let maximumDepth = 128

    /// The most nodes (operators, operands, calls, selectors) an expression may have.
    package static let maximumNodes = 10_000

    /// Parses one PromQL expression (comments and any whitespace allowed). Throws a
    /// ``PromQLError`` naming the line and column of the first problem.
    package static func parse(_ text: String) throws(PromQLError) -> PromQLExpression {
        var parser = PromQLParser(text: text)
        return try parser.parseWholeInput()
    }

    /// The type of value the expression evaluates to.
    var valueType: PromQLValueType {
        switch self {
        case .number: return .scalar
        case .string: return .string
        case .vectorSelector: return .instantVector
        case .rangeSelector: return .rangeVector
        case .call(let function, _): return function.returnType
        case .aggregation: return .instantVector
        case .binary(_, let left, let right, _):
            return left.valueType == .scalar && right.valueType == .scalar ? .scalar : .instantVector
        case .unary(_, let operand), .parenthesized(let operand): return operand.valueType
        }
    }

    /// The expression as PromQL, written as Prometheus' `String()` writes it (one space around
    /// binary operators, `sum by (le) (x)`), except that matchers keep their written order.
    package var description: String {
        switch self {
        case .number(let value): return GoFloat.formatF(value)
        case .string(let value): return quotedPromQLString(value)
        case .vectorSelector(let selector): return selector.description
        case .rangeSelector(let selector, let range):
            var unshifted = selector
            unshifted.offset = .zero
            return "\(unshifted)[\(range)]\(selector.offsetSuffix)"
        case .call(let function, let arguments):
            return "\(function.name)(\(arguments.map(\.description).joined(separator: ", ")))"
        case .aggregation(let aggregation): return aggregation.description
        case .binary(let op, let left, let right, let matching):
            return "\(left) \(op.rawValue)\(matching.suffix) \(right)"
        case .unary(let negated, let operand): return (negated ? "-" : "+") + operand.description
        case .parenthesized(let inner): return "(\(inner))"
        }
    }
}

/// The four types a PromQL expression can have (prometheus `promql/parser/value.go`).
enum PromQLValueType: String, Sendable, Hashable {
    /// One number without labels.
    case scalar
    /// One sample per series, at the evaluation time.
    case instantVector = "instant vector"
    /// A range of samples per series, from a range selector.
    case rangeVector = "range vector"
    /// A string literal.
    case string
}

/// A vector selector: an optional metric name written before the braces, the label matchers in
/// their written order (a `__name__` matcher among them when the name is written that way), and
/// the `offset` modifier.
package struct PromQLSelector: Sendable, Hashable, CustomStringConvertible {
    /// The metric name written before the braces, if any.
    package var metricName: String?
    /// The matchers inside the braces, in written order.
    package var matchers: [PromQLMatcher]
    /// How far back the selector looks (`offset 5m`); negative for `offset -5m`, zero when absent.
    package var offset: PromQLDuration

    /// A selector of `metricName` with `matchers`, shifted by `offset`.
    package init(metricName: String?, matchers: [PromQLMatcher] = [], offset: PromQLDuration = .zero) {
        self.metricName = metricName
        self.matchers = matchers
        self.offset = offset
    }

    /// The selector as PromQL: `name{a="b",c=~"d"} offset 5m`.
    package var description: String {
        var text = metricName ?? ""
        if !matchers.isEmpty || metricName == nil {
            text += "{" + matchers.map(\.description).joined(separator: ",") + "}"
        }
        return text + offsetSuffix
    }

    /// ` offset 5m`, ` offset -5m`, or nothing for a zero offset.
    var offsetSuffix: String {
        if offset.milliseconds > 0 { return " offset \(offset)" }
        if offset.milliseconds < 0 { return " offset -\(PromQLDuration(milliseconds: -offset.milliseconds))" }
        return ""
    }
}

/// One label matcher inside a selector's braces: `job="node"`, `mode!="idle"`, `path=~"/var.*"`.
package struct PromQLMatcher: Sendable, Hashable, CustomStringConvertible {
    /// How a matcher compares a label's value.
    package enum Operation: String, Sendable, Hashable {
        /// `=`: equal.
        case equal = "="
        /// `!=`: not equal.
        case notEqual = "!="
        /// `=~`: the whole value matches the regular expression.
        case matchesRegex = "=~"
        /// `!~`: the whole value does not match the regular expression.
        case doesNotMatchRegex = "!~"
    }

    /// The label name.
    package var label: String
    /// The comparison.
    package var operation: Operation
    /// The value or, for the regex operations, the regular expression's text (RE2 syntax, unchecked).
    package var value: String

    /// A matcher of `label` against `value`.
    package init(_ label: String, _ operation: Operation, _ value: String) {
        self.label = label
        self.operation = operation
        self.value = value
    }

    /// The matcher as PromQL: `job="node"`.
    package var description: String { label + operation.rawValue + quotedPromQLString(value) }
}

/// A duration as PromQL writes it (`5m`, `1h30m`, `1d`, `500ms`), held in milliseconds
/// (prometheus/common `model.Duration`).
package struct PromQLDuration: Sendable, Hashable, CustomStringConvertible {
    /// The length in milliseconds; negative only for a negative offset.
    package var milliseconds: Int64

    /// No time at all.
    package static let zero = PromQLDuration(milliseconds: 0)

    /// A duration of `milliseconds`.
    package init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The units, largest first, as `model.Duration.String()` uses them; years and weeks only when
    /// they divide the rest exactly ("90d" reads better than "12w6d").
    static let units: [(name: String, milliseconds: Int64, exactOnly: Bool)] = [
        ("y", 365 * 86_400_000, true), ("w", 7 * 86_400_000, true), ("d", 86_400_000, false),
        ("h", 3_600_000, false), ("m", 60_000, false), ("s", 1000, false), ("ms", 1, false),
    ]

    /// The duration as PromQL writes it, `0s` for zero (a negative duration prints its magnitude).
    package var description: String {
        var rest = milliseconds.magnitude
        if rest == 0 { return "0s" }
        var text = ""
        for unit in Self.units {
            let size = UInt64(unit.milliseconds)
            if unit.exactOnly && rest % size != 0 { continue }
            let count = rest / size
            if count > 0 {
                text += "\(count)\(unit.name)"
                rest -= count * size
            }
        }
        return text
    }
}

/// The binary operators, with Prometheus' precedence (`generated_parser.y`: `or` lowest, `^`
/// highest and right-associative).
package enum PromQLBinaryOperator: String, Sendable, Hashable {
    /// `^`
    case power = "^"
    /// `*`
    case multiply = "*"
    /// `/`
    case divide = "/"
    /// `%`
    case modulo = "%"
    /// `atan2`
    case atan2
    /// `+`
    case add = "+"
    /// `-`
    case subtract = "-"
    /// `==`
    case equal = "=="
    /// `!=`
    case notEqual = "!="
    /// `>`
    case greater = ">"
    /// `<`
    case less = "<"
    /// `>=`
    case greaterOrEqual = ">="
    /// `<=`
    case lessOrEqual = "<="
    /// `and`
    case and
    /// `unless`
    case unless
    /// `or`
    case or

    /// Binding strength: 1 for `or` up to 6 for `^`.
    var precedence: Int {
        switch self {
        case .or: return 1
        case .and, .unless: return 2
        case .equal, .notEqual, .greater, .less, .greaterOrEqual, .lessOrEqual: return 3
        case .add, .subtract: return 4
        case .multiply, .divide, .modulo, .atan2: return 5
        case .power: return 6
        }
    }

    /// Whether this is a comparison, the only kind that takes `bool`.
    var isComparison: Bool { precedence == 3 }

    /// Whether this is `and`, `or` or `unless`, which work on vectors only.
    var isSetOperator: Bool { self == .and || self == .or || self == .unless }
}

/// The modifiers written after a binary operator: `bool`, `on (…)` / `ignoring (…)`, and
/// `group_left (…)` / `group_right (…)`.
package struct PromQLVectorMatching: Sendable, Hashable {
    /// Which side may have many series per match, with the labels to copy from the other side.
    package enum Cardinality: Sendable, Hashable {
        /// One series on each side per match (the default).
        case oneToOne
        /// `group_left (labels)`: many on the left.
        case manyToOne(include: [String])
        /// `group_right (labels)`: many on the right.
        case oneToMany(include: [String])
    }

    /// `bool`: a comparison returns 0 or 1 instead of filtering.
    package var returnsBool: Bool
    /// `on` (true) or `ignoring` (false) for ``matchingLabels``.
    package var on: Bool
    /// The labels in `on (…)` or `ignoring (…)`.
    package var matchingLabels: [String]
    /// `group_left` / `group_right`, or one-to-one.
    package var cardinality: Cardinality

    /// No modifiers: one-to-one matching on all labels.
    package static let none = PromQLVectorMatching()

    /// Modifiers as given; the defaults are none at all.
    package init(returnsBool: Bool = false, on: Bool = false, matchingLabels: [String] = [], cardinality: Cardinality = .oneToOne) {
        self.returnsBool = returnsBool
        self.on = on
        self.matchingLabels = matchingLabels
        self.cardinality = cardinality
    }

    /// ` bool on (a) group_left (b)`, as Prometheus' printer writes it after the operator.
    var suffix: String {
        var text = returnsBool ? " bool" : ""
        let grouped = cardinality != .oneToOne
        if !matchingLabels.isEmpty || on || grouped {
            text += (on ? " on (" : " ignoring (") + matchingLabels.joined(separator: ", ") + ")"
        }
        switch cardinality {
        case .oneToOne: break
        case .manyToOne(let include): text += " group_left (" + include.joined(separator: ", ") + ")"
        case .oneToMany(let include): text += " group_right (" + include.joined(separator: ", ") + ")"
        }
        return text
    }
}

/// An aggregation over an instant vector: `sum by (job) (x)`, `quantile without (cpu) (0.9, x)`.
package struct PromQLAggregation: Sendable, Hashable, CustomStringConvertible {
    /// The aggregation operators Prometheus has, less the experimental `limitk` and `limit_ratio`.
    package enum Operator: String, Sendable, Hashable {
        /// `sum`
        case sum
        /// `avg`
        case avg
        /// `min`
        case min
        /// `max`
        case max
        /// `count`
        case count
        /// `group`
        case group
        /// `stddev`
        case stddev
        /// `stdvar`
        case stdvar
        /// `topk`, with a scalar parameter.
        case topk
        /// `bottomk`, with a scalar parameter.
        case bottomk
        /// `quantile`, with a scalar parameter.
        case quantile
        /// `count_values`, with a string parameter.
        case countValues = "count_values"

        /// The type of the parameter before the vector, or nil when it takes none.
        var parameterType: PromQLValueType? {
            switch self {
            case .topk, .bottomk, .quantile: return .scalar
            case .countValues: return .string
            default: return nil
            }
        }
    }

    /// Which labels the result keeps.
    package enum Grouping: Sendable, Hashable {
        /// `by (labels)`: only these; `by ()` (the default) keeps none.
        case by([String])
        /// `without (labels)`: all but these.
        case without([String])
    }

    /// The operator.
    package var op: Operator
    /// `by` or `without`.
    package var grouping: Grouping
    /// The parameter of `topk`, `bottomk`, `quantile` and `count_values`.
    package var parameter: PromQLExpression?
    /// The instant vector aggregated.
    package var expression: PromQLExpression

    /// An aggregation of `expression` by `op`.
    package init(_ op: Operator, grouping: Grouping = .by([]), parameter: PromQLExpression? = nil, _ expression: PromQLExpression) {
        self.op = op
        self.grouping = grouping
        self.parameter = parameter
        self.expression = expression
    }

    /// The aggregation as PromQL: `sum by (le) (x)`, `topk(3, x)`.
    package var description: String {
        var text = op.rawValue
        switch grouping {
        case .by(let labels) where !labels.isEmpty: text += " by (" + labels.joined(separator: ", ") + ") "
        case .by: break
        case .without(let labels): text += " without (" + labels.joined(separator: ", ") + ") "
        }
        return text + "(" + (parameter.map { "\($0), " } ?? "") + expression.description + ")"
    }
}

/// `value` as a Go double-quoted string (`strconv.Quote`), as Prometheus prints strings.
package func quotedPromQLString(_ value: String) -> String {
    var text = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": text += "\\\""
        case "\\": text += "\\\\"
        case "\n": text += "\\n"
        case "\t": text += "\\t"
        case "\r": text += "\\r"
        case "\u{7}": text += "\\a"
        case "\u{8}": text += "\\b"
        case "\u{C}": text += "\\f"
        case "\u{B}": text += "\\v"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16)
            text += "\\x" + (hex.count < 2 ? "0" : "") + hex
        default: text.unicodeScalars.append(scalar)
        }
    }
    return text + "\""
}
