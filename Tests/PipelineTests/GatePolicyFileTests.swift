import Gate
import PromQL
import Testing
import YAMLFiles

/// Gate policies read from YAML: every key, and each mistake as one line with its line number.
@Suite struct GatePolicyFileTests {
    @Test func everyKeyIsRead() throws {
        let policy = try GatePolicyFile.parse(yaml: """
            interval: 15s
            checks:
              - name: vm_down
                alert: MicroVMDown
              - name: error_rate
                expr: sum(rate(app_errors_total[5m])) / sum(rate(app_requests_total[5m]))
                failure: "> 0.05"
                no_data: fail
                failure_limit: 2
                consecutive_failure_limit: 1
                consecutive_error_limit: 3
                window: 5m
                dry_run: true
            """)
        #expect(policy == GatePolicy(intervalMilliseconds: 15_000, checks: [
            GateCheck(name: "vm_down", query: .alert("MicroVMDown"), failure: .present),
            GateCheck(name: "error_rate", query: .expression("sum(rate(app_errors_total[5m])) / sum(rate(app_requests_total[5m]))"),
                      failure: .comparison(.greater, 0.05), noData: .fail, failureLimit: 2, consecutiveFailureLimit: 1,
                      consecutiveErrorLimit: 3, windowMilliseconds: 300_000, dryRun: true),
        ]))
    }

    @Test(arguments: [
        ("", "the policy is empty"),
        ("interval: 30s\n", "1: a policy needs at least one check under checks"),
        ("checks: []\nlimit: 3\n", "2: unknown key \"limit\" (a policy has interval and checks)"),
        ("interval: 0s\nchecks:\n  - {name: a, alert: A}\n", "1: interval must be longer than 0"),
        ("checks:\n  - name: a b\n    alert: A\n", "2: a check needs a name matching [a-zA-Z_][a-zA-Z0-9_]*"),
        ("checks:\n  - name: a\n    expr: up\n    failure: \"> x\"\n", "4: check a: failure must be a comparison like \"> 0.05\" or \"present\", got \"> x\""),
        ("checks:\n  - name: a\n    expr: sum(\n    failure: present\n", "3: check a: expr: 1:5: parse error: unclosed left parenthesis"),
        ("checks:\n  - name: a\n    alert: A\n    failure: present\n", "2: check a: an alert check fails while the alert fires; it takes no failure"),
        ("checks:\n  - name: a\n    expr: up\n", "2: check a: an expr check needs failure, a comparison like \"> 0.05\" or \"present\""),
        ("checks:\n  - {name: a, alert: A}\n  - {name: a, alert: B}\n", "1: check name \"a\" is used twice"),
        ("checks:\n  - name: a\n    alert: A\n    window: soon\n", "4: window: \"soon\" is not a duration like 30s, 5m or 1h30m"),
        ("checks:\n  - name: a\n    alert: A\n    dry_run: maybe\n", "4: check a: dry_run must be true or false, got \"maybe\""),
        ("checks: [\n", "invalid YAML: 2:1: error: parser: while parsing a flow node in line 2, column 1"),
    ])
    func eachMistakeIsOneLineWithItsLine(yaml: String, message: String) {
        do {
            _ = try GatePolicyFile.parse(yaml: yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description == message)
        }
    }
}
