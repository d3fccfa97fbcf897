/// A group of a Prometheus rule file (prometheus `docs/configuration/recording_rules.md`,
/// `alerting_rules.md`): rules evaluated in order, every `interval`.
public struct RuleGroup: Sendable, Equatable {
    /// The group's name, unique in its file.
    public var name: String
    /// How often the group is evaluated; nil: the global evaluation interval.
    public var intervalMilliseconds: Int64?
    /// Most alerts (or series) a rule of the group may produce; 0 = no limit.
    public var limit: Int
    /// The rules, in evaluation order.
    public var rules: [Rule]
    /// The line in the file where the group starts, for messages.
    public var line: Int?

    /// Creates a group.
    public init(name: String, intervalMilliseconds: Int64? = nil, limit: Int = 0, rules: [Rule] = [], line: Int? = nil) {
        self.name = name
        self.intervalMilliseconds = intervalMilliseconds
        self.limit = limit
        self.rules = rules
        self.line = line
    }
}

/// One rule: an alerting rule (`alert`) or a recording rule (`record`).
public struct Rule: Sendable, Equatable {
    /// What the rule makes.
    public enum Kind: Sendable, Equatable {
        /// Alerts named `name`, pending for `forMilliseconds` before they fire, and kept firing
        /// `keepFiringForMilliseconds` after the condition clears; annotations are templates.
        case alert(name: String, forMilliseconds: Int64, keepFiringForMilliseconds: Int64, annotations: [String: String])
        /// Series named `name`.
        case record(name: String)
    }

    /// Alert or record, with what only that kind has.
    public var kind: Kind
    /// The PromQL expression, as written.
    public var expression: String
    /// Labels added to (or overriding those of) every result.
    public var labels: [String: String]
    /// The line of the rule's `expr`, for messages.
    public var expressionLine: Int?
    /// The column of the rule's `expr` value, for messages.
    public var expressionColumn: Int?

    /// Creates a rule.
    public init(kind: Kind, expression: String, labels: [String: String] = [:], expressionLine: Int? = nil, expressionColumn: Int? = nil) {
        self.kind = kind
        self.expression = expression
        self.labels = labels
        self.expressionLine = expressionLine
        self.expressionColumn = expressionColumn
    }

    /// The rule's name: the alert's or the recorded series'.
    public var name: String {
        switch kind {
        case .alert(let name, _, _, _), .record(let name): name
        }
    }
}

/// Durations as Prometheus writes them (`model.ParseDuration`): one or more number-unit pairs
/// from the largest unit down, `1h30m`, `90s`, `500ms`, `1d`, `2w`, `1y` (a day is 24 h, a week
/// 7 days, a year 365 days), or `0`.
public enum PrometheusDuration {
    /// Milliseconds in `text`, or nil when it is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        if text == "0" { return 0 }
        guard !text.isEmpty else { return nil }
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
        ]
        var rest = Substring(text)
        var total: Int64 = 0
        var lastUnit = -1
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let count = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            // "ms" before "m", and each unit only once, largest first.
            guard let unit = units.indices.reversed().first(where: { rest.hasPrefix(units[$0].0) && !(units[$0].0 == "m" && rest.hasPrefix("ms")) }),
                  unit > lastUnit
            else { return nil }
            let (name, scale) = units[unit]
            let (product, overflow) = count.multipliedReportingOverflow(by: scale)
            guard !overflow else { return nil }
            let (sum, overflowed) = total.addingReportingOverflow(product)
            guard !overflowed else { return nil }
            total = sum
            lastUnit = unit
            rest = rest.dropFirst(name.count)
        }
        return total
    }
}
