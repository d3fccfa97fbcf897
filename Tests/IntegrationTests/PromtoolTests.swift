import Foundation
import Testing

/// `promtool check metrics` on Lookout's live output from this host.
@Suite(.serialized) struct PromtoolTests {
    /// The only lint promtool may report: meminfo's field names keep /proc/meminfo's CamelCase
    /// (`node_memory_MemTotal_bytes`), as node_exporter's do, so dashboards and node-mixin alerts
    /// work unchanged. node_exporter's own checkmetrics.sh filters the same `node_memory_` lines.
    static var meminfoCamelCase: Regex<AnyRegexOutput> { try! Regex(#"^node_memory_\w*[a-z0-9][A-Z]\w* metric names should be written in 'snake_case' not 'camelCase'$"#) }

    private func liveOutput(_ arguments: [String]) async throws -> String {
        let port = try Harness.freePort()
        let server = try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address", "127.0.0.1:\(port)"] + arguments)
        defer { server.stop() }
        try await server.waitUntilServing("http://127.0.0.1:\(port)/metrics")
        return try await Harness.get("http://127.0.0.1:\(port)/metrics").body
    }

    @Test func everythingButMeminfoLintsClean() async throws {
        let promtool = try Harness.tool("promtool")
        let body = try await liveOutput(["--no-collector.meminfo"])
        let result = try Harness.run(promtool, ["check", "metrics"], input: body)
        #expect(result.stdout + result.stderr == "")
        #expect(result.status == 0)
    }

    @Test func theMicroVMFamiliesLintClean() async throws {
        let promtool = try Harness.tool("promtool")
        let host = Harness.fixtures.appendingPathComponent("microvms").path
        let body = try await liveOutput([
            "--collector.disable-defaults", "--collector.microvm", "--collector.loadavg",
            "--path.sysfs", host + "/sys", "--path.rootfs", host, "--collector.microvm.state-dir", host + "/var/lib/microvms",
        ])
        #expect(body.contains("microvm_up{vm=\"web\"} 1\n"))
        #expect(body.contains("lookout_scrape_collector_success{collector=\"microvm\"} 1\n"))
        let result = try Harness.run(promtool, ["check", "metrics"], input: body)
        #expect(result.stdout + result.stderr == "")
        #expect(result.status == 0)
    }

    @Test func meminfoOnlyReportsItsNodeExporterNames() async throws {
        let promtool = try Harness.tool("promtool")
        let body = try await liveOutput([])
        #expect(body.contains("node_memory_MemTotal_bytes "))
        let result = try Harness.run(promtool, ["check", "metrics"], input: body)
        let problems = (result.stdout + result.stderr).split(separator: "\n").map(String.init)
        let unexpected = problems.filter { $0.wholeMatch(of: Self.meminfoCamelCase) == nil }
        #expect(unexpected == [])
        #expect(!problems.isEmpty, "promtool's camelCase lint is expected to flag node_memory_MemTotal_bytes")
    }
}
