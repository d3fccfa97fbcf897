import Collectors
import Logging
import LookoutSupport

/// Durations as written in Lookout's flags and YAML (`10s`, `500ms`, `1m`, `1.5s`, `12h`, `90d`),
/// and in `--since -2d`: a number and one unit. Prometheus' own notation (`1h30m`, rule files and
/// PromQL) is `PrometheusDuration`, in the PromQL module.
enum DurationText {
    /// The longest duration a setting takes unless it says otherwise, a day: anything longer is
    /// surely a typo for a timeout or an interval.
    static let maximum: Duration = .seconds(86_400)

    /// The duration `text` denotes, or nil when it is not one or is longer than `maximum`.
    static func parse(_ text: String, maximum: Duration = DurationText.maximum) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" must not be read as minutes followed by a stray "s".
            if suffix == "s", number.hasSuffix("m") { continue }
            guard let value = Double(number), value.isFinite, value >= 0, value * scale <= maximum.seconds else {
                return nil
            }
            return .nanoseconds(Int64((value * scale * 1e9).rounded()))
        }
        return nil
    }
}

/// Log levels as written in flags and YAML, node_exporter's names plus swift-log's.
enum LogLevelText {
    /// The accepted words, for error messages.
    static let choices = "debug, info, warn, error"

    /// The level `text` names, or nil.
    static func parse(_ text: String) -> Logger.Level? {
        switch text.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "notice": .notice
        case "warn", "warning": .warning
        case "error": .error
        case "critical": .critical
        default: nil
        }
    }
}

/// A setting's value that cannot be used; `message` says why, for the key or flag to prefix.
struct SettingProblem: Error {
    /// What is wrong with the value.
    var message: String
}

/// The checks every setting gets, whether it comes from a flag or from the YAML file, so both
/// give the same words for the same mistake.
enum SettingValue {
    /// `web.listen-address`.
    static func listenAddress(_ text: String) throws(SettingProblem) -> String {
        do {
            _ = try ListenAddress(parsing: text)
        } catch {
            throw SettingProblem(message: error.message)
        }
        return text
    }

    /// `web.telemetry-path`: an absolute path.
    static func telemetryPath(_ text: String) throws(SettingProblem) -> String {
        guard text.hasPrefix("/") else { throw SettingProblem(message: "must start with /, got \"\(text)\"") }
        return text
    }

    /// `web.max-requests`: a count, 0 for no limit.
    static func maxRequests(_ text: String) throws(SettingProblem) -> Int {
        guard let value = Int(text), value >= 0 else {
            throw SettingProblem(message: "expected a non-negative integer, got \"\(text)\"")
        }
        return value
    }

    /// `web.max-connections`: from 1 to 65536 connections.
    static func maxConnections(_ text: String) throws(SettingProblem) -> Int {
        guard let value = Int(text), (1...65_536).contains(value) else {
            throw SettingProblem(message: "expected an integer from 1 to 65536, got \"\(text)\"")
        }
        return value
    }

    /// `query.max-concurrency`: from 1 to 1000 queries at once.
    static func queryConcurrency(_ text: String) throws(SettingProblem) -> Int {
        guard let value = Int(text), (1...1000).contains(value) else {
            throw SettingProblem(message: "expected an integer from 1 to 1000, got \"\(text)\"")
        }
        return value
    }

    /// `query.max-samples`: a positive count of samples.
    static func querySamples(_ text: String) throws(SettingProblem) -> Int {
        guard let value = Int(text), value > 0 else {
            throw SettingProblem(message: "expected a positive integer, got \"\(text)\"")
        }
        return value
    }

    /// `web.events-max-body-bytes`: from 1 KiB to 1 GiB.
    static func bodyBytes(_ text: String) throws(SettingProblem) -> Int {
        guard let value = Int(text), (1024...(1 << 30)).contains(value) else {
            throw SettingProblem(message: "expected a byte count from 1024 to 1073741824, got \"\(text)\"")
        }
        return value
    }

    /// `scrape.timeout`: a positive duration up to ``DurationText/maximum``.
    static func scrapeTimeout(_ text: String) throws(SettingProblem) -> Duration {
        guard let duration = DurationText.parse(text), duration > .zero else {
            throw SettingProblem(message: "expected a positive duration up to 24h like 10s or 500ms, got \"\(text)\"")
        }
        return duration
    }

    /// `log.level`.
    static func logLevel(_ text: String) throws(SettingProblem) -> Logger.Level {
        guard let level = LogLevelText.parse(text) else {
            throw SettingProblem(message: "expected one of \(LogLevelText.choices), got \"\(text)\"")
        }
        return level
    }

    /// Durations of the log shipping settings (`elasticsearch.timeout`, `shutdown.grace-period`, …):
    /// positive, up to ``DurationText/maximum``.
    static func duration(_ text: String) throws(SettingProblem) -> Duration {
        guard let duration = DurationText.parse(text), duration > .zero else {
            throw SettingProblem(message: "'\(text)' is not a duration like 500ms, 10s or 1m")
        }
        return duration
    }

    /// `events.retention`: `0` (keep forever), or a duration up to a century (`90d`, `12h`).
    static func retention(_ text: String) throws(SettingProblem) -> Duration? {
        if text == "0" { return nil }
        guard let duration = DurationText.parse(text, maximum: .seconds(36_500 * 86_400)), duration > .zero else {
            throw SettingProblem(message: "'\(text)' is not a retention like 90d or 12h (0 keeps events forever)")
        }
        return duration
    }

    /// `journal.match`: one term, `FIELD=VALUE` or `+`.
    static func journalMatch(_ term: String) throws(SettingProblem) -> String {
        guard term == "+" || term.firstIndex(of: "=").map({ $0 != term.startIndex }) == true else {
            throw SettingProblem(message: "'\(term)' is not FIELD=VALUE or +")
        }
        return term
    }

    /// `journal.priority`: a syslog priority name or number.
    static func journalPriority(_ text: String) throws(SettingProblem) -> Int {
        guard let level = JournalPriority.parse(text) else {
            throw SettingProblem(message: "'\(text)' is not a priority (\(JournalPriority.choices))")
        }
        return level
    }

    /// `journal.start`: `head`, `tail`, or a time as `--since` takes it.
    static func journalStart(_ text: String) throws(SettingProblem) -> JournalStart {
        switch text {
        case "head": return .head
        case "tail": return .tail
        default:
            guard let time = TimeText.parse(text, now: CivilTime.nowMicroseconds()), time >= 0 else {
                throw SettingProblem(message: "'\(text)' is not head, tail or a time")
            }
            return .since(UInt64(time))
        }
    }

    /// A flag's value checked by one of these rules, its problem tied to the flag's name.
    static func checked<Value>(
        _ text: String, flag: String, _ rule: (String) throws(SettingProblem) -> Value
    ) throws(ConfigurationError) -> Value {
        do {
            return try rule(text)
        } catch {
            throw ConfigurationError(key: flag, line: nil, message: error.message)
        }
    }
}
