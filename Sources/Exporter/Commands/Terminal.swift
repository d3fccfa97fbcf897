#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// The terminal while `--watch` redraws: the cursor hidden and each frame drawn from the top
/// left over the last one, line by line (no full clear, so nothing flickers); Ctrl-C (or
/// SIGTERM) shows the cursor again below the last frame and exits 0.
final class Screen {
    private static let showCursor = "\u{1B}[?25h"
    private var signals: [any DispatchSourceSignal] = []

    /// Clears the screen, hides the cursor and takes over SIGINT and SIGTERM.
    func start() {
        StandardOutput.show("\u{1B}[?25l\u{1B}[H\u{1B}[2J")
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                StandardOutput.show(Self.showCursor + "\n")
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
        StandardOutput.show(output + "\u{1B}[J")
    }
}

extension SummaryText {
    /// This renderer with the terminal's current width (it may have been resized) when
    /// `terminal`, and the local time zone's offset.
    func with(terminal: Bool) -> SummaryText {
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
