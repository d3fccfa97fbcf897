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

    /// Every default collector on one fixture host (``Harness/fixtureHost()``). meminfo is left
    /// out: the node fixture's meminfo holds made-up fields to test odd names with, and
    /// meminfo's real output is checked above.
    @Test func theFullOutputWithMicroVMsLintsClean() async throws {
        let promtool = try Harness.tool("promtool")
        let host = try Harness.fixtureHost()
        defer { try? FileManager.default.removeItem(atPath: host.directory) }
        let body = try await liveOutput(host.flags + ["--no-collector.meminfo"])
        for line in ["microvm_up{vm=\"web\"} 1", "microvm_hypervisor_up{vm=\"db\"} 0", "node_load1 ",
                     "lookout_scrape_collector_success{collector=\"microvm\"} 1", "lookout_scrape_collector_success{collector=\"cpu\"} 1"] {
            #expect(body.contains(line), "no \(line)")
        }
        let result = try Harness.run(promtool, ["check", "metrics"], input: body)
        #expect(result.stdout + result.stderr == "")
        #expect(result.status == 0)
    }

    @Test func thePipelineFamiliesLintClean() async throws {
        let promtool = try Harness.tool("promtool")
        let daemon = try await EventsDaemon(token: "pipeline-token")
        defer { daemon.stop() }
        let events = [
            #"{"type":"run.started","pipeline":"lookout","run_id":"1"}"#,
            #"{"type":"step.finished","pipeline":"lookout","run_id":"1","step":"build","result":"success","duration_seconds":12}"#,
            #"{"type":"deploy","pipeline":"lookout","run_id":"1","stage":"preprod","result":"success"}"#,
            #"{"type":"rollback","pipeline":"lookout","run_id":"1","stage":"preprod"}"#,
            #"{"type":"dst.report","pipeline":"lookout","run_id":"1","dst":{"valid":true,"ok_count":5,"fail_count":0}}"#,
            #"{"type":"run.finished","pipeline":"lookout","run_id":"1","result":"success"}"#,
            #"{"type":"run.started","pipeline":"lookout","run_id":"2"}"#,
        ].joined(separator: "\n")
        let posted = try await Harness.post(daemon.url + "/api/v1/events", body: events,
                                            headers: ["Authorization": "Bearer pipeline-token"])
        #expect(posted.status == 200)
        #expect(posted.body == "{\"stored\":7,\"duplicates\":0}\n")
        let body = try await Harness.get(daemon.url + "/metrics").body
        for line in ["pipeline_runs_total{pipeline=\"lookout\",result=\"success\"} 1", "pipeline_runs_in_progress{pipeline=\"lookout\"} 1",
                     "pipeline_dst_valid{pipeline=\"lookout\"} 1", "lookout_events_received_total{result=\"stored\"} 7"] {
            #expect(body.contains(line + "\n"), "no \(line)")
        }
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
