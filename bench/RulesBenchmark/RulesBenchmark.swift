import ArgumentParser
import Logging
import MetricModel
import PromQL
import Rules
#if canImport(Glibc)
import Glibc
#endif

/// The rules benchmark (run by bench/rules.sh, built apart from `lookout`): the cost of the
/// daemon's rule evaluation (its own ``RuleEngine``, fed synthetic rounds) on a busy host. Builds a history of `--series` synthetic series (CPU, filesystem,
/// network, disk, microVM, journal and application families, counters growing and gauges
/// moving) filled for `--retention` at `--step`, loads the default rules plus `--extra-rules`
/// generated ones (rates, ratios, histogram quantiles, aggregations, `*_over_time`, alerts with
/// `for`), then times `--rounds` evaluation rounds (record one more round, evaluate every group)
/// and prints the timings and the history's memory.
@main
struct RulesBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules-benchmark", abstract: "Time rule evaluation over a synthetic busy host (for bench/rules.sh).")

    @Option(help: "Series in the history.")
    var series = 10_000

    @Option(help: "Seconds between rounds.")
    var step = 15

    @Option(help: "Seconds of history.")
    var retention = 3600

    @Option(name: .customLong("extra-rules"), help: "Generated rules added to the defaults.")
    var extraRules = 100

    @Option(help: "Rounds to time.")
    var rounds = 40

    func run() throws {
        let residentBefore = Self.residentKilobytes()
        let settings = RuleEngine.Settings(
            evaluationInterval: .seconds(step), historyRetention: .seconds(retention), externalURL: "", resendDelay: .seconds(60))
        var groups = try RuleEngine.loadGroups(defaults: true, patterns: [])
        let generated = try RuleFile.parse(yaml: Self.generatedRules(extraRules))
        groups += generated.map { ($0, "<generated>") }
        var logger = Logger(label: "lookout-benchmark")
        logger.logLevel = .critical
        // The daemon's own engine, fed synthetic rounds instead of its collectors.
        let engine = try RuleEngine(groups: groups, settings: settings, registry: CollectorRegistry(collectors: [], logger: logger),
                                    notifier: nil, scrapeTimeout: .seconds(step), targetLabels: [Label("instance", "bench:10100"), Label("job", "lookout")],
                                    logger: logger)
        let host = SyntheticHost(seriesCount: series)
        let start: Int64 = 1_800_000_000_000
        let stepMilliseconds = Int64(step) * 1000
        let filledRounds = retention / step + 1
        for round in 0..<filledRounds {
            engine.history.record(host.families(round: round), at: start + Int64(round) * stepMilliseconds, adding: engine.targetLabels)
        }
        let residentFilled = Self.residentKilobytes()

        let clock = ContinuousClock()
        var roundTimes: [Double] = []
        var evaluationTimes: [Double] = []
        for index in 0..<rounds {
            let round = filledRounds + index
            let families = host.families(round: round)
            let began = clock.now
            engine.evaluate(families, at: start + Int64(round) * stepMilliseconds)
            roundTimes.append((clock.now - began).seconds * 1000)
            evaluationTimes.append(Self.total("lookout_rule_group_last_duration_seconds", in: try engine.collect()) * 1000)
        }
        let statistics = try engine.collect()
        var alertsByName: [String: Int] = [:]
        for alert in engine.activeAlerts() { alertsByName[alert.labels.first { $0.name == "alertname" }?.value ?? "", default: 0] += 1 }
        let busiest = alertsByName.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let generatedCount = generated.reduce(0) { $0 + $1.rules.count }
        let ruleCount = groups.reduce(0) { $0 + $1.group.rules.count }
        func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            let median = sorted[sorted.count / 2], p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
            return "median \(Self.format(median)) ms, p90 \(Self.format(p90)) ms, max \(Self.format(sorted.last!)) ms"
        }
        print("history: \(engine.history.seriesCount) series × \(engine.history.capacity) rounds (\(retention)s at \(step)s)")
        print("history memory: \(Self.format(Double(engine.history.approximateBytes) / 1_048_576)) MiB counted, "
            + "\(Self.format(Double(residentFilled - residentBefore) / 1024)) MiB resident growth while filling")
        print("rules: \(ruleCount) (\(ruleCount - generatedCount) default + \(generatedCount) generated), "
            + "\(alertsByName.values.reduce(0, +)) alerts pending or firing at the end (most: \(busiest)), "
            + "\(Int(Self.total("lookout_rule_evaluation_failures_total", in: statistics))) failed evaluations")
        // Each rule's own cost at the last round, without the shared selections: where a round goes.
        let lastTime = start + Int64(filledRounds + rounds - 1) * stepMilliseconds
        var costs: [(String, Double)] = []
        for rule in groups.flatMap(\.group.rules) {
            let expression = try PromQLExpression.parse(rule.expression)
            let began = clock.now
            _ = try? engine.query(expression, at: lastTime)
            costs.append((rule.name, (clock.now - began).seconds * 1000))
        }
        let costliest = costs.sorted { $0.1 > $1.1 }.prefix(5).map { "\($0.0) \(Self.format($0.1)) ms" }.joined(separator: ", ")
        print("costliest rules alone: \(costliest); all rules alone: \(Self.format(costs.reduce(0) { $0 + $1.1 })) ms")
        print("round (record + evaluate), \(rounds) rounds: \(summary(roundTimes))")
        print("evaluation alone: \(summary(evaluationTimes))")
    }

    /// The sum of a family's samples among `families`.
    static func total(_ name: String, in families: [MetricFamily]) -> Double {
        families.first { $0.name == name }?.samples.reduce(0) { $0 + $1.value } ?? 0
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func residentKilobytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(cString: line)
            if text.hasPrefix("VmRSS:") { return Int(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0 }
        }
        return 0
    }

    /// `count` rules over the synthetic families, in groups of 20, cycling through the shapes
    /// alert rules take.
    static func generatedRules(_ count: Int) -> String {
        guard count > 0 else { return "groups: []\n" }
        var text = "groups:\n"
        for index in 0..<count {
            if index % 20 == 0 { text += "  - name: generated-\(index / 20)\n    rules:\n" }
            let (record, shape) = Self.shape(index)
            let expression = shape.replacingOccurrences(of: "'", with: "''")
            if record {
                text += "      - record: generated:rule\(index):rate\n        expr: '\(expression)'\n"
            } else {
                text += "      - alert: Generated\(index)\n        expr: '\(expression)'\n        for: 5m\n"
                text += "        labels:\n          severity: warning\n"
                text += "        annotations:\n          summary: 'generated {{ $labels.instance }} {{ $value | humanize }}'\n"
            }
        }
        return text
    }
}

