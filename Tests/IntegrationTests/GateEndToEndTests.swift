import Foundation
import LookoutSupport
import Testing

/// The gate end to end: `lookout serve` evaluates a rule over its own history; a simulated bad
/// deploy (a textfile metric turning unhealthy) makes it fire; `lookout gate` rolls back and
/// names the rule, against the daemon and, through `--prometheus-url`, against a real
/// Prometheus scraping the same daemon with the same rule; a real Alertmanager receives the
/// alert; and the verdict comes back as `pipeline_gate_verdicts_total`.
@Suite(.serialized) struct GateEndToEndTests {
    static let rules = """
        groups:
          - name: app
            rules:
              - alert: AppUnhealthy
                expr: app_healthy == 0
                labels:
                  severity: critical
                annotations:
                  summary: The app reports itself unhealthy.
                  description: 'app_healthy is {{ $value }} on {{ $labels.instance }}.'
        """

    static let policy = """
        interval: 1s
        checks:
          - name: app_healthy
            alert: AppUnhealthy
            window: 25s
          - name: app_reports
            expr: app_healthy
            failure: "< 0"
            no_data: wait
            dry_run: true
        """

    @Test func aBadDeployRollsBackAgainstLookoutAndPrometheusAndAlertmanagerHearsOfIt() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let textfiles = directory.appendingPathComponent("textfile")
        try FileManager.default.createDirectory(at: textfiles, withIntermediateDirectories: true)
        try "app_healthy 1\n".write(to: textfiles.appendingPathComponent("app.prom"), atomically: true, encoding: .utf8)
        let rules = directory.appendingPathComponent("app.rules.yml")
        try Self.rules.write(to: rules, atomically: true, encoding: .utf8)
        let policy = directory.appendingPathComponent("policy.yml")
        try Self.policy.write(to: policy, atomically: true, encoding: .utf8)

        // Alertmanager, with nowhere to send notifications: the test reads its API.
        let (alertmanager, alertmanagerURL) = try await Harness.alertmanager(in: directory)
        defer { alertmanager.stop() }

        let daemon = try await EventsDaemon(token: "gate-token", serveArguments: [
            "--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory", textfiles.path,
            "--rules.file", rules.path, "--no-rules.defaults", "--rules.evaluation-interval", "1s",
            "--alertmanager.url", alertmanagerURL, "--alertmanager.resend-delay", "1s",
        ])
        defer { daemon.stop() }

        // Prometheus scrapes the daemon and evaluates the same rule.
        let daemonTarget = daemon.url.replacingOccurrences(of: "http://", with: "")
        let (prometheus, prometheusURL) = try await Harness.prometheus(configuration: """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files: ["\(rules.path)"]
            scrape_configs:
              - job_name: lookout
                static_configs:
                  - targets: ["\(daemonTarget)"]
            """, in: directory)
        defer { prometheus.stop() }
        try await Harness.waitUntil(seconds: 30, "Prometheus to scrape the daemon") {
            (try? await PrometheusScrapeTests.values(prometheusURL + "/api/v1/query?query=app_healthy")) == ["1"]
        }

        let gate = { (extra: [String]) throws -> (status: Int32, stdout: String, stderr: String) in
            try Harness.run(Harness.lookoutBinary, ["gate", "--pipeline", "shop", "--run-id", "r42", "--stage", "preprod",
                                                    "--policy", policy.path, "--wait", "60s", "--url", daemon.url,
                                                    "--token-file", daemon.tokenFile, "--strict"] + extra)
        }

