import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import DaemonSummary
import LookoutSupport

/// `lookout summary`: asks a running daemon for `GET /api/v1/summary` and shows it to a person —
/// in colour on a terminal, as plain text when piped (or with `--no-color`, or `NO_COLOR` set),
/// as the daemon's JSON with `--json`. `--watch N` redraws it in place every N seconds until
/// Ctrl-C (on a pipe, it prints one summary after another). A daemon that cannot be reached is
/// one line on standard error and exit status 1.
struct SummaryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Show a running `lookout serve`'s host, microVMs, pipeline runs, shipping and errors.",
        discussion: """
            The daemon URL comes from --url or LOOKOUT_URL (default http://127.0.0.1:10100). Colours are \
            used when standard output is a terminal, unless --no-color is given or NO_COLOR is set.
            """)

    @Option(help: "The daemon's base URL (default LOOKOUT_URL, else http://127.0.0.1:10100).")
    var url: String?

    @OptionGroup var access: DaemonAccessOptions

    @Flag(help: "Print the daemon's JSON instead (one line per summary).")
    var json = false

    @Option(help: ArgumentHelp("Redraw every N seconds until Ctrl-C.", valueName: "N"))
    var watch: Double?

    @Option(help: ArgumentHelp("How many pipeline runs to show (0 to 50).", valueName: "N"))
    var runs = SummaryEndpoint.defaultRuns

    @Flag(name: .customLong("no-color"), help: "Never colour the output.")
    var noColor = false

    @Option(help: "How long to wait for the daemon, e.g. 15s.")
    var timeout: String = "15s"

    func validate() throws {
        guard (0...SummaryEndpoint.maximumRuns).contains(runs) else {
            throw ValidationError("--runs must be from 0 to \(SummaryEndpoint.maximumRuns), got \(runs)")
        }
        if let watch, !(watch.isFinite && watch > 0) {
            throw ValidationError("--watch must be a positive number of seconds, got \(watch)")
        }
    }

    func run() async throws {
        let environment = ProcessEnvironment()
        let base = (url ?? environment["LOOKOUT_URL"] ?? "http://127.0.0.1:10100").trimmingSuffix("/")
        let limit: Duration
        do {
            limit = try SettingValue.checked(timeout, flag: "--timeout", SettingValue.duration)
        } catch {
            printError("\(error)")
            throw ExitCode(error.exitCode)
        }
        let access: DaemonAccess
        do {
            access = try self.access.resolve(environment)
        } catch {
            printError("\(error)")
            throw ExitCode(error.exitCode)
        }
        let daemon = SummaryClient(base: base, runs: runs, timeout: limit, access: access)
        let terminal = isatty(1) == 1
        var text = SummaryText(colors: terminal && !noColor && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb")
        text.refreshSeconds = watch

        // The first answer decides: a daemon that is down is an error even when watching.
        var last: Summary
        switch await daemon.fetch() {
        case .failure(let problem):
            printError(problem.message)
            throw ExitCode.failure
        case .success(let answer):
            if json { StandardOutput.show(answer.line) }
            last = answer.summary
        }
        guard let watch else {
            if !json { StandardOutput.show(text.with(terminal: terminal).render(last)) }
            return
        }

        let screen = terminal && !json ? Screen() : nil
        screen?.start()
        var problem: String?
        while true {
            if !json {
                let view = text.with(terminal: terminal)
                let frame = problem.map { view.render(problem: $0, last: last) } ?? view.render(last)
                if let screen { screen.draw(frame) } else { StandardOutput.show(frame + "\n") }
            }
            try? await Task.sleep(for: .milliseconds(Int64(watch * 1000)))
            switch await daemon.fetch() {
            case .success(let answer):
                last = answer.summary
                problem = nil
                if json { StandardOutput.show(answer.line) }
            case .failure(let failure):
                // Keep watching: the daemon may be restarting.
                if json { printError(failure.message) } else { problem = failure.message }
            }
        }
    }
}
