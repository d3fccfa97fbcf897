import Foundation
import Testing

/// `lookout event` against a live `lookout serve`: stored once, refused with one line, and a
/// daemon that cannot be reached means the spool, or an error with `--strict`; never a silent loss.
@Suite(.serialized) struct EventCommandTests {
    @Test func anEventIsStoredOnceAndMistakesAreOneLine() async throws {
        let daemon = try await EventsDaemon(token: "cli-token")
        defer { daemon.stop() }
        let data = daemon.data
        let common = ["--url", daemon.url, "--token-file", daemon.tokenFile]
        let step = ["event", "step.finished", "--pipeline", "lookout", "--run-id", "42", "--step", "build", "--result", "failure",
                    "--exit-code", "2", "--duration", "7.25", "--label", "runner=ci-1", "--id", "42-build"]

        let sent = try Harness.run(Harness.lookoutBinary, step + common)
        #expect(sent.status == 0)
        #expect(sent.stdout == "{\"stored\":1,\"duplicates\":0}\n")
        let again = try Harness.run(Harness.lookoutBinary, step + common)
        #expect(again.stdout == "{\"stored\":0,\"duplicates\":1}\n")

        let run = try await Harness.get(daemon.url + "/api/v1/runs/42")
        let json = try JSONSerialization.jsonObject(with: Data(run.body.utf8)) as? [String: Any]
        let steps = json?["steps"] as? [[String: Any]]
        #expect(steps?.first?["result"] as? String == "failure")
        #expect(steps?.first?["exit_code"] as? Int == 2)
        #expect(steps?.first?["duration_seconds"] as? Double == 7.25)

        let wrong = try Harness.run(Harness.lookoutBinary, ["event", "deploy", "--pipeline", "lookout", "--run-id", "42", "--result", "success"] + common)
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "lookout: error: stage: required for deploy\n")

        try Data("not-the-token\n".utf8).write(to: URL(fileURLWithPath: data + "/wrong"))
        let refused = try Harness.run(Harness.lookoutBinary, ["event", "note", "--pipeline", "p", "--run-id", "1",
                                                              "--url", daemon.url, "--token-file", data + "/wrong"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "lookout: error: the daemon refused the event (401): {\"error\":\"missing or wrong bearer token\"}\n")

        let elsewhere = "http://127.0.0.1:\(try Harness.freePort())"
        let strict = try Harness.run(Harness.lookoutBinary, ["event", "note", "--pipeline", "p", "--run-id", "1", "--strict",
                                                             "--url", elsewhere, "--token-file", daemon.tokenFile])
        #expect(strict.status == 1)
        #expect(strict.stderr.hasPrefix("lookout: error: cannot reach the daemon at http://127.0.0.1:"))

        // Not strict: the event waits in the spool, and the daemon that owns it imports it.
        let spooled = try Harness.run(Harness.lookoutBinary, ["event", "note", "--pipeline", "p", "--run-id", "spooled",
                                                              "--url", elsewhere, "--token-file", daemon.tokenFile,
                                                              "--spool-dir", data + "/spool"])
        #expect(spooled.status == 0)
        #expect(spooled.stderr.hasPrefix("lookout: warning: cannot reach the daemon at \(elsewhere)"))
        try await Harness.waitUntil(seconds: 15, "the spooled note") {
            (try? await Harness.get(daemon.url + "/api/v1/runs/spooled").status) == 200
        }
    }

    @Test func aResultsFileBecomesTheReportOfADstReport() async throws {
        let daemon = try await EventsDaemon(token: "dst-token")
        defer { daemon.stop() }
        let common = ["--pipeline", "lookout", "--url", daemon.url, "--token-file", daemon.tokenFile]
        let dst = Harness.fixtures.appendingPathComponent("dst").path

        let edn = try Harness.run(Harness.lookoutBinary,
                                  ["event", "dst-report", "--run-id", "77", "--step", "dst", "--file", dst + "/maelstrom-lin-kv.edn"] + common)
        #expect(edn.status == 0)
        #expect(edn.stdout == "{\"stored\":1,\"duplicates\":0}\n")
        let run = try await Harness.get(daemon.url + "/api/v1/runs/77")
        #expect(run.body.contains(#""dst":{"valid":false,"count":1732,"ok_count":1260,"fail_count":431,"info_count":41,"msg_count":19842,"server_msg_count":16338,"invalid_checkers":["workload"],"unknown_checkers":[],"anomaly_types":[]}"#))

        let json = try Harness.run(Harness.lookoutBinary, ["event", "dst.report", "--run-id", "78", "--file", dst + "/jepsen-results.json"] + common)
        #expect(json.status == 0)
        let unknown = try await Harness.get(daemon.url + "/api/v1/runs/78")
        #expect(unknown.body.contains(#""dst":{"valid":"unknown","count":120,"ok_count":111,"fail_count":6,"info_count":3,"msg_count":null,"server_msg_count":null,"invalid_checkers":[],"unknown_checkers":["linear"],"anomaly_types":[]}"#))

        let metrics = try await Harness.get(daemon.url + "/metrics")
        #expect(metrics.body.contains("\npipeline_dst_messages_total{pipeline=\"lookout\"} 19842\n"))

        // A file that cannot give a report is one line naming it, and nothing is sent.
        let truncated = try Harness.run(Harness.lookoutBinary, ["event", "dst-report", "--run-id", "79", "--file", dst + "/truncated.edn"] + common)
        #expect(truncated.status == 1)
        #expect(truncated.stderr == "lookout: error: \(dst)/truncated.edn:18:36: invalid EDN: unterminated map opened at line 17, column 25\n")
        let absent = try Harness.run(Harness.lookoutBinary, ["event", "dst-report", "--run-id", "79", "--file", dst + "/absent.edn"] + common)
        #expect(absent.status == 1)
        #expect(absent.stderr == "lookout: error: \(dst)/absent.edn: cannot be read: No such file or directory\n")
        let note = try Harness.run(Harness.lookoutBinary, ["event", "note", "--run-id", "79", "--file", dst + "/maelstrom-lin-kv.edn"] + common)
        #expect(note.status == 1)
        #expect(note.stderr == "lookout: error: --file is only for dst.report, not note\n")
        #expect(try await Harness.get(daemon.url + "/api/v1/runs/79").status == 404)
    }
}
