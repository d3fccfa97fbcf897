@testable import DaemonSummary
@testable import LookoutSupport
@testable import MetricModel
@testable import PipelineEvents
@testable import Shipping
import Testing

/// The summary made from a scrape's families, its JSON both ways, and the history that rates and
/// error counts are taken over.
@Suite struct SummaryTests {
    static let start = ContinuousClock.now
    static let time: Int64 = 1_795_773_600_000_000  // 2026-11-27T10:00:00Z

    static func gauge(_ name: String, _ value: Double) -> MetricFamily { .single(name, help: name, value: value) }

    static func family(_ name: String, type: MetricType = .gauge, _ samples: [([(String, String)], Double)]) -> MetricFamily {
        MetricFamily(name: name, help: name, type: type,
                     samples: samples.map { labels, value in Sample(labels: labels.map { Label($0.0, $0.1) }, value: value) })
    }

    /// Two CPUs with the same times; `busy` goes to user, `idle` is split between idle and iowait.
    static func cpu(user: Double, system: Double, idle: Double, iowait: Double) -> MetricFamily {
        family("node_cpu_seconds_total", type: .counter, ["0", "1"].flatMap { cpu in
            [([("cpu", cpu), ("mode", "idle")], idle), ([("cpu", cpu), ("mode", "iowait")], iowait),
             ([("cpu", cpu), ("mode", "steal")], 3), ([("cpu", cpu), ("mode", "system")], system), ([("cpu", cpu), ("mode", "user")], user)]
        })
    }

    static func microVMCPU(web: Double, db: Double) -> MetricFamily {
        family("microvm_cpu_usage_seconds_total", type: .counter, [
            ([("mode", "system"), ("vm", "db")], 0), ([("mode", "user"), ("vm", "db")], db),
            ([("mode", "system"), ("vm", "web")], 5), ([("mode", "user"), ("vm", "web")], web),
        ])
    }

    static func journal(nginx: Double, sshd: Double, other: Double) -> MetricFamily {
        family("lookout_journal_entries_total", type: .counter, [
            ([("priority", "0"), ("unit", "")], 5),
            ([("priority", "3"), ("unit", "nginx.service")], nginx),
            ([("priority", "6"), ("unit", "nginx.service")], 90_000),
            ([("priority", "3"), ("unit", "other")], other),
            ([("priority", "2"), ("unit", "sshd.service")], sshd),
        ])
    }

    /// Everything the summary reads except the counters, as one scrape has them.
    static let gauges: [MetricFamily] = [
        gauge("node_memory_MemTotal_bytes", 8 * 1_073_741_824), gauge("node_memory_MemAvailable_bytes", 2 * 1_073_741_824),
        gauge("node_load1", 3), gauge("node_load5", 2), gauge("node_load15", 1),
        family("node_filesystem_size_bytes", [([("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")], 100),
                                              ([("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/data")], 1000),
                                              ([("device", "/dev/sr0"), ("fstype", "iso9660"), ("mountpoint", "/iso")], 10)]),
        family("node_filesystem_free_bytes", [([("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")], 30),
                                              ([("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/data")], 100),
                                              ([("device", "/dev/sr0"), ("fstype", "iso9660"), ("mountpoint", "/iso")], 0)]),
        family("node_filesystem_avail_bytes", [([("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")], 20),
                                               ([("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/data")], 100),
                                               ([("device", "/dev/sr0"), ("fstype", "iso9660"), ("mountpoint", "/iso")], 0)]),
        family("node_filesystem_readonly", [([("device", "/dev/vda"), ("fstype", "ext4"), ("mountpoint", "/")], 0),
                                            ([("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/data")], 0),
                                            ([("device", "/dev/sr0"), ("fstype", "iso9660"), ("mountpoint", "/iso")], 1)]),
        family("microvm_info", [([("hypervisor", "cloud-hypervisor"), ("runner", "/nix/store/b"), ("vm", "db")], 1),
                                ([("hypervisor", "firecracker"), ("runner", "/nix/store/c"), ("vm", "idle")], 1),
                                ([("hypervisor", "qemu"), ("runner", "/nix/store/a"), ("vm", "web")], 1)]),
        family("microvm_up", [([("vm", "db")], 1), ([("vm", "idle")], 0), ([("vm", "web")], 1)]),
        family("microvm_hypervisor_status", [([("status", "paused"), ("vm", "web")], 1)]),
        family("microvm_restart_pending", [([("vm", "db")], 1), ([("vm", "idle")], 0), ([("vm", "web")], 0)]),
        family("microvm_memory_bytes", [([("vm", "db")], 536_870_912), ([("vm", "web")], 1_073_741_824)]),
        family("lookout_elasticsearch_documents_acknowledged_total", type: .counter,
               [([("result", "indexed")], 90), ([("result", "duplicate")], 10)]),
        gauge("lookout_elasticsearch_documents_dead_lettered_total", 2),
        gauge("lookout_elasticsearch_consecutive_failures", 3),
        gauge("lookout_elasticsearch_last_success_timestamp_seconds", 1_795_773_540),
        gauge("lookout_journal_lag_seconds", 1.5), gauge("lookout_journal_unacknowledged_entries", 40),
        gauge("lookout_events_shipping_backlog", 7), gauge("lookout_events_shipping_lag_seconds", 12.5),
    ]

