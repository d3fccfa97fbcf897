import PromQL
import Rules
import Testing
import YAMLFiles

@Suite struct RuleFileTests {
    @Test func groupsAndRulesAreReadWithTheirLines() throws {
        let groups = try RuleFile.parse(yaml: """
            groups:
              - name: host
                interval: 30s
                rules:
                  - record: instance:node_cpu:rate5m
                    expr: sum without (cpu) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))
                    labels: {source: lookout}
                  - alert: HostOutOfMemory
                    expr: node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1
                    for: 5m
                    keep_firing_for: 1h30m
                    labels:
                      severity: critical
                    annotations:
                      summary: "{{ $labels.instance }} is low on memory"
              - name: empty
            """)
        #expect(groups == [
            RuleGroup(name: "host", intervalMilliseconds: 30_000, rules: [
                Rule(kind: .record(name: "instance:node_cpu:rate5m"),
                     expression: #"sum without (cpu) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))"#,
                     labels: ["source": "lookout"], expressionLine: 6, expressionColumn: 15),
                Rule(kind: .alert(name: "HostOutOfMemory", forMilliseconds: 300_000, keepFiringForMilliseconds: 5_400_000,
                                  annotations: ["summary": "{{ $labels.instance }} is low on memory"]),
                     expression: "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1",
                     labels: ["severity": "critical"], expressionLine: 9, expressionColumn: 15),
            ], line: 2),
            RuleGroup(name: "empty", line: 16),
        ])
    }

    /// Schema mistakes stop reading, with their line.
    @Test(arguments: [
        ("groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        for: 5 minutes\n", "6: for: \"5 minutes\" is not a duration like 30s, 5m or 1h30m"),
        ("groups:\n  - name: a\n    rules:\n      - alert: X\n        expr: up\n        severity: page\n", "6: unknown key \"severity\" in a rule of group \"a\""),
        ("groups:\n  - name: a\n    evaluation_interval: 1m\n", "3: unknown key \"evaluation_interval\" in a group"),
        ("rules: []\n", "1: unknown key \"rules\" (a rule file has only groups)"),
        ("groups:\n  - name: a\n    interval: 1m30\n", "3: interval: \"1m30\" is not a duration like 30s, 5m or 1h30m"),
    ])
    func mistakesAreOneLineWithTheirLine(yaml: String, message: String) {
        #expect(throws: YAMLFileError(file: nil, line: Int(message.prefix { $0.isNumber }), message: String(message.drop { $0 != " " }.dropFirst()))) {
            try RuleFile.parse(yaml: yaml)
        }
    }

    /// Validation problems in rulefmt's words and places (promtool's own output; RulesCheckTests
    /// compares whole files with promtool): the first is thrown by `parse`, all are listed by
    /// `checked`.
    @Test(arguments: [
        ("groups:\n  - name: a\n  - name: a\n", ["3:5: groupname: \"a\" is repeated in the same file"]),
        ("groups:\n  - interval: 1m\n", ["2:5: Groupname must not be empty"]),
        ("groups:\n  - name: a\n    rules:\n      - alert: X\n", ["0:0: group \"a\", rule 1, \"X\": field 'expr' must be set in rule"]),
        ("groups:\n  - name: a\n    rules:\n      - expr: up\n", ["0:0: group \"a\", rule 1, \"\": one of 'record' or 'alert' must be set"]),
        ("groups:\n  - name: a\n    rules:\n      - record: x\n        alert: Y\n        expr: up\n",
         ["4:17: 5:16: group \"a\", rule 1, \"Y\": only one of 'record' and 'alert' must be set"]),
        ("groups:\n  - name: a\n    rules:\n      - record: 1x\n        expr: up\n", ["4:17: group \"a\", rule 1, \"1x\": invalid recording rule name: 1x"]),
        ("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        for: 1m\n",
         ["4:17: group \"a\", rule 1, \"x\": invalid field 'for' in recording rule"]),
        ("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up ==\n        for: 0s\n        labels: {bad-name: x}\n",
         ["5:15: group \"a\", rule 1, \"x\": could not parse expression: 1:6: parse error: unexpected end of input",
          "group \"a\", rule 1, \"x\": invalid label name: bad-name"]),
    ])
    func validationProblemsAreAllListed(yaml: String, messages: [String]) {
        #expect(throws: YAMLFileError(file: nil, line: nil, message: messages[0])) { try RuleFile.parse(yaml: yaml) }
        #expect(RuleFile.checked(yaml: yaml, name: "f.yml").messages == messages.map { "f.yml: \($0)" })
    }

    @Test(arguments: [
        ("0", 0), ("500ms", 500), ("30s", 30_000), ("5m", 300_000), ("1h30m", 5_400_000), ("1d", 86_400_000),
        ("2w", 1_209_600_000), ("1y", 31_536_000_000), ("1m500ms", 60_500),
    ] as [(String, Int64)])
    func prometheusDurations(text: String, milliseconds: Int64) {
        #expect(PrometheusDuration.milliseconds(text) == milliseconds)
    }

    @Test(arguments: ["", "5", "m", "1.5h", "30m1h", "1m1m", "-1s", "1s ", "99999999999999999999y"])
    func notDurations(text: String) {
        #expect(PrometheusDuration.milliseconds(text) == nil)
    }
}
