import Dispatch
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import MetricModel
import PeerSupport
import Testing
@testable import Exporter

/// A collector that returns fixed families, optionally holding each scrape until a gate opens.
struct FixedCollector: MetricCollector {
    let name: String
    let families: [MetricFamily]
    var gate: ScrapeGate? = nil

    func collect() -> [MetricFamily] {
        gate?.pass()
        return families
    }
}

/// Holds scrapes inside a collector until the test opens it, so "a scrape is in flight" is a
/// fact the test waits for rather than a guess about timing.
final class ScrapeGate: Sendable {
    private let entered = Atomic<Int>(0)
    private let semaphore = DispatchSemaphore(value: 0)

    /// How many scrapes have reached the gate.
    var scrapesInside: Int { entered.load(ordering: .acquiring) }

    /// Called by the collector: waits until `open()`.
    func pass() {
        entered.wrappingAdd(1, ordering: .acquiringAndReleasing)
        semaphore.wait()
        semaphore.signal()
    }

    /// Lets every waiting and future scrape through.
    func open() { semaphore.signal() }
}

/// These tests run the real HTTP server on a loopback socket (`.live`).
@Suite struct MetricsEndpointTests {
    let logger = Logger(label: "test")
    let load = FixedCollector(name: "loadavg", families: [.single("node_load1", help: "1m load average.", value: 0.5)])

    private func application(
        _ collectors: [any MetricCollector], maxRequests: Int = 40
    ) throws -> some ApplicationProtocol {
        var configuration = ExporterConfiguration()
        configuration.listenAddress = "127.0.0.1:0"
        configuration.maxRequests = maxRequests
        let registry = CollectorRegistry(collectors: collectors, logger: logger)
        return try Daemon.build(configuration, registry: registry, logger: logger)
    }

    @Test func servesTextByDefault() async throws {
        try await application([load]).test(.live) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(response.headers[.contentEncoding] == nil)
                let body = String(buffer: response.body)
                #expect(body.contains("# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.5\n"))
                #expect(body.contains("lookout_scrape_collector_success{collector=\"loadavg\"} 1\n"))
                #expect(!body.contains("# EOF"))
            }
        }
    }

    @Test func servesOpenMetricsWhenAsked() async throws {
        try await application([load]).test(.live) { client in
            let headers: HTTPFields = [.accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"]
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                #expect(response.headers[.contentType] == "application/openmetrics-text; version=1.0.0; charset=utf-8")
                let body = String(buffer: response.body)
                #expect(body.contains("# TYPE node_load1 gauge\n# HELP node_load1 1m load average.\nnode_load1 0.5\n"))
                #expect(body.hasSuffix("# EOF\n"))
            }
        }
    }

    @Test func gzipsWhenAllowed() async throws {
        try await application([load]).test(.live) { client in
            try await client.execute(uri: "/metrics", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
                #expect(response.headers[.contentEncoding] == "gzip")
                let body = String(decoding: try Gunzip.decompress(Array(buffer: response.body)), as: UTF8.self)
                #expect(body.contains("node_load1 0.5\n"))
            }
        }
    }

    @Test func answers503AboveTheConcurrencyLimit() async throws {
        let gate = ScrapeGate()
        let held = FixedCollector(name: "held", families: [.single("held_value", help: "h", value: 1)], gate: gate)
        try await application([held], maxRequests: 1).test(.live) { client in
            // A second connection, so the two scrapes really are in flight at once.
            let second = TestClient(host: "127.0.0.1", port: try #require(client.port))
            second.connect()
            defer { Task { try? await second.shutdown() } }
            async let first = client.execute(uri: "/metrics", method: .get) { $0.status }
            while gate.scrapesInside == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let refused = try await second.execute(TestClient.Request("/metrics", method: .get))
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.body.map { String(buffer: $0) } == "Limit of concurrent requests reached (1), try again later.\n")
            gate.open()
            #expect(try await first == .ok)
            // The slot is free again once the first scrape is answered, and the refusal was counted.
            let next = try await second.execute(TestClient.Request("/metrics", method: .get))
            #expect(next.status == .ok)
            #expect(next.body.map { String(buffer: $0) }?.contains(
                "lookout_component_errors_total{component=\"http\",error_type=\"too_many_requests\"} 1\n") == true)
        }
    }

    @Test(arguments: ["inf", "-1", "0", "abc", "nan"])
    func badScrapeTimeoutHeaderIs400(value: String) async throws {
        try await application([load]).test(.live) { client in
            let headers: HTTPFields = [HTTPField.Name("X-Prometheus-Scrape-Timeout-Seconds")!: value]
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == "Invalid X-Prometheus-Scrape-Timeout-Seconds \"\(value)\": expected a positive number of seconds.\n")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains(
                    "lookout_component_errors_total{component=\"http\",error_type=\"bad_request\"} 1\n"))
            }
        }
    }

    /// A huge value is legal and simply leaves the configured timeout in force.
    @Test(arguments: ["9.5", "1e300"])
    func goodScrapeTimeoutHeaderIsHonoured(value: String) async throws {
        try await application([load]).test(.live) { client in
            let headers: HTTPFields = [HTTPField.Name("X-Prometheus-Scrape-Timeout-Seconds")!: value]
            try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("node_load1 0.5\n"))
            }
        }
    }

    @Test func headAnswersWithoutABody() async throws {
        try await application([load]).test(.live) { client in
            try await client.execute(uri: "/metrics", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func collectAndExcludeQueries() async throws {
        let other = FixedCollector(name: "meminfo", families: [.single("node_memory_MemTotal_bytes", help: "m", value: 1024)])
        try await application([load, other]).test(.live) { client in
            try await client.execute(uri: "/metrics?collect[]=meminfo", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("node_memory_MemTotal_bytes 1024\n"))
                #expect(!body.contains("node_load1"))
            }
            try await client.execute(uri: "/metrics?exclude[]=meminfo", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(!body.contains("node_memory_MemTotal_bytes"))
                #expect(body.contains("node_load1 0.5\n"))
            }
            try await client.execute(uri: "/metrics?collect[]=cpu", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).hasPrefix("Unknown or disabled collector \"cpu\""))
            }
            try await client.execute(uri: "/metrics?collect[]=meminfo&exclude[]=loadavg", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func landingPageLinksTheMetrics() async throws {
        try await application([load]).test(.live) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<a href=\"/metrics\">"))
            }
        }
    }
}