        // Both list the same rules in /api/v1/rules (the fields the gate and dashboards read).
        func listed(_ url: String) async throws -> [[String: String]] {
            let body = try await Harness.get(url + "/api/v1/rules?type=alert").body
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let groups = (json?["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
            func pairs(_ value: Any?) -> String {
                ((value as? [String: String]) ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
            }
            return groups.flatMap { group in (group["rules"] as? [[String: Any]] ?? []).map { rule in
                ["group": "\(group["name"]!)", "name": "\(rule["name"]!)", "type": "\(rule["type"]!)", "query": "\(rule["query"]!)",
                 "duration": "\(rule["duration"]!)", "labels": pairs(rule["labels"]), "annotations": pairs(rule["annotations"])]
            } }
        }
        let ours = try await listed(daemon.url)
        let theirs = try await listed(prometheusURL)
        #expect(ours.count == 1 && ours == theirs, "\(ours) \(theirs)")

        // An alert check naming an alert no rule defines could never fail: an error, exit 3.
        let unknownPolicy = directory.appendingPathComponent("unknown.yml")
        try "checks:\n  - name: typo\n    alert: AppUnhealty\n".write(to: unknownPolicy, atomically: true, encoding: .utf8)
        for extra in [["--url", daemon.url], ["--prometheus-url", prometheusURL]] {
            let result = try Harness.run(Harness.lookoutBinary, ["gate", "--pipeline", "shop", "--run-id", "r42", "--stage", "preprod",
                                                                 "--policy", unknownPolicy.path, "--wait", "60s"] + extra)
            #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stderr.hasPrefix("lookout: error: check typo: no rule loaded at "), "\(result.stderr)")
            #expect(result.stderr.hasSuffix(" defines the alert \"AppUnhealty\"\n"), "\(result.stderr)")
        }

        // The bad deploy: the app turns unhealthy while the gate watches (the window keeps the
        // gate from promoting on the healthy readings before it).
        try "app_healthy 0\n".write(to: textfiles.appendingPathComponent("app.prom"), atomically: true, encoding: .utf8)
        let local = try gate([])
        #expect(local.status == 1, "\(local.stdout)\n\(local.stderr)\n\(daemon.log)")
        #expect(local.stdout.hasPrefix("ROLL BACK: pipeline shop, run r42, stage preprod"), "\(local.stdout)")
        #expect(local.stdout.contains("FAIL app_healthy"), "\(local.stdout)")
        #expect(local.stdout.contains(#"alertname="AppUnhealthy""#), "\(local.stdout)")
        #expect(local.stdout.contains("(dry run: does not decide)"), "\(local.stdout)")

        let remote = try gate(["--prometheus-url", prometheusURL, "--json"])
        #expect(remote.status == 1, "\(remote.stdout)\n\(remote.stderr)\n\(prometheus.log)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(remote.stdout.utf8)) as? [String: Any])
        #expect(report["verdict"] as? String == "rollback")
        #expect(report["source"] as? String == "prometheus " + prometheusURL)
        #expect(remote.stdout.contains(#""alertname":"AppUnhealthy""#), "\(remote.stdout)")

        // Alertmanager has the alert, with its labels and expanded annotations.
        var alerts = ""
        try await Harness.waitUntil(seconds: 30, "Alertmanager to receive AppUnhealthy") {
            alerts = (try? await Harness.get(alertmanagerURL + "/api/v2/alerts").body) ?? ""
            return alerts.contains("AppUnhealthy")
        }
        #expect(alerts.contains(#""severity":"critical""#), "\(alerts)")
        #expect(alerts.contains("app_healthy is 0 on "), "\(alerts)")

        // Both verdicts were recorded as events, counted by the daemon.
        let metrics = try await Harness.get(daemon.url + "/metrics").body
        #expect(metrics.contains(#"pipeline_gate_verdicts_total{pipeline="shop",stage="preprod",verdict="rollback"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"pipeline_gate_check_measurements_total{check="app_healthy",result="fail"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"ALERTS{alertname="AppUnhealthy",alertstate="firing""#), "\(metrics)")

        // Healthy again: the alert resolves and the gate promotes once its window has passed.
        try "app_healthy 1\n".write(to: textfiles.appendingPathComponent("app.prom"), atomically: true, encoding: .utf8)
        try await Harness.waitUntil(seconds: 30, "the alert to resolve") {
            !((try? await Harness.get(daemon.url + "/api/v1/alerts").body) ?? "AppUnhealthy").contains("AppUnhealthy")
        }
        let healthy = try gate([])
        #expect(healthy.status == 0, "\(healthy.stdout)\n\(healthy.stderr)")
        #expect(healthy.stdout.hasPrefix("PROMOTE"), "\(healthy.stdout)")
    }

    @Test func aBadPolicyIsOneLineAndExitStatusThree() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = directory.appendingPathComponent("policy.yml")
        try "checks:\n  - name: rate\n    expr: rate(x[5m]\n    failure: '> 1'\n".write(to: policy, atomically: true, encoding: .utf8)
        let result = try Harness.run(Harness.lookoutBinary, ["gate", "--pipeline", "p", "--run-id", "r", "--stage", "s", "--policy", policy.path])
        #expect(result.status == 3)
        #expect(result.stderr == "lookout: error: \(policy.path):3: check rate: expr: 1:11: parse error: unclosed left parenthesis\n", "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func theQueryAPIAnswersInPrometheusShapesAndRefusesBadQueriesWithA4xx() async throws {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--collector.loadavg",
                                                                           "--rules.evaluation-interval", "1s"])
        defer { daemon.stop() }
        let query = daemon.url + "/api/v1/query?query="
        try await Harness.waitUntil(seconds: 60, "the history's first round") {
            (try? await Harness.get(query + "node_load1").body.contains(#""job":"lookout""#)) == true
        }
        let scalar = try await Harness.get(query + "1%2B1&time=1700000000.5")
        #expect(scalar.status == 200 && scalar.body == #"{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"2"]}}"# + "\n")
        let unparsable = try await Harness.get(query + "rate(node_load1")
        #expect(unparsable.status == 400 && unparsable.body.contains(#""errorType":"bad_data""#), "\(unparsable.body)")
        let badTime = try await Harness.get(query + "node_load1&time=yesterday")
        #expect(badTime.status == 400, "\(badTime.body)")
        let ambiguous = try await Harness.get(query + "node_load1%20%2B%20on()%20%7B__name__%3D~%22node_load.%2B%22%7D")
        #expect(ambiguous.status == 422 && ambiguous.body.contains(#""errorType":"execution""#), "\(ambiguous.body)")
        // An offset no time can be moved by is refused when parsed (it killed the daemon once).
        let hugeOffset = try await Harness.get(query + "node_load1%20offset%20-9223372036854775807ms")
        #expect(hugeOffset.status == 400 && hugeOffset.body.contains("duration out of range"), "\(hugeOffset.body)")
        // A pattern that keeps a backtracking engine busy forever is answered at once (RE2 runs
        // in linear time), and one RE2 refuses is a 400 naming the problem.
        let explosive = try await Harness.get(query + PercentEncoding.encoded(#"{__name__=~"(.*.*)*y"}"#))
        #expect(explosive.status == 200 && explosive.body.contains(#""result":[]"#), "\(explosive.body)")
        let backreference = try await Harness.get(query + PercentEncoding.encoded(#"{__name__=~"(a)\\1"}"#))
        #expect(backreference.status == 400 && backreference.body.contains("invalid escape sequence"), "\(backreference.body)")
        // A long chain (30,000 terms overflowed the stack once) is refused at its 129th level.
        let chain = try await Harness.get(query + Array(repeating: "1", count: 6_000).joined(separator: "%2B"))
        #expect(chain.status == 400 && chain.body.contains("expression nested too deeply"), "\(chain.body.prefix(300))")
        let alerts = try await Harness.get(daemon.url + "/api/v1/alerts")
        #expect(alerts.status == 200 && alerts.body.hasPrefix(#"{"status":"success","data":{"alerts":["#), "\(alerts.body)")
        // The daemon keeps serving, and counts what it refused.
        let metrics = try await Harness.get(daemon.url + "/metrics").body
        #expect(metrics.contains(#"lookout_component_errors_total{component="rules",error_type="bad_query"} 5"#), "\(metrics)")
    }

    @Test func aBadRuleFileStopsTheDaemonWithOneLineNamingItsPosition() throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("bad.rules.yml")
        try "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(up[5m]\n".write(to: rules, atomically: true, encoding: .utf8)
        let result = try Harness.run(Harness.lookoutBinary, ["serve", "--web.listen-address", "127.0.0.1:\(try Harness.freePort())",
                                                             "--rules.file", rules.path])
        #expect(result.status == 1)
        #expect(result.stderr == "lookout: error: rules.file: \(rules.path): 5:15: group \"g\", rule 1, \"A\": could not parse expression: "
            + "1:12: parse error: unclosed left parenthesis\n", "\(result.stderr)")
    }
}
