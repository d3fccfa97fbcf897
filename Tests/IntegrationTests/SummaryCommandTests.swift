import Foundation
import Testing

/// `lookout summary` against a live `lookout serve` on the fixture host with pipeline runs
/// posted: in a real pseudo-terminal (script(1)) it is coloured, through a pipe it is plain,
/// `--json` is the daemon's JSON, `--watch` redraws until Ctrl-C, and a daemon that is down is
/// one line and exit status 1.
@Suite(.serialized) struct SummaryCommandTests {
    static let events = [
        #"{"type":"run.started","pipeline":"lookout","run_id":"41","revision":"9f8e7d6"}"#,
        #"{"type":"step.finished","pipeline":"lookout","run_id":"41","step":"unit-tests","result":"success","duration_seconds":61.5}"#,
        #"{"type":"step.finished","pipeline":"lookout","run_id":"41","step":"build","result":"failure","exit_code":2,"duration_seconds":7.25}"#,
        #"{"type":"run.finished","pipeline":"lookout","run_id":"41","result":"failure","duration_seconds":80}"#,
        #"{"type":"run.started","pipeline":"lookout","run_id":"42"}"#,
        #"{"type":"step.finished","pipeline":"lookout","run_id":"42","step":"unit-tests","result":"success","duration_seconds":62}"#,
        #"{"type":"step.started","pipeline":"lookout","run_id":"42","step":"deploy-preprod"}"#,
    ].joined(separator: "\n")

    /// The daemon on the fixture host, with the runs posted; `stop` ends both.
    private static func daemon() async throws -> (daemon: EventsDaemon, stop: () -> Void) {
        let host = try Harness.fixtureHost()
        let daemon = try await EventsDaemon(token: "summary-token", serveArguments: host.flags)
        let posted = try await Harness.post(daemon.url + "/api/v1/events", body: events, headers: ["Authorization": "Bearer summary-token"])
        #expect(posted.body == "{\"stored\":7,\"duplicates\":0}\n")
        return (daemon, {
            daemon.stop()
            try? FileManager.default.removeItem(atPath: host.directory)
        })
    }

