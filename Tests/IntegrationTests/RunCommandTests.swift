import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `lookout run` around real commands: output and exit codes pass through untouched (signals
/// included), the step is reported, and a daemon that is down costs nothing: the events wait in
/// the spool and the daemon imports them when it starts.
@Suite(.serialized) struct RunCommandTests {
    static let token = "run-token"

    /// `lookout run` with `arguments`, its stdout and stderr captured; also how it ended.
    final class Launched: @unchecked Sendable {
        let process = Process()
        private let stdout = Pipe(), stderr = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: Harness.lookoutBinary)
            process.arguments = ["run"] + arguments
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        /// Waits for the end: (exited normally, status or signal, stdout, stderr).
        func finish() -> (exited: Bool, status: Int32, stdout: String, stderr: String) {
            let out = stdout.fileHandleForReading.readDataToEndOfFile()
            let err = stderr.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationReason == .exit, process.terminationStatus,
                    String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
    }

    static func step(_ daemon: EventsDaemon, run: String, _ name: String) async throws -> [String: Any]? {
        let answer = try await Harness.get(daemon.url + "/api/v1/runs/\(run)")
        guard answer.status == 200 else { return nil }
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        return (json?["steps"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    static func common(_ daemon: EventsDaemon, run: String, step: String) -> [String] {
        ["--pipeline", "web", "--run-id", run, "--step", step, "--url", daemon.url, "--token-file", daemon.tokenFile,
         "--spool-dir", daemon.data + "/spool"]
    }

    @Test func outputAndExitCodesPassThroughAndTheStepIsReported() async throws {
        let daemon = try await EventsDaemon(token: Self.token)
        defer { daemon.stop() }

        let failing = try Launched(Self.common(daemon, run: "7", step: "unit-tests")
            + ["--label", "runner=ci-2", "--", "sh", "-c", "printf 'line one\\nline two\\n'; echo oops >&2; exit 3"]).finish()
        #expect(failing.exited && failing.status == 3)
        #expect(failing.stdout == "line one\nline two\n")
        #expect(failing.stderr == "oops\n")
        let reported = try #require(try await Self.step(daemon, run: "7", "unit-tests"))
        #expect(reported["result"] as? String == "failure")
        #expect(reported["exit_code"] as? Int == 3)
        #expect((reported["duration_seconds"] as? Double ?? -1) >= 0)

        let passing = try Launched(Self.common(daemon, run: "7", step: "build") + ["--", "true"]).finish()
        #expect(passing.exited && passing.status == 0 && passing.stdout.isEmpty && passing.stderr.isEmpty)
        #expect(try await Self.step(daemon, run: "7", "build")?["result"] as? String == "success")

        let missing = try Launched(Self.common(daemon, run: "7", step: "lint") + ["--", "/no/such/linter", "--strict"]).finish()
        #expect(missing.exited && missing.status == 127)
        #expect(missing.stderr == "lookout: error: cannot run /no/such/linter: No such file or directory\n")
        #expect(try await Self.step(daemon, run: "7", "lint")?["exit_code"] as? Int == 127)
    }

    @Test func aCommandKilledByASignalKillsLookoutTheSameWay() async throws {
        let daemon = try await EventsDaemon(token: Self.token)
        defer { daemon.stop() }
        let killed = try Launched(Self.common(daemon, run: "8", step: "dst") + ["--", "sh", "-c", "kill -USR1 $$"]).finish()
        #expect(!killed.exited && killed.status == SIGUSR1, "the caller sees SIGUSR1, as without lookout")
        let reported = try #require(try await Self.step(daemon, run: "8", "dst"))
        #expect(reported["exit_code"] as? Int == 128 + Int(SIGUSR1))
        #expect(reported["result"] as? String == "failure")
    }

    @Test func sigtermToLookoutReachesTheCommandWhoseEndIsReported() async throws {
        let daemon = try await EventsDaemon(token: Self.token)
        defer { daemon.stop() }
        let marker = daemon.data + "/trapped"
        let launched = try Launched(Self.common(daemon, run: "9", step: "deploy") + [
            "--", "sh", "-c", "trap 'echo stopping; touch \(marker); exit 7' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        try await Harness.waitUntil(seconds: 10, "the step to start") { (try? await Self.step(daemon, run: "9", "deploy")) != nil }
        try await Task.sleep(for: .milliseconds(300))
        kill(launched.process.processIdentifier, SIGTERM)
        let ended = launched.finish()
        #expect(ended.exited && ended.status == 7)
        #expect(ended.stdout == "ready\nstopping\n")
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(try await Self.step(daemon, run: "9", "deploy")?["exit_code"] as? Int == 7)
    }

    @Test func withTheDaemonDownEventsAreSpooledAndImportedWhenItStarts() async throws {
        let daemon = try await EventsDaemon(token: Self.token)
        defer { daemon.stop() }
        daemon.kill()
        let spool = daemon.data + "/spool"

        let ran = try Launched(Self.common(daemon, run: "10", step: "build") + ["--", "sh", "-c", "echo built"]).finish()
        #expect(ran.exited && ran.status == 0)
        #expect(ran.stdout == "built\n")
        let warnings = ran.stderr.split(separator: "\n")
        #expect(warnings.count == 2 && warnings.allSatisfy { $0.hasPrefix("lookout: warning: cannot reach the daemon at \(daemon.url)") })
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".json") }.count == 2)
        // A file that is not an event is set aside, never lost, and never blocks the others.
        try Data("{\"type\":\"bogus\"}\n".utf8).write(to: URL(fileURLWithPath: spool + "/00000000000000000001-bad.json"))
        // The spool is a trust boundary: a symbolic link (to a file the daemon may read but the
        // writer may not), a FIFO (which would block a reader) and a file over the body limit
        // are refused unread; the log names them, never what they hold.
        let secret = daemon.data + "/secret.json"
        try Data(#"{"type":"note","pipeline":"p","run_id":"leak","message":"s3cr3t-value"}"#.utf8).write(to: URL(fileURLWithPath: secret))
        try FileManager.default.createSymbolicLink(atPath: spool + "/00000000000000000002-link.json", withDestinationPath: secret)
        #expect(mkfifo(spool + "/00000000000000000003-fifo.json", 0o640) == 0)
        try Data(repeating: UInt8(ascii: " "), count: 2 << 20).write(to: URL(fileURLWithPath: spool + "/00000000000000000004-huge.json"))

        let strictMarker = daemon.data + "/ran-anyway"
        let strict = try Launched(Self.common(daemon, run: "10", step: "deploy") + ["--strict", "--", "touch", strictMarker]).finish()
        #expect(strict.exited && strict.status == 1)
        #expect(!FileManager.default.fileExists(atPath: strictMarker), "--strict does not start the command it cannot report")

        try await daemon.restart()
        try await Harness.waitUntil(seconds: 15, "the spooled step") {
            (try? await Self.step(daemon, run: "10", "build"))??["result"] as? String == "success"
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).filter { $0.hasSuffix(".json") }.isEmpty)
        for name in ["1-bad", "2-link", "3-fifo", "4-huge"] {
            let path = spool + "/rejected/0000000000000000000" + name + ".json"
            var status = stat()
            #expect(lstat(path, &status) == 0, "\(name) was not set aside")
        }
        let scrape = try await Harness.get(daemon.url + "/metrics").body
        #expect(scrape.contains(#"lookout_events_spool_files_total{result="imported"} 2"#))
        #expect(scrape.contains(#"lookout_events_spool_files_total{result="rejected"} 4"#), "\(scrape)")
        #expect(scrape.contains(#"lookout_component_errors_total{component="events",error_type="spool_rejected"} 4"#), "\(scrape)")
        let log = daemon.log
        #expect(log.contains("a spooled file is refused; moved aside"))
        #expect(log.contains("a symbolic link, not a regular file") && log.contains("not a regular file")
                    && log.contains("more than 1048576") && log.contains("not a valid event"), "\(log)")
        #expect(!log.contains("s3cr3t") && !log.contains("bogus"), "the log echoes a spooled file's content")
        let leaked = try await Harness.get(daemon.url + "/api/v1/runs/leak")
        #expect(leaked.status == 404, "a symbolic link's target was imported")
    }
}
