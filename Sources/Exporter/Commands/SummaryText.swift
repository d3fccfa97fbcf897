import DaemonSummary
import LookoutSupport
import PipelineEvents

/// How `lookout summary` draws a ``Summary`` for a person: a title line, then one short section
/// per subject (host, microVMs, runs, shipping, journal errors, warnings) as aligned tables with
/// two spaces between columns. With `colors`, headings are bold and states are coloured with
/// ANSI SGR codes (green good, yellow attention, red failing, dim idle); without, the same text
/// carries no escape at all, for pipes, files and `NO_COLOR`. Sections the daemon left out (a
/// collector off, the events API off) are left out here too.
struct SummaryText {
    /// Whether to colour.
    var colors: Bool
    /// The terminal's width: free text (an error message) is cut to fit; nil cuts nothing.
    var width: Int? = nil
    /// The local time zone's offset from UTC in seconds, for the clock in the title.
    var utcOffsetSeconds = 0
    /// The refresh interval of `--watch`, shown in the title.
    var refreshSeconds: Double? = nil

    /// The summary as lines of text, each ending in a newline.
    func render(_ summary: Summary) -> String {
        var lines = [title(summary)]
        for section in [host(summary), microVMs(summary), runs(summary), shipping(summary), journalErrors(summary), warnings(summary)]
        where !section.isEmpty {
            lines.append("")
            lines += section
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// One line saying that the daemon could not be asked, above the last summary it gave.
    func render(problem: String, last: Summary?) -> String {
        let line = paint(fit(problem, indent: 0), .red) + "\n"
        return last.map { line + "\n" + render($0) } ?? line
    }

    // MARK: - Sections

    private func title(_ summary: Summary) -> String {
        var line = paint(summary.hostname.isEmpty ? "lookout" : summary.hostname, .bold)
            + "  lookout \(summary.version)  " + Self.clock(summary.time, offsetSeconds: utcOffsetSeconds)
        if let refreshSeconds { line += paint("  every \(Self.duration(refreshSeconds))", .dim) }
        return line
    }

    private func host(_ summary: Summary) -> [String] {
        let host = summary.host
        var rows: [[Cell]] = []
        if let cpu = host.cpu {
            let window = cpu.windowSeconds.map { ", over \(Self.duration($0))" } ?? ""
            rows.append([Cell("cpu"), percentCell(cpu.busyPercent), Cell("\(cpu.cpus) cpus\(window)")])
        }
        if let memory = host.memory {
            rows.append([Cell("memory"), percentCell(memory.usedPercent),
                         Cell("\(Self.bytes(memory.usedBytes)) of \(Self.bytes(memory.totalBytes)) in use")])
        }
        if let load = host.load {
            let cpus = Double(host.cpu?.cpus ?? 0)
            let style: Style = cpus == 0 ? .plain : load.one >= 2 * cpus ? .red : load.one >= cpus ? .yellow : .plain
            rows.append([Cell("load"), Cell(Self.fixed(load.one, 2), style),
                         Cell("5m \(Self.fixed(load.five, 2)), 15m \(Self.fixed(load.fifteen, 2))")])
        }
        if let filesystem = host.fullestFilesystem {
            rows.append([Cell("filesystem"), percentCell(filesystem.usedPercent),
                         Cell("\(filesystem.mountpoint) (\(filesystem.fstype) on \(filesystem.device)), "
                              + "\(Self.bytes(filesystem.availableBytes)) free of \(Self.bytes(filesystem.sizeBytes))")])
        }
        guard !rows.isEmpty else { return [] }
        return [paint("HOST", .bold)] + table(rows)
    }

    private func microVMs(_ summary: Summary) -> [String] {
        guard let vms = summary.microVMs else { return [] }
        var rows = [["NAME", "STATE", "CPU", "MEMORY", "HYPERVISOR", "RESTART"].map { Cell($0, .dim) }]
        for vm in vms {
            let state: Style = switch vm.state {
            case "running": .green
            case "stopped": .dim
            default: .yellow
            }
            rows.append([
                Cell(vm.name), Cell(vm.state, state), Cell(vm.cpuPercent.map { Self.fixed($0, 1) + "%" } ?? "-"),
                Cell(vm.memoryBytes.map(Self.bytes) ?? "-"), Cell(vm.hypervisor ?? "-"),
                vm.restartPending ? Cell("pending", .yellow) : Cell(""),
            ])
        }
        return [paint("MICROVMS", .bold)] + table(rows)
    }

    private func runs(_ summary: Summary) -> [String] {
        guard let runs = summary.runs else { return [] }
        var lines = [paint("RUNS", .bold)]
        if runs.isEmpty { lines.append("  " + paint("none yet", .dim)) }
        for run in runs {
            let elapsed = run.durationSeconds ?? run.finished.map { Double($0 - run.started) / 1e6 }
                ?? (run.status == .running ? Double(summary.time - run.started) / 1e6 : nil)
            var parts = [paint("\(run.pipeline) \(run.runID)", .bold), paint(run.status.rawValue, Self.style(run.status))]
            if let elapsed { parts.append(Self.duration(elapsed)) }
            parts.append("started " + Self.ago(summary.time - run.started))
            if let revision = run.revision { parts.append(paint("rev \(revision)", .dim)) }
            for deployment in run.deployments {
                switch (deployment.type, deployment.result) {
                case (.rollback, _): parts.append(paint("rolled back \(deployment.stage)", .yellow))
                case (_, .success?): parts.append(paint("deployed \(deployment.stage)", .green))
                case (_, nil): parts.append(paint("deploying \(deployment.stage)", .cyan))
                case (_, let result?): parts.append(paint("deploy \(deployment.stage) \(result.rawValue)", Self.style(result)))
                }
            }
            if let simulation = run.simulation {
                let failed = simulation.failCount.map { ", \($0) failed" } ?? ""
                switch simulation.valid {
                case true?: parts.append(paint("dst valid" + failed, .green))
                case false?: parts.append(paint("dst invalid" + failed, .red))
                case nil: parts.append(paint("dst unknown" + failed, .yellow))
                }
            }
            lines.append("  " + parts.joined(separator: "  "))
            let steps = run.steps.map { step -> [Cell] in
                let duration = step.durationSeconds
                    ?? (step.finished == nil && run.status == .running ? step.started.map { Double(summary.time - $0) / 1e6 } : nil)
                let result: Cell = if let result = step.result {
                    Cell(result.rawValue, Self.style(result))
                } else {
                    run.status == .running ? Cell("running", .cyan) : Cell("unfinished", .yellow)
                }
                let exit = step.exitCode.flatMap { $0 == 0 ? nil : "exit \($0)" } ?? ""
                return [Cell(step.name), result, Cell(duration.map(Self.duration) ?? "-"), Cell(exit, .red)]
            }
            lines += table(steps, indent: 4)
        }
        return lines
    }

    private func shipping(_ summary: Summary) -> [String] {
        guard let shipping = summary.shipping else { return [] }
        // Two columns; the second is painted piece by piece, which is safe as it is never padded.
        var rows: [(label: String, text: String)] = []
        if let elasticsearch = shipping.elasticsearch {
            let lastSuccess = elasticsearch.lastSuccess.map { "last success " + Self.ago(summary.time - $0) }
            if elasticsearch.consecutiveFailures > 0 {
                let failures = elasticsearch.consecutiveFailures == 1 ? "1 request failed" : "\(elasticsearch.consecutiveFailures) requests failed in a row"
                rows.append(("elasticsearch", paint("failing", .red) + ", " + failures + (lastSuccess.map { ", " + $0 } ?? "")))
            } else if let lastSuccess {
                rows.append(("elasticsearch", paint("ok", .green) + ", " + lastSuccess))
            } else {
                rows.append(("elasticsearch", paint("waiting", .dim) + ", nothing shipped yet"))
            }
            var documents = "\(Self.count(elasticsearch.documentsAcknowledged)) acknowledged"
            if elasticsearch.documentsDeadLettered > 0 {
                documents += ", " + paint("\(Self.count(elasticsearch.documentsDeadLettered)) dead-lettered", .red)
            }
            rows.append(("documents", documents))
        }
        if let lag = shipping.journalLagSeconds {
            let waiting = shipping.journalWaiting.map { ", \(Self.count($0)) waiting" } ?? ""
            rows.append(("journal", "lag " + Self.duration(lag) + waiting))
        }
        if let events = shipping.events {
            let facts = [events.backlog.map { "\(Self.count($0)) not acknowledged" }, events.lagSeconds.map { "lag " + Self.duration($0) }]
            rows.append(("events", facts.compactMap { $0 }.joined(separator: ", ")))
        }
        if let lastError = shipping.elasticsearch?.lastError {
            let labelWidth = max(rows.map(\.label.count).max() ?? 0, "last error".count)
            let prefix = Self.ago(summary.time - lastError.time) + ": "
            let text = prefix + fit(lastError.message, indent: 2 + labelWidth + 2 + prefix.count)
            let failing = (shipping.elasticsearch?.consecutiveFailures ?? 0) > 0
            rows.append(("last error", paint(text, failing ? .red : .dim)))
        }
        return [paint("SHIPPING", .bold)] + table(rows.map { [Cell($0.label), Cell($0.text)] })
    }

    private func journalErrors(_ summary: Summary) -> [String] {
        guard let errors = summary.journalErrors else { return [] }
        let heading = paint("JOURNAL ERRORS", .bold)
            + paint("  priority err or worse, last \(Self.span(Int64(errors.windowSeconds * 1e6)))", .dim)
        guard !errors.units.isEmpty else { return [heading, "  " + paint("none", .dim)] }
        let rows = errors.units.map { unit in
            [Cell(Self.count(unit.entries), .red, alignRight: true), Cell(unit.unit.isEmpty ? "(no unit)" : unit.unit)]
        }
        return [heading] + table(rows)
    }

    private func warnings(_ summary: Summary) -> [String] {
        guard !summary.warnings.isEmpty else { return [] }
        return [paint("WARNINGS", .bold)] + summary.warnings.map { "  " + paint(fit($0, indent: 2), .yellow) }
    }

    // MARK: - Tables and colour

    /// A text style: an SGR parameter, or none.
    enum Style: String {
        case plain = ""
        case bold = "1"
        case dim = "2"
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
    }

    /// One table cell: its text, style and alignment.
    struct Cell {
        var text: String
        var style: Style
        var alignRight: Bool

        init(_ text: String, _ style: Style = .plain, alignRight: Bool = false) {
            self.text = text
            self.style = style
            self.alignRight = alignRight
        }
    }

    /// `text` in `style`, when colouring.
    private func paint(_ text: String, _ style: Style) -> String {
        guard colors, style != .plain, !text.isEmpty else { return text }
        return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
    }

    /// The rows as aligned lines: each column as wide as its widest cell (escapes do not count),
    /// two spaces between columns, no trailing blanks.
    private func table(_ rows: [[Cell]], indent: Int = 2) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].text.count : 0 }.max() ?? 0 }
        return rows.map { row in
            let used = row.lastIndex { !$0.text.isEmpty }.map { $0 + 1 } ?? 0
            let cells = row.prefix(used).enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.text.count)
                if cell.alignRight { return padding + paint(cell.text, cell.style) }
                return paint(cell.text, cell.style) + (column == used - 1 ? "" : padding)
            }
            return String(repeating: " ", count: indent) + cells.joined(separator: "  ")
        }
    }

    /// A percentage, yellow from 75 % and red from 90 %; `-` when unknown.
    private func percentCell(_ percent: Double?) -> Cell {
        guard let percent else { return Cell("-", .dim) }
        return Cell(Self.fixed(percent, 1) + "%", percent >= 90 ? .red : percent >= 75 ? .yellow : .plain)
    }

    /// `text` cut to the terminal's width after `indent` columns, ending in `…` when cut.
    private func fit(_ text: String, indent: Int) -> String {
        guard let width, text.count > width - indent, width - indent > 1 else { return text }
        return String(text.prefix(width - indent - 1)) + "…"
    }

    private static func style(_ status: PipelineRun.Status) -> Style {
        switch status {
        case .success: .green
        case .failure: .red
        case .running: .cyan
        case .stale, .cancelled: .yellow
        case .skipped: .dim
        }
    }

    private static func style(_ result: PipelineEvent.Result) -> Style {
        switch result {
        case .success: .green
        case .failure: .red
        case .cancelled: .yellow
        case .skipped: .dim
        }
    }

    // MARK: - Numbers

    /// `value` with exactly `decimals` decimals, rounded half away from zero.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * Double(scale)).rounded()
        guard abs(scaled) < 9e15 else { return "\(value)" }
        let units = Int(scaled)
        let sign = units < 0 ? "-" : ""
        let whole = abs(units) / scale, fraction = abs(units) % scale
        guard decimals > 0 else { return sign + String(whole) }
        let digits = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    /// A whole count, as digits.
    static func count(_ value: Double) -> String { fixed(value, 0) }

    /// Bytes in IEC units: `812 B`, `1.5 KiB`, `512 MiB`, `15.5 GiB`.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = value
        var unit = 0
        while abs(scaled) >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        if unit == 0 { return fixed(scaled, 0) + " B" }
        let text = fixed(scaled, abs(scaled) >= 100 ? 0 : 1)
        // 1023.7 MiB rounds to "1024": say 1.0 GiB instead.
        if text == "1024", unit < units.count - 1 { return "1.0 " + units[unit + 1] }
        return text + " " + units[unit]
    }

    /// A duration: `0.25s`, `7.5s`, `42s`, `12m03s`, `2h05m`, `3d04h`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        if seconds < 10 {
            var text = fixed(seconds, 2)
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text + "s"
        }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(Self.twoDigits(whole % 60))s" }
        if whole < 86400 { return "\(whole / 3600)h\(Self.twoDigits(whole / 60 % 60))m" }
        return "\(whole / 86400)d\(Self.twoDigits(whole / 3600 % 24))h"
    }

    /// `value` with a leading zero below 10: `05`.
    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// A span in its largest whole unit: `5s`, `12m`, `3h`, `2d`.
    static func span(_ microseconds: Int64) -> String {
        let seconds = max((microseconds + 500_000) / 1_000_000, 0)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86400 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }

    /// How long ago, coarsely: `5s ago`, `12m ago`, `3h ago`, `2d ago`.
    static func ago(_ microseconds: Int64) -> String { span(microseconds) + " ago" }

    /// The wall-clock time of `microseconds` since the epoch, `HH:MM:SS`, at `offsetSeconds` from UTC.
    static func clock(_ microseconds: Int64, offsetSeconds: Int) -> String {
        let civil = CivilTime(microseconds: microseconds + Int64(offsetSeconds) * 1_000_000)
        return "\(Self.twoDigits(civil.hour)):\(Self.twoDigits(civil.minute)):\(Self.twoDigits(civil.second))"
    }
}
