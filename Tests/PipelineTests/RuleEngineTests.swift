import Foundation
import Logging
import MetricModel
import PromQL
import Rules
import Shipping
import Synchronization
import Testing

/// The daemon's rule engine driven round by round: what it records, what it exposes, what it
/// answers and which alerts it hands on, with Prometheus' timing (rules/alerting.go,
/// notifier: `ValidUntil` is four resend delays ahead, `StartsAt` the firing time).
@Suite struct RuleEngineTests {
    /// Keeps the alerts the engine hands on.
    final class RecordingSink: AlertSink {
        let received = Mutex<[AlertNotification]>([])

        func enqueue(_ notifications: [AlertNotification]) {
            received.withLock { $0 += notifications }
        }

        var alerts: [AlertNotification] { received.withLock { $0 } }
    }

    static let rules = """
        groups:
          - name: host
            rules:
              - record: load:doubled
                expr: node_load1 * 2
              - alert: HostLoadHigh
                expr: node_load1 > 4
                for: 30s
                labels:
                  severity: warning
                annotations:
                  summary: "load {{ $value }} on {{ $labels.instance }}"
        """

    static func engine(notifier: RecordingSink?) throws -> RuleEngine {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let groups = try RuleFile.parse(yaml: rules).map { ($0, "test.yml") }
        let settings = RuleEngine.Settings(evaluationInterval: .seconds(15), historyRetention: .seconds(600),
                                           externalURL: "http://lookout:10100", resendDelay: .seconds(60))
        return try RuleEngine(groups: groups, settings: settings, registry: CollectorRegistry(collectors: [], logger: logger),
                              notifier: notifier, scrapeTimeout: .seconds(5),
                              targetLabels: [Label("instance", "h:10100"), Label("job", "lookout")], logger: logger)
    }

    static func load(_ value: Double) -> [MetricFamily] {
        [MetricFamily(name: "node_load1", help: "1m load average.", type: .gauge, samples: [Sample(labels: [], value: value)])]
    }

    static func family(_ name: String, _ engine: RuleEngine) throws -> [Sample] {
        try engine.collect().first { $0.name == name }?.samples ?? []
    }

    @Test func aHighLoadGoesPendingThenFiresThenResolves() throws {
        let sink = RecordingSink()
        let engine = try Self.engine(notifier: sink)
        let target = [Label("instance", "h:10100"), Label("job", "lookout")]
        let labels = [Label("alertname", "HostLoadHigh")] + target + [Label("severity", "warning")]

        engine.evaluate(Self.load(5), at: 0)
        #expect(try Self.family("ALERTS", engine) == [Sample(labels: [Label("alertname", "HostLoadHigh"), Label("alertstate", "pending")]
            + target + [Label("severity", "warning")], value: 1)])
        #expect(sink.alerts.isEmpty)

        engine.evaluate(Self.load(5), at: 15_000)
        engine.evaluate(Self.load(5), at: 30_000)
        #expect(try Self.family("ALERTS", engine).map(\.labels) == [[Label("alertname", "HostLoadHigh"), Label("alertstate", "firing")]
            + target + [Label("severity", "warning")]])
        #expect(engine.activeAlerts().map(\.state) == [.firing])
        #expect(sink.alerts == [AlertNotification(
            labels: labels, annotations: [Label("summary", "load 5 on h:10100")], startsAt: 30_000, endsAt: 30_000 + 4 * 60_000,
            generatorURL: "http://lookout:10100/graph?g0.expr=node_load1%20%3E%204&g0.tab=1")])

        engine.evaluate(Self.load(1), at: 45_000)
        #expect(try Self.family("ALERTS", engine).isEmpty)
        #expect(sink.alerts.last?.endsAt == 45_000)
        #expect(sink.alerts.count == 2)
        #expect(try Self.family("lookout_rule_group_evaluations_total", engine)
            == [Sample(labels: [Label("file", "test.yml"), Label("rule_group", "host")], value: 4)])
    }

    @Test func queriesReadTheHistoryAndTheRecordedSeries() throws {
        let engine = try Self.engine(notifier: nil)
        engine.evaluate(Self.load(3), at: 0)
        engine.evaluate(Self.load(4), at: 15_000)
        let recorded = try engine.query(try PromQLExpression.parse("load:doubled"), at: 15_000)
        #expect(recorded == .vector([PromQLSample(labels: [Label("__name__", "load:doubled"), Label("instance", "h:10100"),
                                                           Label("job", "lookout")], value: 8)]))
        let ranged = try engine.query(try PromQLExpression.parse("max_over_time(node_load1[1m])"), at: 15_000)
        #expect(ranged == .vector([PromQLSample(labels: [Label("instance", "h:10100"), Label("job", "lookout")], value: 4)]))
    }

    @Test func ruleFilesAreLoadedAfterTheDefaultsAndProblemsNameTheFile() throws {
        let defaults = try RuleEngine.loadGroups(defaults: true, patterns: [])
        #expect(!defaults.isEmpty && defaults.allSatisfy { $0.file == DefaultRules.name })

        #expect(throws: RuleFilesError(message: "no file matches /nonexistent/*.yml")) {
            try RuleEngine.loadGroups(defaults: false, patterns: ["/nonexistent/*.yml"])
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rule-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("a.yml").path, bad = directory.appendingPathComponent("b.yml").path
        try Self.rules.write(toFile: good, atomically: true, encoding: .utf8)
        try "groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let loaded = try RuleEngine.loadGroups(defaults: false, patterns: [directory.path + "/a*.yml"])
        #expect(loaded.map(\.file) == [good])
        #expect(loaded.map(\.group.name) == ["host"])
        do {
            _ = try RuleEngine.loadGroups(defaults: false, patterns: [directory.path + "/*.yml"])
            Issue.record("a rule that does not parse was loaded")
        } catch {
            #expect(error.message.hasPrefix("\(bad): 5:15: group \"g\", rule 1, \"Broken\": could not parse expression: "))
        }
    }
}
