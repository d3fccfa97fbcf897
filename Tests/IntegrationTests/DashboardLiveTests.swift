import Foundation
import LookoutSupport
import PromQL
import PeerSupport
import Yams
import Testing

/// Every query of the shipped dashboards, run as Grafana and Kibana would run it against real
/// servers holding what Lookout produces: two `lookout serve` on moving fixture hosts with
/// microVMs, each with the events API (runs, a failed run, deploys, a rollback, a simulation
/// report and gate verdicts posted through it), journal shipping to osmem-server, rules and a
/// real Alertmanager; a real Prometheus scraping both every second. Variables are resolved by
/// their own `label_values` queries (All, then each single value), `$__rate_interval` is what
/// Grafana computes for a 1 s scrape interval, and each query must succeed with a non-empty,
/// finite result in range for its panel's unit and carry the labels its legend names. The
/// Elasticsearch queries and Kibana's saved searches run as `_msearch` requests over the
/// dashboards' time range and must find documents whose fields exist.
@Suite(.serialized) struct DashboardLiveTests {
    /// Prometheus' scrape interval here, and so Grafana's `$__interval` and step.
    static let scrapeSeconds = 1
    /// Grafana's `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval).
    static let rateInterval = "\(max(scrapeSeconds + scrapeSeconds, 4 * scrapeSeconds))s"

    /// A rule that always fires (kube-prometheus' Watchdog), so the alert panels have a firing alert.
    static let rules = """
        groups:
          - name: watchdog
            rules:
              - alert: Watchdog
                expr: vector(1)
                labels:
                  severity: none
                annotations:
                  summary: An alert that always fires, to show the alerting pipeline works.
                  description: 'Always firing on {{ $externalLabels }}.'
        """

    /// A gate policy that passes on any host.
    static let policy = "interval: 1s\nchecks:\n  - name: load\n    expr: node_load1\n    failure: \"< 0\"\n"

    @Test func everyQueryOfEveryDashboardFindsDataInRealServers() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let (alertmanager, alertmanagerURL) = try await Harness.alertmanager(in: directory)
        defer { alertmanager.stop() }
        let journal = try Self.recentJournal()
        defer { try? FileManager.default.removeItem(at: journal) }
        let rules = directory.appendingPathComponent("watchdog.rules.yml")
        try Self.rules.write(to: rules, atomically: true, encoding: .utf8)
        let policy = directory.appendingPathComponent("policy.yml")
        try Self.policy.write(to: policy, atomically: true, encoding: .utf8)

        var hosts: [TickingFixtureHost] = []
        var daemons: [EventsDaemon] = []
        defer {
            for daemon in daemons { daemon.stop() }
            for host in hosts { host.stop() }
        }
        for _ in 0..<2 {
            let host = try TickingFixtureHost()
            hosts.append(host)
            daemons.append(try await EventsDaemon(token: "dashboards", serveArguments: host.flags + [
                "--journal.directory", journal.path, "--journal.start", "head", "--elasticsearch.url", osmem.url,
                "--rules.file", rules.path, "--rules.evaluation-interval", "1s",
                "--alertmanager.url", alertmanagerURL, "--alertmanager.resend-delay", "1s",
            ]))
        }
        let targets = daemons.map { "\"\($0.url.replacingOccurrences(of: "http://", with: ""))\"" }.joined(separator: ", ")
        let (prometheus, prometheusURL) = try await Harness.prometheus(configuration: """
            global:
              scrape_interval: \(Self.scrapeSeconds)s
              scrape_timeout: \(Self.scrapeSeconds)s
            scrape_configs:
              - job_name: lookout
                static_configs:
                  - targets: [\(targets)]
            """, in: directory)
        defer { prometheus.stop() }
        let start = Date().timeIntervalSince1970

        // The first wave of pipeline events, a pipeline per host; the second comes once
        // Prometheus has the counters, so that increase() sees it.
        let pipelines = ["shop", "infra"]
        for (daemon, pipeline) in zip(daemons, pipelines) { try await Self.postRuns(to: daemon, pipeline: pipeline, wave: 1, policy: policy) }
        try await Harness.waitUntil(seconds: 60, "ten scrapes of both daemons") {
            let counts = (try? await Self.query(prometheusURL, "count_over_time(up[1m]) >= 10", at: Date().timeIntervalSince1970)) ?? []
            return counts.count == 2
        }
        for (daemon, pipeline) in zip(daemons, pipelines) { try await Self.postRuns(to: daemon, pipeline: pipeline, wave: 2, policy: policy) }
        try await Harness.waitUntil(seconds: 60, "the journal shipped and scraped") {
            let acknowledged = (try? await Self.query(prometheusURL, #"lookout_elasticsearch_documents_acknowledged_total{result="indexed"} > 0"#,
                                                      at: Date().timeIntervalSince1970)) ?? []
            return !acknowledged.isEmpty
        }
        try await Task.sleep(for: .seconds(6))  // a few scrapes after the second wave
        // The dashboards' "now": a moment whose last rate window holds three good scrapes of
        // each daemon (a loaded machine can delay one), as a live Prometheus's normally does.
        var end = 0.0
        try await Harness.waitUntil(seconds: 30, "three good scrapes in the last \(Self.rateInterval)") {
            end = Date().timeIntervalSince1970
            let healthy = (try? await Self.query(prometheusURL, "sum_over_time(up[\(Self.rateInterval)]) >= 3", at: end)) ?? []
            return healthy.count == 2
        }

        var rows = ["| dashboard | PromQL queries | variable choices | with data (All) | allowed empty under one value |", "|---|---|---|---|---|"]
        for dashboard in try GrafanaDashboard.all() {
            rows.append(try await Self.checkMetrics(of: dashboard, prometheusURL, from: start, to: end))
        }
        rows.append(try await Self.checkLogs(osmem.url, from: start - 3600, to: end))
        print("Dashboard coverage:\n" + rows.joined(separator: "\n"))
    }

