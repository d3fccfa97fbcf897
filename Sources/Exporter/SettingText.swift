import Logging

/// Durations as written in flags and YAML: `10s`, `500ms`, `1m`, `1.5s`.
enum DurationText {
    /// The longest duration accepted, a day; anything longer is surely a typo.
    static let maximum: Duration = .seconds(86_400)

    /// The duration `text` denotes, or nil when it is not one (or is longer than ``maximum``).
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
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