extension RulesBenchmark {
    /// Rule `index`'s expression, and whether it is recorded (else an alert).
    static func shape(_ index: Int) -> (record: Bool, expression: String) {
        let small = index % 9 + 1
        switch index % 10 {
        case 0:
            return (true, "sum by (route) (rate(app_requests_total{code=~\"5..\"}[\(5 + index % 3)m])) / sum by (route) (rate(app_requests_total[5m]))")
        case 1:
            return (false, "histogram_quantile(0.\(90 + index % 9), sum by (le, route) (rate(app_request_duration_seconds_bucket[5m]))) > \(index % 4 + 5)")
        case 2: return (false, "avg by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[\(2 + index % 4)m])) > \(small)")
        case 3:
            return (false, "node_filesystem_avail_bytes{fstype!~\"tmpfs|overlay\"} / node_filesystem_size_bytes < 0.0\(index % 5 + 1) and node_filesystem_readonly == 0")
        case 4: return (true, "sum without (cpu) (irate(node_cpu_seconds_total[\(1 + index % 3)m]))")
        case 5: return (false, "increase(microvm_unit_restarts_total[15m]) > \(index % 3 + 1)")
        case 6: return (false, "max_over_time(microvm_memory_bytes[\(10 + index % 20)m]) / on (vm) group_left microvm_memory_limit_bytes > 0.95")
        case 7: return (true, "topk(5, sum by (unit) (rate(lookout_journal_entries_total{priority=~\"[0-3]\"}[5m])))")
        case 8: return (false, "predict_linear(node_filesystem_avail_bytes[30m], 4 * 3600) < 0")
        default: return (false, "rate(node_network_receive_errs_total[5m]) / rate(node_network_receive_packets_total[5m]) > 1.\(small)")
        }
    }
}

/// A busy host's families, about `seriesCount` series, deterministic per round. Most generated
/// alerts stay quiet over it, as on a healthy host; a few fire (a microVM down, restart loops).
struct SyntheticHost {
    let seriesCount: Int
    private let routes: Int

    init(seriesCount: Int) {
        self.seriesCount = seriesCount
        routes = max(1, (seriesCount - 6_000) / 24)
    }

