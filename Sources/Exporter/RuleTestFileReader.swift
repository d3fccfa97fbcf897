import Collectors
import Rules
import Yams

/// Reads a promtool rule unit-test file (`promtool test rules` input) into a `RuleTestFile`,
/// refusing unknown keys and malformed values with their line, as promtool's strict YAML does.
enum RuleTestFileReader {
    /// The test file at `path`.
    static func load(path: String) throws(RuleFileError) -> RuleTestFile {
        try RuleYAML.load(path, parse: parse(yaml:))
    }

    /// The test file in `text`.
    static func parse(yaml text: String) throws(RuleFileError) -> RuleTestFile {
        let root = try RuleYAML.compose(text)
        guard let root else { throw RuleFileError(file: nil, line: nil, message: "the test file is empty") }
        var file = RuleTestFile(ruleFiles: [], tests: [])
        for (key, value) in try RuleYAML.mapping(root, what: "the test file") {
            switch key {
            case "rule_files": file.ruleFiles = try strings(value, key)
            case "evaluation_interval": file.evaluationIntervalMilliseconds = try RuleYAML.duration(value, key)
            case "group_eval_order": file.groupEvaluationOrder = try strings(value, key)
            case "tests":
                for node in try sequence(value, key) { file.tests.append(try readGroup(node)) }
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in a test file")
            }
        }
        return file
    }

    private static func readGroup(_ node: Node) throws(RuleFileError) -> RuleTestGroup {
        var group = RuleTestGroup(line: node.mark?.line)
        for (key, value) in try RuleYAML.mapping(node, what: "a test") {
            switch key {
            case "name": group.name = try RuleYAML.scalar(value, key)
            case "interval": group.intervalMilliseconds = try RuleYAML.duration(value, key)
            case "external_labels": group.externalLabels = try RuleYAML.labelMap(value, key)
            case "external_url": group.externalURL = try RuleYAML.scalar(value, key)
            case "input_series":
                for series in try sequence(value, key) { group.inputSeries.append(try readSeries(series)) }
            case "alert_rule_test":
                for test in try sequence(value, key) { group.alertRuleTests.append(try readAlertTest(test)) }
            case "promql_expr_test":
                for test in try sequence(value, key) { group.expressionTests.append(try readExpressionTest(test)) }
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in a test")
            }
        }
        return group
    }

    private static func readSeries(_ node: Node) throws(RuleFileError) -> InputSeries {
        var series: String?, values: [SeriesValue] = []
        for (key, value) in try RuleYAML.mapping(node, what: "an input series") {
            switch key {
            case "series": series = try RuleYAML.scalar(value, key)
            case "values":
                do {
                    values = try SeriesValue.expand(try RuleYAML.scalar(value, key))
                } catch let error as SeriesValuesError {
                    throw RuleFileError(at: value, "values: \(error)")
                } catch let error as RuleFileError {
                    throw error
                } catch {
                    throw RuleFileError(at: value, "values: \(error)")
                }
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in an input series")
            }
        }
        guard let series, !series.isEmpty else { throw RuleFileError(at: node, "an input series needs its series") }
        return InputSeries(series: series, values: values, line: node.mark?.line)
    }

    private static func readAlertTest(_ node: Node) throws(RuleFileError) -> AlertRuleTest {
        var test = AlertRuleTest(evalTimeMilliseconds: 0, alertName: "", expectedAlerts: [], line: node.mark?.line)
        for (key, value) in try RuleYAML.mapping(node, what: "an alert rule test") {
            switch key {
            case "eval_time": test.evalTimeMilliseconds = try RuleYAML.duration(value, key)
            case "alertname": test.alertName = try RuleYAML.scalar(value, key)
            case "exp_alerts":
                for alert in try sequence(value, key) {
                    var expected = ExpectedAlert()
                    for (alertKey, alertValue) in try RuleYAML.mapping(alert, what: "an expected alert") {
                        switch alertKey {
                        case "exp_labels": expected.labels = try RuleYAML.labelMap(alertValue, alertKey)
                        case "exp_annotations": expected.annotations = try RuleYAML.labelMap(alertValue, alertKey)
                        default: throw RuleFileError(at: alertValue, "unknown key \"\(alertKey)\" in an expected alert")
                        }
                    }
                    test.expectedAlerts.append(expected)
                }
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in an alert rule test")
            }
        }
        guard !test.alertName.isEmpty else { throw RuleFileError(at: node, "an alert rule test needs its alertname") }
        return test
    }

    private static func readExpressionTest(_ node: Node) throws(RuleFileError) -> ExpressionTest {
        var test = ExpressionTest(expression: "", evalTimeMilliseconds: 0, expectedSamples: [], line: node.mark?.line)
        for (key, value) in try RuleYAML.mapping(node, what: "a promql_expr_test") {
            switch key {
            case "expr": test.expression = try RuleYAML.scalar(value, key)
            case "eval_time": test.evalTimeMilliseconds = try RuleYAML.duration(value, key)
            case "exp_samples":
                for sample in try sequence(value, key) {
                    var labels = "{}", number: Double?
                    for (sampleKey, sampleValue) in try RuleYAML.mapping(sample, what: "an expected sample") {
                        switch sampleKey {
                        case "labels": labels = try RuleYAML.scalar(sampleValue, sampleKey)
                        case "value":
                            let text = try RuleYAML.scalar(sampleValue, sampleKey)
                            guard let parsed = SeriesValue.number(text) else {
                                throw RuleFileError(at: sampleValue, "value: \"\(text)\" is not a number")
                            }
                            number = parsed
                        default: throw RuleFileError(at: sampleValue, "unknown key \"\(sampleKey)\" in an expected sample")
                        }
                    }
                    test.expectedSamples.append((labels, number ?? 0))
                }
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in a promql_expr_test")
            }
        }
        guard !test.expression.isEmpty else { throw RuleFileError(at: node, "a promql_expr_test needs its expr") }
        return test
    }

    private static func sequence(_ node: Node, _ key: String) throws(RuleFileError) -> [Node] {
        guard case .sequence(let sequence) = node else { throw RuleFileError(at: node, "\(key) must be a list") }
        return Array(sequence)
    }

    private static func strings(_ node: Node, _ key: String) throws(RuleFileError) -> [String] {
        var values: [String] = []
        for element in try sequence(node, key) { values.append(try RuleYAML.scalar(element, key)) }
        return values
    }
}