    /// Runs `command` (a program and its arguments) in a pseudo-terminal made by script(1), with
    /// `NO_COLOR` removed from the environment unless `noColor`; returns the exit status and what
    /// reached the terminal, line ends turned back from the terminal's CR LF.
    private static func inTerminal(_ command: [String], noColor: Bool = false) throws -> (status: Int32, screen: String) {
        let script = try Harness.tool("script")
        let environment = noColor ? ["env", "NO_COLOR=1", "TERM=xterm"] : ["env", "-u", "NO_COLOR", "TERM=xterm"]
        let line = (environment + command).map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        let result = try Harness.run(script, ["-qfec", line, "/dev/null"])
        return (result.status, result.stdout.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    @Test func aTerminalShowsTheRunsAndStepsInColourAndAPipeGetsPlainText() async throws {
        let (daemon, stop) = try await Self.daemon()
        defer { stop() }
        let summary = [Harness.lookoutBinary, "summary", "--url", daemon.url]

        let terminal = try Self.inTerminal(summary)
        #expect(terminal.status == 0)
        let screen = terminal.screen
        for shown in ["\u{1B}[1mRUNS\u{1B}[0m\n",
                      "\n  \u{1B}[1mlookout 42\u{1B}[0m  \u{1B}[36mrunning\u{1B}[0m  ",
                      "\n    unit-tests      \u{1B}[32msuccess\u{1B}[0m  1m02s\n",
                      "\n    deploy-preprod  \u{1B}[36mrunning\u{1B}[0m  ",
                      "\n  \u{1B}[1mlookout 41\u{1B}[0m  \u{1B}[31mfailure\u{1B}[0m  1m20s  started ",
                      "\n    unit-tests  \u{1B}[32msuccess\u{1B}[0m  1m02s\n",
                      "\n    build       \u{1B}[31mfailure\u{1B}[0m  7.25s  \u{1B}[31mexit 2\u{1B}[0m\n",
                      "\u{1B}[1mMICROVMS\u{1B}[0m\n",
                      "\n  web   \u{1B}[32mrunning\u{1B}[0m  ",
                      "\u{1B}[1mHOST\u{1B}[0m\n  cpu         "] {
            #expect(screen.contains(shown), "the screen lacks \(shown.debugDescription):\n\(screen)")
        }
        // Not watching: the cursor and the screen are left alone.
        #expect(!screen.contains("\u{1B}[?25l") && !screen.contains("\u{1B}[2J"))

        let piped = try Harness.run(Harness.lookoutBinary, Array(summary.dropFirst()))
        #expect(piped.status == 0 && piped.stderr == "")
        #expect(!piped.stdout.contains("\u{1B}"))
        #expect(piped.stdout.contains("\nRUNS\n  lookout 42  running  "))
        #expect(piped.stdout.contains("\n    build       failure  7.25s  exit 2\n"))

        for quiet in [try Self.inTerminal(summary, noColor: true), try Self.inTerminal(summary + ["--no-color"])] {
            #expect(quiet.status == 0)
            #expect(!quiet.screen.contains("\u{1B}"))
            #expect(quiet.screen.contains("\n    build       failure  7.25s  exit 2\n"))
        }
    }

    @Test func jsonIsTheDaemonsAnswerAndParses() async throws {
        let (daemon, stop) = try await Self.daemon()
        defer { stop() }
        let result = try Harness.run(Harness.lookoutBinary, ["summary", "--url", daemon.url, "--json", "--runs", "1"])
        #expect(result.status == 0 && result.stderr == "")
        #expect(result.stdout.hasSuffix("}\n") && result.stdout.filter { $0 == "\n" }.count == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json.keys.sorted() == ["host", "hostname", "journal_errors", "microvms", "runs", "shipping", "time", "version", "warnings"])
        let host = try #require(json["host"] as? [String: Any])
        #expect(host.keys.sorted() == ["cpu", "fullest_filesystem", "load", "memory"])
        #expect((host["cpu"] as? [String: Any])?["cpus"] as? Int == 12)
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.map { $0["run_id"] as? String } == ["42"])
        #expect((runs[0]["steps"] as? [[String: Any]])?.map { $0["name"] as? String } == ["unit-tests", "deploy-preprod"])
        let vms = try #require(json["microvms"] as? [[String: Any]])
        #expect(vms.map { "\($0["name"] as? String ?? "") \($0["state"] as? String ?? "") \($0["restart_pending"] as? Bool == true)" }
                == ["db running true", "idle stopped false", "web running false"])
        #expect(json["warnings"] as? [String] == [])
    }

    @Test func watchRedrawsInPlaceUntilInterrupted() async throws {
        let (daemon, stop) = try await Self.daemon()
        defer { stop() }
        let timeout = try Harness.tool("timeout")
        // SIGINT after 3 s, as Ctrl-C would; the exit status is lookout's own.
        let watched = try Self.inTerminal([timeout, "--preserve-status", "--foreground", "-s", "INT", "3",
                                           Harness.lookoutBinary, "summary", "--url", daemon.url, "--watch", "0.5"])
        #expect(watched.status == 0)
        let screen = watched.screen
        #expect(screen.hasPrefix("\u{1B}[?25l\u{1B}[H\u{1B}[2J"))
        let frames = screen.components(separatedBy: "\u{1B}[H").count - 2
        #expect(frames >= 3, "\(frames) frames in 3 s at 0.5 s:\n\(screen)")
        #expect(screen.contains("  every 0.5s\u{1B}[0m\u{1B}[K\n"))
        #expect(screen.contains("\u{1B}[1mRUNS\u{1B}[0m\u{1B}[K\n"))
        #expect(screen.hasSuffix("\u{1B}[J\u{1B}[?25h\n"))
    }

    @Test func aDaemonThatIsDownIsOneLineAndExitStatus1() throws {
        let url = "http://127.0.0.1:\(try Harness.freePort())"
        for extra in [[], ["--json"], ["--watch", "1"]] {
            let result = try Harness.run(Harness.lookoutBinary, ["summary", "--url", url] + extra)
            #expect(result.status == 1)
            #expect(result.stdout == "")
            #expect(result.stderr.hasPrefix("lookout: error: cannot reach the daemon at \(url): "))
            #expect(result.stderr.filter { $0 == "\n" }.count == 1 && result.stderr.hasSuffix("\n"))
        }
        let wrong = try Harness.run(Harness.lookoutBinary, ["summary", "--runs", "51"])
        #expect(wrong.status != 0 && wrong.stderr.filter { $0 == "\n" }.count == 1)
    }
}