    static let before = [cpu(user: 100, system: 50, idle: 800, iowait: 40), microVMCPU(web: 10, db: 100),
                         journal(nginx: 10, sshd: 0, other: 2)] + gauges
    static let after = [cpu(user: 101, system: 50.5, idle: 800.25, iowait: 40.25), microVMCPU(web: 11, db: 1),
                        journal(nginx: 25, sshd: 1, other: 4)] + gauges

    static let lastError = ShippingError(time: time - 30_000_000, message: "http://es:9200: HTTP 503 unavailable")

    static let expected = Summary(
        version: "0.1.0", hostname: "host-a", time: time,
        host: Summary.Host(
            // Per CPU 2 s passed, 1.5 s of it busy: 75 %.
            cpu: Summary.CPU(busyPercent: 75, cpus: 2, windowSeconds: 2),
            memory: Summary.Memory(totalBytes: 8 * 1_073_741_824, availableBytes: 2 * 1_073_741_824),
            load: Summary.Load(one: 3, five: 2, fifteen: 1),
            fullestFilesystem: Summary.Filesystem(mountpoint: "/data", device: "/dev/vdb", fstype: "xfs", sizeBytes: 1000,
                                                  freeBytes: 100, availableBytes: 100)),
        microVMs: [
            // db's counter went down: a new cgroup, so its whole value is the interval's use.
            Summary.MicroVM(name: "db", state: "running", hypervisor: "cloud-hypervisor", cpuPercent: 50, memoryBytes: 536_870_912,
                            restartPending: true),
            Summary.MicroVM(name: "idle", state: "stopped", hypervisor: "firecracker", cpuPercent: nil, memoryBytes: nil, restartPending: false),
            Summary.MicroVM(name: "web", state: "paused", hypervisor: "qemu", cpuPercent: 50, memoryBytes: 1_073_741_824, restartPending: false),
        ],
        runs: nil,
        shipping: Summary.Shipping(
            elasticsearch: Summary.Elasticsearch(documentsAcknowledged: 100, documentsDeadLettered: 2, consecutiveFailures: 3,
                                                 lastSuccess: 1_795_773_540_000_000, lastError: lastError),
            journalLagSeconds: 1.5, journalWaiting: 40, events: Summary.EventsShipping(backlog: 7, lagSeconds: 12.5)),
        journalErrors: Summary.JournalErrors(windowSeconds: 900, units: [
            Summary.UnitErrors(unit: "nginx.service", entries: 15), Summary.UnitErrors(unit: "other", entries: 2),
            Summary.UnitErrors(unit: "sshd.service", entries: 1),
        ]),
        warnings: ["collector textfile is failing"])

    static func summary() -> Summary {
        let first = CounterReading(before, at: start), second = CounterReading(after, at: start + .seconds(2))
        var errorsStart = first
        errorsStart.at = start + .seconds(2) - .seconds(900)
        return SummaryBuilder.summary(
            version: "0.1.0", hostname: "host-a", time: time, families: after, rates: ReadingInterval(start: first, end: second),
            errors: ReadingInterval(start: errorsStart, end: second), lastShippingError: lastError, runs: nil,
            warnings: ["collector textfile is failing"])
    }

    @Test func everySectionComesFromTheFamiliesItNames() {
        #expect(Self.summary() == Self.expected)
        #expect(Self.expected.host.memory?.usedPercent == 75)
        #expect(Self.expected.host.fullestFilesystem?.usedPercent == 90)
    }

