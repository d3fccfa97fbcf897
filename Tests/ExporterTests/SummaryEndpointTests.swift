@testable import Collectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import DaemonSummary
@testable import LookoutSupport
@testable import MetricModel
import Testing
@testable import Exporter

/// `GET /api/v1/summary` on the real HTTP server (`.live`), over the host collectors reading the
/// committed fixture tree, a real event store and real journal counters.
@Suite struct SummaryEndpointTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-summary-\(UUID().uuidString)").path
    let logger = Logger(label: "test")

    /// The configuration of a daemon reading `procfs` (the fixtures' by default) with the cpu,
    /// meminfo, loadavg and filesystem collectors, and the events API on when `events`.
    private func configuration(procfs: String = fixtures + "/proc", events: Bool) throws -> ExporterConfiguration {
        var configuration = ExporterConfiguration()
        configuration.listenAddress = "127.0.0.1:0"
        configuration.disableDefaults = true
        configuration.collectorChoices = ["cpu": true, "meminfo": true, "loadavg": true, "filesystem": true]
        configuration.host.paths = HostPaths(procfs: procfs, sysfs: Self.fixtures + "/sys", rootfs: Self.fixtures + "/rootfs")
        if events {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data("t\n".utf8).write(to: URL(fileURLWithPath: directory + "/token"))
            configuration.dataDirectory = directory
            configuration.eventsTokenFile = directory + "/token"
        }
        return configuration
    }

    private func get(_ client: some TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, String, String?) {
        try await client.execute(uri: uri, method: .get) { response in
            (response.status, String(buffer: response.body), response.headers[.contentType])
        }
    }

    private static func record(_ counters: JournalCounters, unit: String, priority: Int, times: Int) {
        var unit = unit
        unit.withUTF8 { bytes in
            for _ in 0..<times {
                counters.recordEntry(unit: UnsafeRawBufferPointer(bytes), priority: priority, realtime: 1, binaryFields: 0)
            }
        }
    }

    @Test func oneAnswerSummarisesTheRegistryTheRunsAndTheJournal() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try configuration(events: true)
        let errors = ComponentErrors()
        let events = try #require(try EventsEndpoint.make(configuration, errors: errors, logger: logger))
        let journal = JournalCounters()
        Self.record(journal, unit: "nginx.service", priority: 3, times: 2)
        Self.record(journal, unit: "nginx.service", priority: 6, times: 50)
        Self.record(journal, unit: "sshd.service", priority: 2, times: 1)
        let registry = CollectorRegistry(
            collectors: try configuration.makeCollectors(errors: errors) + [events.counters, events.statistics, journal], errors: errors, logger: logger)
        try await Daemon.build(configuration, registry: registry, events: events, logger: logger).test(.live) { client in
            let batch = [
                #"{"type":"run.started","pipeline":"lookout","run_id":"41"}"#,
                #"{"type":"step.finished","pipeline":"lookout","run_id":"41","step":"build","result":"success","duration_seconds":62}"#,
                #"{"type":"run.finished","pipeline":"lookout","run_id":"41","result":"success"}"#,
                #"{"type":"run.started","pipeline":"lookout","run_id":"42"}"#,
                #"{"type":"step.finished","pipeline":"lookout","run_id":"42","step":"build","result":"failure","exit_code":2,"duration_seconds":7.25}"#,
            ].joined(separator: "\n")
            try await client.execute(uri: EventsEndpoint.path, method: .post, headers: [.authorization: "Bearer t"],
                                     body: ByteBuffer(string: batch)) { #expect($0.status == .ok) }

            let (status, body, contentType) = try await get(client, "/api/v1/summary?runs=1")
            #expect(status == .ok)
            #expect(contentType == "application/json")
            #expect(body.hasSuffix("}\n") && body.filter { $0 == "\n" }.count == 1)
            let keys = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]).keys.sorted()
            #expect(keys == ["host", "hostname", "journal_errors", "microvms", "runs", "shipping", "time", "version", "warnings"])

            let summary = try Summary(json: try JSONValue.parse(Array(body.utf8)))
            #expect(summary.version == LookoutVersion.current)
            #expect(summary.hostname == SummaryEndpoint.hostname && !summary.hostname.isEmpty)
            // No earlier reading: two, 250 ms apart. The fixture's counters stand still, so no
            // CPU time passed and there is no percentage.
            let cpu = try #require(summary.host.cpu)
            #expect(cpu.cpus == 12 && cpu.busyPercent == nil)
            #expect((cpu.windowSeconds ?? 0) >= 0.25 && (cpu.windowSeconds ?? 1) < 5)
            #expect(summary.host.memory == Summary.Memory(totalBytes: 24_683_656 * 1024, availableBytes: 23_854_376 * 1024))
            #expect(summary.host.load == Summary.Load(one: 2.69, five: 1.19, fifteen: 0.51))
            // The fixture's mount points are directories on the checkout's disk: their statfs varies.
            #expect(summary.host.fullestFilesystem != nil)
            #expect(summary.microVMs == nil)
            #expect(summary.runs?.map(\.runID) == ["42"])
            #expect(summary.runs?.first?.steps.map { "\($0.name) \($0.result?.rawValue ?? "") \($0.exitCode ?? 0)" } == ["build failure 2"])
            #expect(summary.shipping == nil)
            #expect(summary.journalErrors?.units == [Summary.UnitErrors(unit: "nginx.service", entries: 2),
                                                     Summary.UnitErrors(unit: "sshd.service", entries: 1)])
            #expect(summary.warnings == [])

            #expect(try await get(client, "/api/v1/summary?runs=0").1.contains(#""runs":[]"#))
        }
    }

    @Test func aScrapeASecondEarlierStartsTheRate() async throws {
        let configuration = try configuration(events: false)
        let registry = CollectorRegistry(collectors: try configuration.makeCollectors(), logger: logger)
        try await Daemon.build(configuration, registry: registry, logger: logger).test(.live) { client in
            #expect(try await get(client, "/metrics").0 == .ok)
            try await Task.sleep(for: .milliseconds(1200))
            let (status, body, _) = try await get(client, SummaryEndpoint.path)
            #expect(status == .ok)
            let summary = try Summary(json: try JSONValue.parse(Array(body.utf8)))
            // Over the scrape's reading, not 250 ms of its own.
            let window = try #require(summary.host.cpu?.windowSeconds)
            #expect(window >= 1.2 && window < 10)
            // Without the events API there are no runs, and the key says so.
            #expect(summary.runs == nil)
            #expect(body.contains(#""runs":null"#))
        }
    }

    @Test func failingCollectorsBecomeWarningsAndTheirSectionsGo() async throws {
        let configuration = try configuration(procfs: "/nonexistent", events: false)
        let registry = CollectorRegistry(collectors: try configuration.makeCollectors(), logger: logger)
        try await Daemon.build(configuration, registry: registry, logger: logger).test(.live) { client in
            let (status, body, _) = try await get(client, SummaryEndpoint.path)
            #expect(status == .ok)
            let summary = try Summary(json: try JSONValue.parse(Array(body.utf8)))
            #expect(summary.host.cpu == nil && summary.host.memory == nil && summary.host.load == nil)
            #expect(summary.warnings == ["cpu", "filesystem", "loadavg", "meminfo"].map { "collector \($0) is failing (see the daemon's log)" })
        }
    }

    @Test func badQueryParametersAreOneLineOf400() async throws {
        let configuration = try configuration(events: false)
        let errors = ComponentErrors()
        let registry = CollectorRegistry(collectors: [], errors: errors, logger: logger)
        try await Daemon.build(configuration, registry: registry, logger: logger).test(.live) { client in
            let cases = [
                ("runs=five", #"{"error":"runs must be an integer from 0 to 50, got \"five\""}"#),
                ("runs=51", #"{"error":"runs must be an integer from 0 to 50, got \"51\""}"#),
                ("run=5", #"{"error":"unknown query parameter \"run\"; the only one is runs"}"#),
            ]
            for (query, answer) in cases {
                let (status, body, contentType) = try await get(client, SummaryEndpoint.path + "?" + query)
                #expect(status == .badRequest)
                #expect(contentType == "application/json")
                #expect(body == answer + "\n")
            }
            #expect(errors.count(component: "http", errorType: "bad_request") == 3)
        }
    }
}