    /// Queries that may be empty under one variable value, and why: what the fixture host's
    /// microVMs do not have (Tests/Fixtures/README.md, `microvms/`), as real ones may not.
    static let allowedEmpty: [(choice: String, metrics: Set<String>, reason: String)] = [
        ("vm=db", ["microvm_memory_limit_bytes"], "db has no memory limit (memory.max is max)"),
        ("vm=db", ["microvm_pressure_cpu_waiting_seconds_total", "microvm_pressure_io_waiting_seconds_total",
                   "microvm_pressure_io_stalled_seconds_total", "microvm_pressure_memory_waiting_seconds_total",
                   "microvm_pressure_memory_stalled_seconds_total", "microvm_block_read_bytes_total", "microvm_block_write_bytes_total",
                   "microvm_block_reads_total", "microvm_block_writes_total"],
         "db's unit runs with the cpu and memory controllers only: no io.stat, no PSI files"),
        ("vm=db", ["microvm_virtiofsd_cpu_usage_seconds_total", "microvm_virtiofsd_memory_bytes"], "db shares no directory: no virtiofsd"),
    ]

    /// The reason `expression` may be empty under `choice`, if one of ``allowedEmpty`` covers
    /// every metric it reads.
    static func allowedEmptyReason(_ expression: String, choice: String) -> String? {
        guard let tree = try? PromQLExpression.parse(DashboardPromQL.parseable(expression)) else { return nil }
        var metrics: Set<String> = []
        DashboardPromQL.walk(tree) { node, _ in
            if case .vectorSelector(let selector) = node { metrics.insert(selector.metricName ?? "") }
            if case .rangeSelector(let selector, _) = node { metrics.insert(selector.metricName ?? "") }
        }
        return allowedEmpty.first { $0.choice == choice && !metrics.isEmpty && metrics.isSubset(of: $0.metrics) }?.reason
    }

    // MARK: Metrics

    /// One combination of variable values: each variable's text as Grafana substitutes it.
    typealias Choice = [String: String]