    @Test func sectionsWhoseFamiliesAreMissingAreNil() {
        let summary = SummaryBuilder.summary(
            version: "0.1.0", hostname: "h", time: Self.time, families: [Self.gauge("node_load1", 1)], rates: nil, errors: nil,
            lastShippingError: nil, runs: [], warnings: [])
        #expect(summary == Summary(version: "0.1.0", hostname: "h", time: Self.time, host: Summary.Host(), microVMs: nil, runs: [],
                                   shipping: nil, journalErrors: nil, warnings: []))
        #expect(String(decoding: summary.json, as: UTF8.self) == """
            {"version":"0.1.0","hostname":"h","time":"2026-11-27T10:00:00.000000Z","host":{"cpu":null,"memory":null,"load":null,\
            "fullest_filesystem":null},"microvms":null,"runs":[],"shipping":null,"journal_errors":null,"warnings":[]}
            """)
    }

    @Test func theJSONNamesEveryPartAndReadsBack() throws {
        var summary = Self.expected
        summary.runs = [PipelineRun(pipeline: "lookout", runID: "42", status: .failure, revision: "abc", started: Self.time - 60_000_000,
                                    finished: Self.time, durationSeconds: 60,
                                    steps: [.init(name: "build", result: .failure, finished: Self.time, durationSeconds: 7.25, exitCode: 2)],
                                    simulation: nil, deployments: [])]
        let text = String(decoding: summary.json, as: UTF8.self)
        #expect(text == """
            {"version":"0.1.0","hostname":"host-a","time":"2026-11-27T10:00:00.000000Z",\
            "host":{"cpu":{"busy_percent":75,"cpus":2,"window_seconds":2},\
            "memory":{"total_bytes":8589934592,"available_bytes":2147483648,"used_bytes":6442450944,"used_percent":75},\
            "load":{"load1":3,"load5":2,"load15":1},\
            "fullest_filesystem":{"mountpoint":"/data","device":"/dev/vdb","fstype":"xfs","size_bytes":1000,"free_bytes":100,"avail_bytes":100,"used_percent":90}},\
            "microvms":[{"name":"db","state":"running","hypervisor":"cloud-hypervisor","cpu_percent":50,"memory_bytes":536870912,"restart_pending":true},\
            {"name":"idle","state":"stopped","hypervisor":"firecracker","cpu_percent":null,"memory_bytes":null,"restart_pending":false},\
            {"name":"web","state":"paused","hypervisor":"qemu","cpu_percent":50,"memory_bytes":1073741824,"restart_pending":false}],\
            "runs":[{"pipeline":"lookout","run_id":"42","status":"failure","revision":"abc","started":"2026-11-27T09:59:00.000000Z",\
            "finished":"2026-11-27T10:00:00.000000Z","duration_seconds":60,"steps":[{"name":"build","result":"failure","started":null,\
            "finished":"2026-11-27T10:00:00.000000Z","duration_seconds":7.25,"exit_code":2}],"deployments":[],"dst":null}],\
            "shipping":{"elasticsearch":{"documents_acknowledged":100,"documents_dead_lettered":2,"consecutive_failures":3,\
            "last_success":"2026-11-27T09:59:00.000000Z","last_error":{"time":"2026-11-27T09:59:30.000000Z","message":"http://es:9200: HTTP 503 unavailable"}},\
            "journal":{"lag_seconds":1.5,"waiting":40},"events":{"backlog":7,"lag_seconds":12.5}},\
            "journal_errors":{"window_seconds":900,"units":[{"unit":"nginx.service","entries":15},{"unit":"other","entries":2},\
            {"unit":"sshd.service","entries":1}]},"warnings":["collector textfile is failing"]}
            """)
        #expect(try Summary(json: try JSONValue.parse(summary.json)) == summary)
    }

    @Test func aMemberOfTheWrongKindIsNamed() {
        let json = #"{"time":"2026-11-27T10:00:00Z","host":{"cpu":{"cpus":"two"}}}"#
        #expect(throws: JSONShapeError(path: "host.cpu.cpus", problem: "expected an integer, got a string")) {
            try Summary(json: try JSONValue.parse(Array(json.utf8)))
        }
        #expect(throws: JSONShapeError(path: "time", problem: "required")) {
            try Summary(json: try JSONValue.parse(Array("{}".utf8)))
        }
    }

    @Test func ratesStartAtTheNewestReadingOneToSixtySecondsOld() {
        let history = SummaryHistory(startedAt: Self.start)
        let cpu = CounterReading.HostCPUTime(total: 1, busy: 1, cpus: 1)
        for seconds in [0.0, 30, 59.5, 60.5] {
            history.record(CounterReading(at: Self.start + .seconds(seconds), hostCPU: cpu))
        }
        let now = CounterReading(at: Self.start + .seconds(61), hostCPU: cpu)
        #expect(history.rateInterval(to: now)?.start.at == Self.start + .seconds(59.5))
        // A reading without microVM counters cannot start a microVM rate.
        var withVMs = now
        withVMs.microVMCPU = ["web": 1]
        #expect(history.rateInterval(to: withVMs) == nil)
        // Nothing between 1 and 60 s old: the caller reads twice instead.
        #expect(history.rateInterval(to: CounterReading(at: Self.start + .seconds(200), hostCPU: cpu)) == nil)
    }

    @Test func journalErrorsAreCountedOverTheLastFifteenMinutes() {
        let history = SummaryHistory(startedAt: Self.start)
        func reading(_ seconds: Double) -> CounterReading { CounterReading(at: Self.start + .seconds(seconds), unitErrors: ["a": seconds]) }
        // Until the daemon is 15 minutes old, errors count from its start.
        history.record(reading(30))
        #expect(history.errorInterval(to: reading(300))?.seconds == 300)
        for seconds in stride(from: 60.0, through: 1200, by: 30) { history.record(reading(seconds)) }
        let interval = history.errorInterval(to: reading(1200))
        #expect(interval?.seconds == 900)
        #expect(interval?.start.unitErrors == ["a": 300])
        #expect(history.errorInterval(to: CounterReading(at: Self.start + .seconds(1200))) == nil)
    }
}
