@testable import Rules
import Testing
@testable import YAMLFiles

@Suite struct RuleTestFileReaderTests {
    /// The example of prometheus' docs/configuration/unit_testing_rules.md, in its shape.
    @Test func theDocumentedExampleIsRead() throws {
        let file = try RuleTestFileReader.parse(yaml: """
            rule_files:
              - alerts.yml
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'up{job="prometheus", instance="localhost:9090"}'
                    values: '0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'
                  - series: 'go_goroutines{job="apiserver", instance="localhost:9090"}'
                    values: '50+10x5 100+-10x5'
                alert_rule_test:
                  - eval_time: 10m
                    alertname: InstanceDown
                    exp_alerts:
                      - exp_labels:
                          severity: page
                          instance: localhost:9090
                          job: prometheus
                        exp_annotations:
                          summary: "Instance localhost:9090 down"
                promql_expr_test:
                  - expr: go_goroutines > 5
                    eval_time: 4m
                    exp_samples:
                      - labels: 'go_goroutines{job="apiserver",instance="localhost:9090"}'
                        value: 90
                  - expr: absent(nothing)
                    eval_time: 1m
                    exp_samples:
                      - labels: '{}'
                        value: 1
            """)
        #expect(file.ruleFiles == ["alerts.yml"])
        #expect(file.evaluationIntervalMilliseconds == 60_000)
        let group = try #require(file.tests.first)
        #expect(group.intervalMilliseconds == 60_000 && group.line == 5)
        #expect(group.inputSeries.map(\.series) == [#"up{job="prometheus", instance="localhost:9090"}"#,
                                                    #"go_goroutines{job="apiserver", instance="localhost:9090"}"#])
        #expect(group.inputSeries[0].values == Array(repeating: .sample(0), count: 15))
        #expect(group.inputSeries[1].values == [50, 60, 70, 80, 90, 100, 100, 90, 80, 70, 60, 50].map { .sample($0) })
        #expect(group.alertRuleTests == [AlertRuleTest(
            evalTimeMilliseconds: 600_000, alertName: "InstanceDown",
            expectedAlerts: [ExpectedAlert(labels: ["severity": "page", "instance": "localhost:9090", "job": "prometheus"],
                                           annotations: ["summary": "Instance localhost:9090 down"])],
            line: 12)])
        #expect(group.expressionTests == [
            ExpressionTest(expression: "go_goroutines > 5", evalTimeMilliseconds: 240_000,
                           expectedSamples: [(#"go_goroutines{job="apiserver",instance="localhost:9090"}"#, 90)], line: 22),
            ExpressionTest(expression: "absent(nothing)", evalTimeMilliseconds: 60_000, expectedSamples: [("{}", 1)], line: 27),
        ])
    }

    @Test(arguments: [
        ("tests: []\nrules: x\n", YAMLFileError(file: nil, line: 2, message: "unknown key \"rules\" in a test file")),
        ("tests:\n  - input_series:\n      - values: '1'\n", YAMLFileError(file: nil, line: 3, message: "an input series needs its series")),
        ("tests:\n  - input_series:\n      - series: up\n        values: '1 2+x3'\n",
         YAMLFileError(file: nil, line: 4, message: "values: column 3: '2+x3': '+' is not a number")),
        ("tests:\n  - alert_rule_test:\n      - eval_time: 1m\n", YAMLFileError(file: nil, line: 3, message: "an alert rule test needs its alertname")),
        ("tests:\n  - promql_expr_test:\n      - expr: up\n        eval_time: soon\n",
         YAMLFileError(file: nil, line: 4, message: "eval_time: \"soon\" is not a duration like 30s, 5m or 1h30m")),
        ("tests:\n  - promql_expr_test:\n      - expr: up\n        exp_samples:\n          - value: lots\n",
         YAMLFileError(file: nil, line: 5, message: "value: \"lots\" is not a number")),
        ("", YAMLFileError(file: nil, line: nil, message: "the test file is empty")),
    ])
    func mistakesNameTheirLine(yaml: String, error: YAMLFileError) {
        #expect(throws: error) { try RuleTestFileReader.parse(yaml: yaml) }
    }
}