    /// Resolves the dashboard's variables, runs every Prometheus query under each combination
    /// and returns its coverage line.
    static func checkMetrics(of dashboard: GrafanaDashboard, _ prometheus: String, from start: Double, to end: Double) async throws -> String {
        let queries = dashboard.queries.filter { $0.expression != nil }
        var choices: [(name: String, choice: Choice)] = []
        var all: Choice = [:]
        var singles: [(String, String)] = []
        for variable in dashboard.variables where variable["type"] as? String == "query" {
            let name = variable["name"] as? String ?? ""
            let text = variable["query"] as? String ?? ""
            guard let parts = text.wholeMatch(of: /label_values\((.+), *([a-zA-Z_][a-zA-Z0-9_]*)\)/) else { continue }
            let selector = substitute(String(parts.output.1), all, window: end - start)
            let values = try await labelValues(prometheus, label: String(parts.output.2), match: selector, from: start, to: end)
            #expect(!values.isEmpty, "\(dashboard.title): $\(name) has no values: \(selector)")
            all[name] = ".+"
            singles += values.prefix(6).map { (name, $0) }
        }
        choices.append(("All", all))
        for (name, value) in singles {
            var choice = all
            choice[name] = grafanaRegexEscape(value)
            choices.append(("\(name)=\(value)", choice))
        }

        var withData = 0
        var allowedEmpty: [String: Int] = [:]
        let stopped = Set(try await query(prometheus, "microvm_up == 0", at: end).compactMap { $0.labels["vm"] })
        for query in queries {
            var hadData = false
            for (choiceName, choice) in choices {
                let expression = substitute(query.expression!, choice, window: end - start)
                let series = try await run(prometheus, expression, instant: query.isInstant, from: start, to: end)
                let context = "\(query.name) [\(choiceName)]: \(expression)"
                guard let series else {
                    Issue.record("\(context): not a success")
                    continue
                }
                let finite = series.flatMap(\.values).filter(\.isFinite)
                if finite.isEmpty {
                    if choiceName != "All", let vm = choiceName.wholeMatch(of: /vm=(.+)/)?.output.1, stopped.contains(String(vm)) {
                        allowedEmpty["\(vm) is stopped (microvm_up 0): no unit cgroup or hypervisor to read", default: 0] += 1
                        continue
                    }
                    if let reason = allowedEmptyReason(query.expression!, choice: choiceName) {
                        allowedEmpty[reason, default: 0] += 1
                        continue
                    }
                    Issue.record("\(context): no finite value in \(series.count) series")
                    continue
                }
                if choiceName == "All" { hadData = true }
                switch query.unit {
                case "percentunit":
                    #expect(finite.allSatisfy { $0 >= 0 && $0 <= 1 + 1e-9 }, "\(context): a share outside 0–1: \(finite.filter { $0 < 0 || $0 > 1 }.prefix(3))")
                case "bytes", "decbytes", "Bps", "binBps", "s", "ops", "reqps", "pps", "iops", "wps", "rps", "cps":
                    #expect(finite.allSatisfy { $0 >= 0 }, "\(context): a negative \(query.unit) value")
                default:
                    break
                }
                for labels in series.map(\.labels) {
                    let missing = query.legendLabels.subtracting(labels.keys)
                    #expect(missing.isEmpty, "\(context): the legend names \(missing.sorted()) that \(labels) lacks")
                }
            }
            if hadData { withData += 1 }
        }
        let empties = allowedEmpty.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
        return "| \(dashboard.title) | \(queries.count) | \(choices.count) | \(withData) | \(empties.isEmpty ? "none" : empties) |"
    }

