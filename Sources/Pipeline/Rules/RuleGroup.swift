/// A group of a Prometheus rule file (prometheus `docs/configuration/recording_rules.md`,
/// `alerting_rules.md`): rules evaluated in order, every `interval`.
package struct RuleGroup: Sendable, Equatable {
    /// The group's name, unique in its file.
    package var name: String
    /// How often the group is evaluated; nil: the global evaluation interval.
    package var intervalMilliseconds: Int64?
    /// Most alerts (or series) a rule of the group may produce; 0 = no limit.
    package var limit: Int
    /// The rules, in evaluation order.
    package var rules: [Rule]
    /// The line in the file where the group starts, for messages.
    package var line: Int?

    /// Creates a group.
    package init(name: String, intervalMilliseconds: Int64? = nil, limit: Int = 0, rules: [Rule] = [], line: Int? = nil) {
        self.name = name
        self.intervalMilliseconds = intervalMilliseconds
        self.limit = limit
        self.rules = rules
        self.line = line
    }
}

/// One rule: an alerting rule (`alert`) or a recording rule (`record`).
package struct Rule: Sendable, Equatable {
    /// What the rule makes.
    package enum Kind: Sendable, Equatable {
        /// Alerts named `name`, pending for `forMilliseconds` before they fire, and kept firing
        /// `keepFiringForMilliseconds` after the condition clears; annotations are templates.
        case alert(name: String, forMilliseconds: Int64, keepFiringForMilliseconds: Int64, annotations: [String: String])
        /// Series named `name`.
        case record(name: String)
    }

    /// Alert or record, with what only that kind has.
    package var kind: Kind
    /// The PromQL expression, as written.
    package var expression: String
    /// Labels added to (or overriding those of) every result.
    package var labels: [String: String]
    /// The line of the rule's `expr`, for messages.
    var expressionLine: Int?
    /// The column of the rule's `expr` value, for messages.
    var expressionColumn: Int?

    /// Creates a rule.
    package init(kind: Kind, expression: String, labels: [String: String] = [:], expressionLine: Int? = nil, expressionColumn: Int? = nil) {
        self.kind = kind
        self.expression = expression
        self.labels = labels
        self.expressionLine = expressionLine
        self.expressionColumn = expressionColumn
    }

    /// The rule's name: the alert's or the recorded series'.
    package var name: String {
        switch kind {
        case .alert(let name, _, _, _), .record(let name): name
        }
    }
}

