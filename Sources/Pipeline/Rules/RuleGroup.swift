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
/// 7 days, a year 365 days), or `0`. PromQL's ranges and offsets read them here too.
public enum PrometheusDuration {
    /// Why a text is not a duration.
    public enum Failure: Error, Sendable {
        /// Not in the notation.
        case invalid
        /// In the notation, but more milliseconds than an Int64 holds.
        case outOfRange
    }

    /// Milliseconds in `text`, or nil when it is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        try? parse(text)
    }

    /// Milliseconds in `text`.
    public static func parse(_ text: String) throws(Failure) -> Int64 {
        if text == "0" { return 0 }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .invalid }
        var index = 0, nextUnit = 0
        var total: Int64 = 0
        while index < bytes.count {
            var count: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflowA) = count.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                if overflowA || overflowB { throw .outOfRange }
                count = sum
                index += 1
            }
            guard index > digitsStart, index < bytes.count else { throw .invalid }
            var unitName = String(UnicodeScalar(bytes[index]))
            index += 1
            if unitName == "m", index < bytes.count, bytes[index] == UInt8(ascii: "s") {
                unitName = "ms"
                index += 1
            }
            // Each unit at most once, largest first.
            guard let unit = PromQLDuration.units.indices.first(where: { PromQLDuration.units[$0].name == unitName }),
                  unit >= nextUnit else { throw .invalid }
            nextUnit = unit + 1
            let (product, overflowA) = count.multipliedReportingOverflow(by: PromQLDuration.units[unit].milliseconds)
            let (sum, overflowB) = total.addingReportingOverflow(product)
            if overflowA || overflowB { throw .outOfRange }
            total = sum
        }
        return total
    }
}