    /// Grafana's escaping of a multi-value or All variable's value for a Prometheus regex
    /// matcher (prometheusSpecialRegexEscape): two backslashes in the PromQL string before each
    /// regex metacharacter.
    static func grafanaRegexEscape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if "\\^$*+?.()|{}[]'".contains(character) { escaped += "\\\\" }
            escaped.append(character)
        }
        return escaped
    }

    /// The text with the chosen variables and Grafana's time variables put in.
    static func substitute(_ text: String, _ choice: Choice, window: Double) -> String {
        let globals = ["__rate_interval": rateInterval, "__interval": "\(scrapeSeconds)s", "__range": "\(Int(window))s",
                       "__range_s": "\(Int(window))"]
        return text.replacing(/\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)/) { match in
            let name = String(match.output.1 ?? match.output.2 ?? "")
            return choice[name] ?? globals[name] ?? String(match.output.0)
        }
    }

    /// One series of a query's answer: its labels and its values.
    struct Series {
        var labels: [String: String]
        var values: [Double]
    }

    /// Runs `expression` as Grafana would: an instant query at the end, or a range query over
    /// the window at the scrape interval. Nil when Prometheus does not answer success.
    static func run(_ prometheus: String, _ expression: String, instant: Bool, from start: Double, to end: Double) async throws -> [Series]? {
        let form = instant
            ? "query=\(PercentEncoding.encoded(expression))&time=\(end)"
            : "query=\(PercentEncoding.encoded(expression))&start=\(start)&end=\(end)&step=\(scrapeSeconds)"
        let answer = try await Harness.post(prometheus + (instant ? "/api/v1/query" : "/api/v1/query_range"), body: form,
                                            headers: ["Content-Type": "application/x-www-form-urlencoded"])
        guard answer.status == 200, let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
              json["status"] as? String == "success", let data = json["data"] as? [String: Any]
        else {
            Issue.record("\(expression): HTTP \(answer.status) \(answer.body.prefix(300))")
            return nil
        }
        func number(_ pair: Any) -> Double? { ((pair as? [Any])?.last as? String).flatMap { Double($0) } }
        return (data["result"] as? [[String: Any]] ?? []).map { series in
            let values = (series["values"] as? [Any] ?? []).compactMap(number) + [series["value"]].compactMap { $0.flatMap(number) }
            return Series(labels: series["metric"] as? [String: String] ?? [:], values: values)
        }
    }

    /// An instant query's series.
    static func query(_ prometheus: String, _ expression: String, at time: Double) async throws -> [Series] {
        try await run(prometheus, expression, instant: true, from: time, to: time) ?? []
    }

    /// The values of `label` on the series `match` selects over the range, as Grafana's
    /// label_values(selector, label) asks the series API for them.
    static func labelValues(_ prometheus: String, label: String, match: String, from start: Double, to end: Double) async throws -> [String] {
        let answer = try await Harness.post(prometheus + "/api/v1/series", body: "match[]=\(PercentEncoding.encoded(match))&start=\(start)&end=\(end)",
                                            headers: ["Content-Type": "application/x-www-form-urlencoded"])
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return Set((json?["data"] as? [[String: String]] ?? []).compactMap { $0[label] }).sorted()
    }

    // MARK: Events

    /// Posts a wave of pipeline events to `daemon` through its API, a simulation report with
    /// `lookout event dst-report`, and a gate verdict with `lookout gate`: in the first wave a
    /// run that deploys and passes, and one whose tests fail and whose deploy is rolled back;
    /// in the second, one more of each.
    static func postRuns(to daemon: EventsDaemon, pipeline: String, wave: Int, policy: URL) async throws {
        var lines: [String] = []
        func event(_ fields: String) { lines.append(#"{"pipeline":"\#(pipeline)",\#(fields)}"#) }
        for (run, fails) in [("\(wave)-ok", false), ("\(wave)-bad", true)] {
            event(#""type":"run.started","run_id":"\#(run)","revision":"r\#(wave)""#)
            for (step, seconds) in [("build", 40 + 10 * wave), ("unit-tests", 12 * wave)] {
                event(#""type":"step.started","run_id":"\#(run)","step":"\#(step)""#)
                let result = fails && step == "unit-tests" ? "failure" : "success"
                event(#""type":"step.finished","run_id":"\#(run)","step":"\#(step)","result":"\#(result)","duration_seconds":\#(seconds)"#)
            }
            event(#""type":"deploy","run_id":"\#(run)","stage":"preprod","result":"\#(fails ? "failure" : "success")""#)
            if fails { event(#""type":"rollback","run_id":"\#(run)","stage":"preprod","message":"tests failed""#) }
            event(#""type":"run.finished","run_id":"\#(run)","result":"\#(fails ? "failure" : "success")","duration_seconds":\#(300 * wave)"#)
        }
        let answer = try await Harness.post(daemon.url + "/api/v1/events", body: lines.joined(separator: "\n"),
                                            headers: ["Authorization": "Bearer dashboards"])
        #expect(answer.status == 200, "\(answer.body)")
        // An invalid Jepsen report first, then a valid Maelstrom one (which counts messages).
        let report = Harness.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/dst-results")
            .appendingPathComponent(wave == 1 ? "jepsen-mongodb-list-append-G-single.edn" : "maelstrom-broadcast-valid-25node.edn").path
        for command in [["event", "dst-report", "--file", report], ["gate", "--stage", "preprod", "--policy", policy.path, "--wait", "10s"]] {
            let result = try await Harness.runDetached(Harness.lookoutBinary, command + [
                "--pipeline", pipeline, "--run-id", "\(wave)-ok", "--url", daemon.url, "--token-file", daemon.tokenFile,
            ])
            #expect(result.status == 0, "lookout \(command[0]): \(result.stdout)\(result.stderr)")
        }
    }

    /// A journal of entries written over the last ten minutes, across units and every priority,
    /// so the log views' default range (the last hour) holds them.
    static func recentJournal() throws -> URL {
        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        let units = ["lookout.service", "microvm@db.service", "microvm@web.service", "sshd.service", "nginx.service"]
        var text = Data()
        for index in 0..<160 {
            let unit = units[index % units.count]
            text += Data("""
                __REALTIME_TIMESTAMP=\(now - 600_000_000 + UInt64(index) * 3_000_000)
                __MONOTONIC_TIMESTAMP=\(5_000_000 + index * 3_000_000)
                _BOOT_ID=33333333333333333333333333333333
                _HOSTNAME=dashboard-host
                PRIORITY=\(index % 8)
                _SYSTEMD_UNIT=\(unit)
                SYSLOG_IDENTIFIER=\(unit.split(separator: ".")[0].split(separator: "@")[0])
                _PID=\(1000 + index % units.count)
                MESSAGE=\(unit) says \(index)


                """.utf8)
        }
        return try JournalFixture.directory(fixtures: [], exports: ["recent": text])
    }

    // MARK: Logs

    /// Runs every Elasticsearch query of the dashboards and every Kibana saved search against
    /// osmem-server as an `_msearch` over the range, and checks that each finds documents and
    /// that every field shown exists; returns the coverage line.
    static func checkLogs(_ elasticsearch: String, from start: Double, to end: Double) async throws -> String {
        let indexes = try provisionedIndexes()
        var checked = 0
        for dashboard in try GrafanaDashboard.all() {
            let datasource = dashboard.variables.first { $0["name"] as? String == "elasticsearch_datasource" }
            let uid = (datasource?["current"] as? [String: Any])?["value"] as? String ?? ""
            for query in dashboard.queries where query.datasourceType == "elasticsearch" {
                let index = try #require(indexes[uid]?.index, "\(query.name): datasource \(uid) is not provisioned")
                let text = query.target["query"] as? String ?? ""
                let metrics = query.target["metrics"] as? [[String: Any]] ?? []
                let aggregations = query.target["bucketAggs"] as? [[String: Any]] ?? []
                let found = try await search(elasticsearch, index: index, query: text, from: start, to: end, aggregations: aggregations)
                if metrics.first?["type"] as? String == "logs" {
                    #expect(found.hits > 0, "\(query.name): no documents for \(text)")
                } else {
                    #expect(found.buckets > 0, "\(query.name): no buckets for \(text)")
                }
                let fields = aggregations.compactMap { $0["field"] as? String }
                try await expectFields(elasticsearch, index: index, fields, aggregatable: true, query.name)
                checked += 1
            }
        }
        for (uid, datasource) in indexes {
            try await expectFields(elasticsearch, index: datasource.index, datasource.fields, aggregatable: false, "datasource \(uid)")
        }
        let kibana = try KibanaObjects.load()
        for object in kibana.ofType("search") {
            let search = try kibana.search(object)
            let found = try await Self.search(elasticsearch, index: search.index, query: search.query, from: start, to: end, aggregations: [])
            #expect(found.hits > 0, "Kibana \(search.title): no documents for \(search.query)")
            try await expectFields(elasticsearch, index: search.index, search.columns, aggregatable: false, "Kibana \(search.title)")
            checked += 1
        }
        return "| Elasticsearch targets and Kibana saved searches | \(checked) | 1 | \(checked) | none |"
    }

    /// The provisioned Elasticsearch datasources (dashboards/provisioning/datasources.yml): uid →
    /// index pattern and the fields named in its settings.
    static func provisionedIndexes() throws -> [String: (index: String, fields: [String])] {
        let text = try String(contentsOf: GrafanaDashboard.folder.appendingPathComponent("provisioning/datasources.yml"), encoding: .utf8)
        let root = try Yams.load(yaml: text) as? [String: Any] ?? [:]
        var indexes: [String: (String, [String])] = [:]
        for datasource in root["datasources"] as? [[String: Any]] ?? [] where datasource["type"] as? String == "elasticsearch" {
            let settings = datasource["jsonData"] as? [String: Any] ?? [:]
            let fields = ["timeField", "logMessageField", "logLevelField"].compactMap { settings[$0] as? String }
            indexes[datasource["uid"] as? String ?? ""] = (settings["index"] as? String ?? "", fields)
        }
        return indexes
    }

    /// The search Grafana's Elasticsearch datasource (and Kibana's Discover) sends: a
    /// `query_string` filtered to the range on `@timestamp`, newest first, with the panel's
    /// terms and date histogram aggregations nested as it nests them.
    static func search(_ elasticsearch: String, index: String, query: String, from start: Double, to end: Double,
                       aggregations: [[String: Any]]) async throws -> (hits: Int, buckets: Int) {
        var aggregation: [String: Any]?
        for bucket in aggregations.reversed() {
            let id = bucket["id"] as? String ?? "1"
            let field = bucket["field"] as? String ?? "@timestamp"
            var body: [String: Any] = bucket["type"] as? String == "terms"
                ? ["terms": ["field": field, "size": 10, "min_doc_count": 1, "order": ["_count": "desc"]]]
                : ["date_histogram": ["field": field, "fixed_interval": "1m", "min_doc_count": 0, "format": "epoch_millis",
                                      "extended_bounds": ["min": Int(start * 1000), "max": Int(end * 1000)]]]
            if let aggregation { body["aggs"] = aggregation }
            aggregation = [id: body]
        }
        var request: [String: Any] = [
            "size": aggregation == nil ? 500 : 0,
            "query": ["bool": ["filter": [
                ["range": ["@timestamp": ["gte": Int(start * 1000), "lte": Int(end * 1000), "format": "epoch_millis"]]],
                ["query_string": ["analyze_wildcard": true, "query": query]],
            ]]],
            "sort": [["@timestamp": ["order": "desc", "unmapped_type": "boolean"]]],
        ]
        if let aggregation { request["aggs"] = aggregation }
        let header = try JSONSerialization.data(withJSONObject: ["search_type": "query_then_fetch", "ignore_unavailable": true, "index": index])
        let body = try JSONSerialization.data(withJSONObject: request)
        let answer = try await Harness.post(elasticsearch + "/_msearch", body: String(decoding: header + Data("\n".utf8) + body + Data("\n".utf8), as: UTF8.self),
                                            headers: ["Content-Type": "application/x-ndjson"])
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let response = try #require((json?["responses"] as? [[String: Any]])?.first, "\(query): \(answer.body.prefix(300))")
        #expect(response["error"] == nil, "\(query): \(response["error"] ?? "")")
        let hits = ((response["hits"] as? [String: Any])?["total"] as? [String: Any])?["value"] as? Int ?? 0
        func bucketCount(_ node: Any?) -> Int {
            guard let node = node as? [String: Any] else { return 0 }
            return node.values.reduce(0) { total, value in
                guard let group = value as? [String: Any], let buckets = group["buckets"] as? [[String: Any]] else { return total }
                return total + buckets.reduce(0) { $0 + (($1["doc_count"] as? Int ?? 0) > 0 ? 1 : 0) + bucketCount($1) }
            }
        }
        return (hits, bucketCount(response["aggregations"]))
    }

    /// Expects every field to exist in the index pattern's `_field_caps` (and to be aggregatable
    /// where a panel buckets by it).
    static func expectFields(_ elasticsearch: String, index: String, _ fields: [String], aggregatable: Bool, _ context: String) async throws {
        guard !fields.isEmpty else { return }
        let answer = try await Harness.get(elasticsearch + "/\(index)/_field_caps?fields=\(fields.joined(separator: ","))")
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let capabilities = json?["fields"] as? [String: [String: [String: Any]]] ?? [:]
        for field in fields {
            let types = try #require(capabilities[field], "\(context): \(field) is not a field of \(index)")
            if aggregatable { #expect(types.values.contains { $0["aggregatable"] as? Bool == true }, "\(context): \(field) is not aggregatable") }
        }
    }
}
