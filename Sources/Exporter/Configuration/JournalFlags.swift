import ArgumentParser
import Collectors
import LookoutSupport

/// The journal source flags, shared by `lookout journal` and `lookout serve`.
struct JournalFlags: ParsableArguments {
    @Option(name: [.customLong("journal.directory"), .customLong("directory")],
            help: "Read the journal files in this directory instead of the local journal; repeatable.")
    var directories: [String] = []

    @Option(name: [.customLong("journal.file"), .customLong("file")], help: "Read this journal file; repeatable.")
    var files: [String] = []

    @Option(name: [.customLong("journal.match"), .customLong("match")],
            help: "A journalctl match, FIELD=VALUE, or + between alternatives; repeatable.")
    var matches: [String] = []

    @Option(name: [.customLong("journal.unit"), .customLong("unit")],
            help: "Only entries of this unit (sshd means sshd.service); repeatable.")
    var units: [String] = []

    @Option(name: [.customLong("journal.priority"), .customLong("priority")],
            help: "Only entries at least this important: emerg, alert, crit, err, warning, notice, info, debug or 0-7.")
    var priority: String?

    /// The selection these flags describe, on their own.
    func selection() throws(ConfigurationError) -> JournalSelection {
        var selection = JournalSelection()
        try apply(to: &selection)
        return selection
    }

    /// Overrides what these flags set in `selection` (from the configuration file).
    func apply(to selection: inout JournalSelection) throws(ConfigurationError) {
        guard directories.isEmpty || files.isEmpty else {
            throw ConfigurationError(key: "--journal.file", line: nil, message: "cannot be combined with --journal.directory")
        }
        if !directories.isEmpty { selection.source = .directories(directories) }
        if !files.isEmpty { selection.source = .files(files) }
        if !matches.isEmpty {
            for term in matches { _ = try SettingValue.checked(term, flag: "--journal.match", SettingValue.journalMatch) }
            selection.matches = matches
        }
        if !units.isEmpty { selection.units = units }
        if let priority {
            selection.maximumPriority = try SettingValue.checked(priority, flag: "--journal.priority", SettingValue.journalPriority)
        }
    }
}

/// Syslog priority names as journalctl accepts them.
enum JournalPriority {
    /// The accepted words, for error messages.
    static let choices = "emerg, alert, crit, err, warning, notice, info, debug or 0-7"
    private static let names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    /// The number `text` names, or nil.
    static func parse(_ text: String) -> Int? {
        if let number = Int(text), (0...7).contains(number) { return number }
        let aliases = ["panic": 0, "error": 3, "warn": 4]
        return names.firstIndex(of: text.lowercased()) ?? aliases[text.lowercased()]
    }
}

/// Times as journalctl's --since takes them, in UTC: `2026-11-26 10:00:00`, `2026-11-26`,
/// RFC 3339 (`2026-11-26T10:00:00Z`, `…+01:00`), `@1764150000` (Unix seconds), `-1h`, `-2d`, `now`.
enum TimeText {
    /// Microseconds since the epoch for `text`, relative forms counted back from `now`.
    static func parse(_ text: String, now: Int64) -> Int64? {
        if text == "now" { return now }
        if text.hasPrefix("@"), let seconds = Double(text.dropFirst()), seconds.isFinite, seconds >= 0 {
            return Int64(seconds * 1e6)
        }
        if text.hasPrefix("-") {
            if let duration = DurationText.parse(String(text.dropFirst()), maximum: .seconds(36_500 * 86_400)) {
                return now - duration.components.seconds * 1_000_000 - duration.components.attoseconds / 1_000_000_000_000
            }
            return nil
        }
        return CivilTime.parseMicroseconds(text)
    }
}
