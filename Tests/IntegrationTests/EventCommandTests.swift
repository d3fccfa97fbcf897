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
}