    func families(round: Int) -> [MetricFamily] {
        var families: [MetricFamily] = []
        func add(_ name: String, _ type: MetricType, _ count: Int, _ labels: (Int) -> [Label], _ value: (Int) -> Double) {
            families.append(MetricFamily(name: name, help: "synthetic", type: type,
                                         samples: (0..<count).map { Sample(labels: labels($0), value: value($0)) }))
        }
        let r = Double(round)
        let modes = ["user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"]
        add("node_cpu_seconds_total", .counter, 64 * modes.count, { [Label("cpu", "\($0 / 8)"), Label("mode", modes[$0 % 8])] },
            { r * Double($0 % 8 == 2 ? 12 : 1 + $0 % 3) })
        for (name, base) in [("node_filesystem_avail_bytes", 4e10), ("node_filesystem_size_bytes", 1e11), ("node_filesystem_files_free", 1e6),
                             ("node_filesystem_files", 2e6), ("node_filesystem_readonly", 0)] {
            add(name, .gauge, 200, { [Label("device", "/dev/vd\($0)"), Label("fstype", $0 % 10 == 0 ? "tmpfs" : "ext4"), Label("mountpoint", "/m\($0)")] },
                { name == "node_filesystem_avail_bytes" ? base - r * 1e6 * Double($0 % 7) : base })
        }
        for name in ["receive_bytes", "transmit_bytes", "receive_packets", "transmit_packets", "receive_errs", "transmit_errs", "receive_drop", "transmit_drop"] {
            add("node_network_\(name)_total", .counter, 100, { [Label("device", "tap\($0)")] }, { r * Double(1 + $0 % 50) * (name.hasSuffix("bytes") ? 1500 : 1) })
        }
        for name in ["reads_completed", "writes_completed", "read_bytes", "written_bytes", "io_time_seconds"] {
            add("node_disk_\(name)_total", .counter, 100, { [Label("device", "vd\($0)")] }, { r * Double(10 + $0) })
        }
        let vms = 100
        for name in ["up", "declarative", "hypervisor_up", "restart_pending", "vcpus", "tasks"] {
            add("microvm_\(name)", .gauge, vms, { [Label("vm", "vm\($0)")] }, { $0 % 37 == 0 && name == "up" ? 0 : 1 })
        }
        add("microvm_memory_bytes", .gauge, vms, { [Label("vm", "vm\($0)")] }, { 5e8 + 1e6 * Double((round + $0) % 100) })
        add("microvm_memory_limit_bytes", .gauge, vms, { [Label("vm", "vm\($0)")] }, { _ in 1e9 })
        for name in ["unit_restarts", "oom_kills", "cpu_usage_seconds", "block_read_bytes", "block_write_bytes", "network_receive_bytes",
                     "network_transmit_bytes", "pressure_cpu_waiting_seconds", "pressure_memory_stalled_seconds"] {
            add("microvm_\(name)_total", .counter, vms, { [Label("vm", "vm\($0)")] },
                { name == "unit_restarts" ? ($0 % 17 == 0 ? Double(round / 4) : 0) : r * Double(1 + $0) })
        }
        // Errors (priorities 0-3) are rare but for one noisy unit; the rest log steadily.
        add("lookout_journal_entries_total", .counter, 800, { [Label("priority", "\($0 % 8)"), Label("unit", "unit\($0 / 8).service")] },
            { $0 % 8 >= 4 ? r * Double(1 + $0 % 8) : ($0 / 8 == 7 ? r * 2 : Double(round / 120)) })
        let buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
        var histogram = MetricFamily(name: "app_request_duration_seconds", help: "synthetic", type: .histogram)
        for route in 0..<routes {
            let labels = [Label("route", "/r\(route)")]
            let shares = [0.2, 0.4, 0.6, 0.75, 0.85, 0.92, 0.96, 0.98, 0.99, 0.995, 0.999, 1.0]
            let counts = shares.map { Int($0 * Double((round + 1) * 1000)) }
            histogram.appendHistogram(labels: labels, buckets: zip(buckets.dropLast().map { Double($0)! }, counts.dropLast()).map { ($0, UInt64($1)) },
                                      sum: r * 12.5, count: UInt64(counts.last!))
        }
        families.append(histogram)
        let codes = ["200", "201", "204", "301", "400", "404", "500", "503"]
        add("app_requests_total", .counter, routes * codes.count, { [Label("code", codes[$0 % 8]), Label("route", "/r\($0 / 8)")] },
            { r * Double(1 + ($0 * 7) % 13) })
        let total = families.reduce(0) { $0 + $1.samples.count }
        if total < seriesCount {
            add("app_padding_gauge", .gauge, seriesCount - total, { [Label("n", "\($0)")] }, { Double(($0 + round) % 97) })
        }
        return families
    }
}
