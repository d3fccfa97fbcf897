/// A promtool rule unit-test file (prometheus `docs/configuration/unit_testing_rules.md`): the rule
/// files under test, and test groups of input series with the alerts and expression results
/// expected at given times.
struct RuleTestFile: Sendable, Equatable {
    /// The rule files under test, relative to this file (globs allowed, as promtool allows).
    var ruleFiles: [String]
    /// The interval rules are evaluated at; default 1 minute.
    var evaluationIntervalMilliseconds: Int64
    /// Group names in the order to evaluate them; empty: file order.
    var groupEvaluationOrder: [String]
    /// The test groups.
    package var tests: [RuleTestGroup]

    /// Creates a test file.
    package init(ruleFiles: [String], evaluationIntervalMilliseconds: Int64 = 60_000, groupEvaluationOrder: [String] = [],
                tests: [RuleTestGroup]) {
        self.ruleFiles = ruleFiles
        self.evaluationIntervalMilliseconds = evaluationIntervalMilliseconds
        self.groupEvaluationOrder = groupEvaluationOrder
        self.tests = tests
    }
}

/// One test group: series, and what is expected of the rules over them.
struct RuleTestGroup: Sendable, Equatable {
    /// The group's name, for the report.
    package var name: String
    /// The time between the input series' values; default: the evaluation interval.
    package var intervalMilliseconds: Int64?
    /// The input series.
    var inputSeries: [InputSeries]
    /// The alerts expected at given times.
    var alertRuleTests: [AlertRuleTest]
    /// The expression results expected at given times.
    var expressionTests: [ExpressionTest]
    /// Labels the rules' templates see as `$externalLabels`.
    var externalLabels: [String: String]
    /// What the rules' templates see as `$externalURL`.
    package var externalURL: String = ""
    /// The line of the group in the file.
    package var line: Int?

    /// Creates a test group.
    package init(name: String = "", intervalMilliseconds: Int64? = nil, inputSeries: [InputSeries] = [],
                alertRuleTests: [AlertRuleTest] = [], expressionTests: [ExpressionTest] = [],
                externalLabels: [String: String] = [:], line: Int? = nil) {
        self.name = name
        self.intervalMilliseconds = intervalMilliseconds
        self.inputSeries = inputSeries
        self.alertRuleTests = alertRuleTests
        self.expressionTests = expressionTests
        self.externalLabels = externalLabels
        self.line = line
    }
}

/// An input series: its selector text (`up{job="x"}`) and its values, one per interval from 0.
struct InputSeries: Sendable, Equatable {
    /// The series as PromQL writes one: a name and `=` matchers.
    package var series: String
    /// The expanded values.
    package var values: [SeriesValue]
    /// The line of the series in the file.
    package var line: Int?

    /// Creates an input series.
    package init(series: String, values: [SeriesValue], line: Int? = nil) {
        self.series = series
        self.values = values
        self.line = line
    }
}

/// The firing alerts of one rule expected at one time; none expected means "not firing".
struct AlertRuleTest: Sendable, Equatable {
    /// When, from the start of the test.
    var evalTimeMilliseconds: Int64
    /// The alerting rule's name.
    var alertName: String
    /// The firing alerts: labels (without `alertname`) and annotations.
    var expectedAlerts: [ExpectedAlert]
    /// The line of the test in the file.
    package var line: Int?

    /// Creates the test.
    package init(evalTimeMilliseconds: Int64, alertName: String, expectedAlerts: [ExpectedAlert], line: Int? = nil) {
        self.evalTimeMilliseconds = evalTimeMilliseconds
        self.alertName = alertName
        self.expectedAlerts = expectedAlerts
        self.line = line
    }
}

/// One expected firing alert.
struct ExpectedAlert: Sendable, Equatable {
    /// Its labels, without `alertname`.
    package var labels: [String: String]
    /// Its annotations, templates expanded.
    package var annotations: [String: String]

    /// Creates the expectation.
    package init(labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.labels = labels
        self.annotations = annotations
    }
}

/// The samples an expression is expected to give at one time.
struct ExpressionTest: Sendable, Equatable {
    /// The PromQL expression.
    package var expression: String
    /// When, from the start of the test.
    var evalTimeMilliseconds: Int64
    /// The expected samples: labels as PromQL writes a series (`{a="b"}`, `name{a="b"}`) and value.
    var expectedSamples: [(labels: String, value: Double)]
    /// The line of the test in the file.
    package var line: Int?

    /// Creates the test.
    package init(expression: String, evalTimeMilliseconds: Int64, expectedSamples: [(labels: String, value: Double)], line: Int? = nil) {
        self.expression = expression
        self.evalTimeMilliseconds = evalTimeMilliseconds
        self.expectedSamples = expectedSamples
        self.line = line
    }

    /// Whether the two tests ask the same (expected values compared with NaN equal to NaN).
    package static func == (left: ExpressionTest, right: ExpressionTest) -> Bool {
        left.expression == right.expression && left.evalTimeMilliseconds == right.evalTimeMilliseconds && left.line == right.line
            && left.expectedSamples.count == right.expectedSamples.count
            && zip(left.expectedSamples, right.expectedSamples).allSatisfy {
                $0.labels == $1.labels && ($0.value == $1.value || ($0.value.isNaN && $1.value.isNaN))
            }
    }
}
