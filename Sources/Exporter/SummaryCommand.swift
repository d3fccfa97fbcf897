import ArgumentParser
import Curl
import Dispatch
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
            throw ExitCode.failure
        }
        let daemon = Daemon(base: base, runs: runs, timeout: limit)
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
            if json { writeStandardOutput(answer.line) }
            last = answer.summary
        }
        guard let watch else {
            if !json { writeStandardOutput(text.with(terminal: terminal).render(last)) }
            return
        }

        let screen = terminal && !json ? Screen() : nil
        screen?.start()
        var problem: String?
        while true {
            if !json {
                let view = text.with(terminal: terminal)
                let frame = problem.map { view.render(problem: $0, last: last) } ?? view.render(last)
                if let screen { screen.draw(frame) } else { writeStandardOutput(frame + "\n") }
            }
            try? await Task.sleep(for: .milliseconds(Int64(watch * 1000)))
            switch await daemon.fetch() {
            case .success(let answer):
                last = answer.summary
                problem = nil
                if json { writeStandardOutput(answer.line) }
            case .failure(let failure):
                // Keep watching: the daemon may be restarting.
                if json { printError(failure.message) } else { problem = failure.message }
            }
        }
    }
}

/// Writes all of `text` to file descriptor 1, unbuffered, so that a frame reaches the terminal
/// whole and at once.
private func writeStandardOutput(_ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return  // a closed pipe: nothing more can be shown
            }
            offset += written
        }
    }
}

/// The daemon `lookout summary` asks.
private struct Daemon: Sendable {
    /// Its base URL, without a trailing slash.
    let base: String
    /// `?runs=`.
    let runs: Int
    /// How long a request may take.
    let timeout: Duration

    /// An answer: the JSON as sent, and what it says.
    struct Answer: Sendable {
        var body: [UInt8]
        var summary: Summary

        /// The JSON as one line, newline included.
        var line: String { String(decoding: body, as: UTF8.self) + (body.last == 0x0A ? "" : "\n") }
    }

    /// Why there is no answer, in one line.
    struct Problem: Error {
        var message: String
    }

    /// Asks for one summary.
    func fetch() async -> Result<Answer, Problem> {
        let request = HTTPRequest(
            method: "GET", url: base + SummaryEndpoint.path + "?runs=\(runs)", headers: ["Accept: application/json"], body: [])
        let response: HTTPResponse
        do {
            response = try await CurlEasy().perform(request, options: TransferOptions(requestTimeout: timeout, connectTimeout: timeout))
        } catch {
            return .failure(Problem(message: "cannot reach the daemon at \(base): \(error)"))
        }
        let text = String(decoding: response.body, as: UTF8.self).trimmingSuffix("\n")
        guard response.status == 200 else {
            return .failure(Problem(message: "the daemon at \(base) answered HTTP \(response.status): \(text.prefix(200))"))
        }
        do {
            return .success(Answer(body: response.body, summary: try Summary(json: try JSONValue.parse(response.body))))
        } catch {
            return .failure(Problem(message: "the daemon at \(base) sent a summary this lookout cannot read: \(error)"))
        }
    }
}

/// The terminal while `--watch` redraws: the cursor hidden and each frame drawn from the top
/// left over the last one, line by line (no full clear, so nothing flickers); Ctrl-C (or
/// SIGTERM) shows the cursor again below the last frame and exits 0.
private final class Screen {
    private static let showCursor = "\u{1B}[?25h"
    private var signals: [any DispatchSourceSignal] = []

    /// Clears the screen, hides the cursor and takes over SIGINT and SIGTERM.
    func start() {
        writeStandardOutput("\u{1B}[?25l\u{1B}[H\u{1B}[2J")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                writeStandardOutput(Self.showCursor + "\n")
                exit(0)
            }
            source.resume()
            signals.append(source)
        }
    }

    /// Draws `frame` over the previous one: home, each line then clear to its end, then clear
    /// below, so a shorter frame leaves nothing of a longer one. Lines past the bottom of the
    /// terminal are left out: they would scroll the top of the frame away.
    func draw(_ frame: String) {
        var lines = frame.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        if let rows = terminalSize()?.ws_row, rows > 1, lines.count >= Int(rows) { lines = lines.prefix(Int(rows) - 1) }
        var output = "\u{1B}[H"
        for line in lines {
            output += line + "\u{1B}[K\n"
        }
        writeStandardOutput(output + "\u{1B}[J")
    }
}

extension SummaryText {
    /// This renderer with the terminal's current width (it may have been resized) when
    /// `terminal`, and the local time zone's offset.
    fileprivate func with(terminal: Bool) -> SummaryText {
        var text = self
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        text.utcOffsetSeconds = local.tm_gmtoff
        if terminal, let columns = terminalSize()?.ws_col, columns > 0 { text.width = Int(columns) }
        return text
    }
}

/// The size of the terminal on standard output, tty_ioctl(4) TIOCGWINSZ; nil when it is none.
private func terminalSize() -> winsize? {
    var size = winsize()
    return ioctl(1, UInt(TIOCGWINSZ), &size) == 0 ? size : nil
}
