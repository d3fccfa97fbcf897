import YAMLFiles
import Yams

/// Reads a promtool rule unit-test file (`promtool test rules` input) into a `RuleTestFile`,
/// refusing unknown keys and malformed values with their line, as promtool's strict YAML does.
enum RuleTestFileReader {
    /// The test file at `path`.
    static func load(path: String) throws(YAMLFileError) -> RuleTestFile {
        try YAMLFile.load(path, parse: parse(yaml:))
    }

    /// The test file in `text`.
    static func parse(yaml text: String) throws(YAMLFileError) -> RuleTestFile {
        let root = try YAMLFile.located(text)
        guard let root else { throw YAMLFileError(file: nil, line: nil, message: "the test file is empty") }
        var file = RuleTestFile(ruleFiles: [], tests: [])
        for (key, value) in try YAMLFile.mapping(root, what: "the test file") {
            switch key {
            case "rule_files": file.ruleFiles = try strings(value, key)
            case "evaluation_interval": file.evaluationIntervalMilliseconds = try YAMLFile.duration(value, key)
            case "group_eval_order": file.groupEvaluationOrder = try strings(value, key)
            case "tests":
                for node in try sequence(value, key) { file.tests.append(try readGroup(node)) }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a test file")
            }
        }
        return file
    }

    private static func readGroup(_ node: Node) throws(YAMLFileError) -> RuleTestGroup {
        var group = RuleTestGroup(line: node.mark?.line)
        for (key, value) in try YAMLFile.mapping(node, what: "a test") {
            switch key {
            case "name": group.name = try YAMLFile.scalar(value, key)
            case "interval": group.intervalMilliseconds = try YAMLFile.duration(value, key)
            case "external_labels": group.externalLabels = try YAMLFile.labelMap(value, key)
            case "external_url": group.externalURL = try YAMLFile.scalar(value, key)
            case "input_series":
                for series in try sequence(value, key) { group.inputSeries.append(try readSeries(series)) }
            case "alert_rule_test":
                for test in try sequence(value, key) { group.alertRuleTests.append(try readAlertTest(test)) }
            case "promql_expr_test":
                for test in try sequence(value, key) { group.expressionTests.append(try readExpressionTest(test)) }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a test")
            }
        }
        return group
    }

    private static func readSeries(_ node: Node) throws(YAMLFileError) -> InputSeries {
        var series: String?, values: [SeriesValue] = []
        for (key, value) in try YAMLFile.mapping(node, what: "an input series") {
            switch key {
            case "series": series = try YAMLFile.scalar(value, key)
            case "values":
                do {
                    values = try SeriesValue.expand(try YAMLFile.scalar(value, key))
                } catch let error as SeriesValuesError {
                    throw YAMLFileError(at: value, "values: \(error)")
                } catch let error as YAMLFileError {
                    throw error
                } catch {
                    throw YAMLFileError(at: value, "values: \(error)")
                }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in an input series")
            }
        }
        guard let series, !series.isEmpty else { throw YAMLFileError(at: node, "an input series needs its series") }
        return InputSeries(series: series, values: values, line: node.mark?.line)
    }

    private static func readAlertTest(_ node: Node) throws(YAMLFileError) -> AlertRuleTest {
        var test = AlertRuleTest(evalTimeMilliseconds: 0, alertName: "", expectedAlerts: [], line: node.mark?.line)
        for (key, value) in try YAMLFile.mapping(node, what: "an alert rule test") {
            switch key {
            case "eval_time": test.evalTimeMilliseconds = try YAMLFile.duration(value, key)
            case "alertname": test.alertName = try YAMLFile.scalar(value, key)
            case "exp_alerts":
                for alert in try sequence(value, key) {
                    var expected = ExpectedAlert()
                    for (alertKey, alertValue) in try YAMLFile.mapping(alert, what: "an expected alert") {
                        switch alertKey {
                        case "exp_labels": expected.labels = try YAMLFile.labelMap(alertValue, alertKey)
                        case "exp_annotations": expected.annotations = try YAMLFile.labelMap(alertValue, alertKey)
                        default: throw YAMLFileError(at: alertValue, "unknown key \"\(alertKey)\" in an expected alert")
                        }
                    }
                    test.expectedAlerts.append(expected)
                }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in an alert rule test")
            }
        }
        guard !test.alertName.isEmpty else { throw YAMLFileError(at: node, "an alert rule test needs its alertname") }
        return test
    }

    private static func readExpressionTest(_ node: Node) throws(YAMLFileError) -> ExpressionTest {
        var test = ExpressionTest(expression: "", evalTimeMilliseconds: 0, expectedSamples: [], line: node.mark?.line)
        for (key, value) in try YAMLFile.mapping(node, what: "a promql_expr_test") {
            switch key {
            case "expr": test.expression = try YAMLFile.scalar(value, key)
            case "eval_time": test.evalTimeMilliseconds = try YAMLFile.duration(value, key)
            case "exp_samples":
                for sample in try sequence(value, key) {
                    var labels = "{}", number: Double?
                    for (sampleKey, sampleValue) in try YAMLFile.mapping(sample, what: "an expected sample") {
                        switch sampleKey {
                        case "labels": labels = try YAMLFile.scalar(sampleValue, sampleKey)
                        case "value":
                            let text = try YAMLFile.scalar(sampleValue, sampleKey)
                            guard let parsed = SeriesValue.number(text) else {
                                throw YAMLFileError(at: sampleValue, "value: \"\(text)\" is not a number")
                            }
                            number = parsed
                        default: throw YAMLFileError(at: sampleValue, "unknown key \"\(sampleKey)\" in an expected sample")
                        }
                    }
                    test.expectedSamples.append((labels, number ?? 0))
                }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a promql_expr_test")
            }
        }
        guard !test.expression.isEmpty else { throw YAMLFileError(at: node, "a promql_expr_test needs its expr") }
        return test
    }

    private static func sequence(_ node: Node, _ key: String) throws(YAMLFileError) -> [Node] {
        guard case .sequence(let sequence) = node else { throw YAMLFileError(at: node, "\(key) must be a list") }
        return Array(sequence)
    }

    private static func strings(_ node: Node, _ key: String) throws(YAMLFileError) -> [String] {
        var values: [String] = []
        for element in try sequence(node, key) { values.append(try YAMLFile.scalar(element, key)) }
        return values
    }
}
