import Foundation
import Testing

/// A real Prometheus server scrapes `lookout serve` over loopback; the test reads the result back
/// through Prometheus' HTTP API.
@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func prometheusScrapesFixtureValues() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let lookoutPort = try Harness.freePort()
        let lookout = try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address", "127.0.0.1:\(lookoutPort)",
                        "--path.procfs", Harness.fixtures.appendingPathComponent("proc").path,
                        "--path.sysfs", Harness.fixtures.appendingPathComponent("sys").path,
                        "--collector.disable-defaults", "--collector.meminfo", "--collector.loadavg"])
        defer { lookout.stop() }
        try await lookout.waitUntilServing("http://127.0.0.1:\(lookoutPort)/metrics")

        let (prometheus, prometheusURL) = try await Harness.prometheus(configuration: """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: lookout
                static_configs:
                  - targets: ["127.0.0.1:\(lookoutPort)"]
            """, in: directory)
        defer { prometheus.stop() }
        let api = prometheusURL + "/api/v1/query?query="

        var up: [String] = []
        try await Harness.waitUntil(seconds: 30, "Prometheus to record a scrape") {
            up = (try? await Self.values(api + "up")) ?? []
            return !up.isEmpty
        }
        #expect(up == ["1"], "\(prometheus.log)")

        let memTotal = try await Self.values(api + "node_memory_MemTotal_bytes")
        #expect(memTotal == [String(try Self.fixtureMemTotalBytes())])
        let load = try await Self.values(api + "node_load1")
        #expect(load.count == 1)
    }

    /// `MemTotal` from the fixture's /proc/meminfo, in bytes.
    static func fixtureMemTotalBytes() throws -> Int {
        let text = try String(contentsOf: Harness.fixtures.appendingPathComponent("proc/meminfo"), encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("MemTotal:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    /// The sample values of an instant query, as Prometheus prints them.
    static func values(_ url: String) async throws -> [String] {
        let response = try await Harness.get(url)
        guard response.status == 200,
              let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
              let data = json["data"] as? [String: Any],
              let result = data["result"] as? [[String: Any]] else { return [] }
        return result.compactMap { ($0["value"] as? [Any])?.last as? String }
    }
}
