import ArgumentParser
import Rules

/// How the daemon evaluates alert rules over its own history and where it sends the alerts
/// (`--rules.*`, `--alertmanager.*`).
struct RuleSettings: Sendable, Equatable {
    /// `--rules.file`: rule files (globs allowed), evaluated besides the defaults.
    var files: [String] = []
    /// `--rules.defaults`: evaluate the default rules compiled into the binary.
    var defaults = true
    /// `--rules.evaluation-interval`: the history's step, and the interval of groups that name none.
    var evaluationInterval: Duration = .seconds(15)
    /// `--rules.history-retention`: how far back the history (and so a range selector) reaches.
    var historyRetention: Duration = .seconds(3600)
    /// `--web.external-url`: what templates see as `$externalURL` and alerts carry as their
    /// generator URL.
    var externalURL = ""
    /// `--alertmanager.url`: Alertmanagers to send alerts to (their base URL); none: no notifications.
    var alertmanagerURLs: [String] = []
    /// `--alertmanager.resend-delay`: how often a still-firing alert is sent again.
    var resendDelay: Duration = .seconds(60)
    /// `--alertmanager.timeout`: the timeout of one request to an Alertmanager.
    var alertmanagerTimeout: Duration = .seconds(10)
    /// `--query.timeout`: the longest a query to `/api/v1/query` may take, waiting included
    /// (Prometheus' default).
    var queryTimeout: Duration = .seconds(120)
    /// `--query.max-concurrency`: queries evaluated at once; more wait for a turn.
    var queryMaxConcurrency = 20
    /// `--query.max-samples`: the most samples one query may load.
    var queryMaxSamples = 50_000_000

    /// Whether any rule is evaluated at all.
    var evaluates: Bool { defaults || !files.isEmpty }

    /// What the rule engine takes of these settings.
    var engine: RuleEngine.Settings {
        RuleEngine.Settings(evaluationInterval: evaluationInterval, historyRetention: historyRetention, externalURL: externalURL,
                            resendDelay: resendDelay)
    }
}

/// The flags of `lookout serve` for rule evaluation and Alertmanager notifications. Every flag is
/// optional so that only the ones given override the configuration file.
struct RuleFlags: ParsableArguments {
    @Option(name: .customLong("rules.file"), help: "Prometheus rule file to evaluate (globs allowed); repeatable.")
    var files: [String] = []

    @Flag(name: .customLong("rules.defaults"), inversion: .prefixedNo,
          help: "Evaluate Lookout's default rules (`lookout rules print-defaults`) (default: enabled).")
    var defaults: Bool?

    @Option(name: .customLong("rules.evaluation-interval"), help: "Step of the in-memory history and default group interval (default 15s).")
    var evaluationInterval: String?

    @Option(name: .customLong("rules.history-retention"), help: "How long the in-memory history keeps samples, e.g. 1h (default 1h; most 24h).")
    var historyRetention: String?

    @Option(name: .customLong("web.external-url"), help: "The URL Lookout is reached at, for $externalURL in templates and alert generator URLs.")
    var externalURL: String?

    @Option(name: .customLong("alertmanager.url"), help: "Alertmanager base URL (http://host:9093) to send alerts to; repeatable.")
    var alertmanagerURLs: [String] = []

    @Option(name: .customLong("alertmanager.resend-delay"), help: "How often firing alerts are sent again (default 1m).")
    var resendDelay: String?

    @Option(name: .customLong("alertmanager.timeout"), help: "Timeout of one request to an Alertmanager (default 10s).")
    var alertmanagerTimeout: String?

    @Option(name: .customLong("query.timeout"), help: "Longest a query to /api/v1/query may take, waiting included (default 2m).")
    var queryTimeout: String?

    @Option(name: .customLong("query.max-concurrency"), help: "Queries evaluated at once; more wait for a turn (default 20).")
    var queryMaxConcurrency: String?

    @Option(name: .customLong("query.max-samples"), help: "Most samples one query may load (default 50000000).")
    var queryMaxSamples: String?

    /// Overrides what these flags set in `settings`.
    func apply(to settings: inout RuleSettings) throws(ConfigurationError) {
        if !files.isEmpty { settings.files = files }
        if let defaults { settings.defaults = defaults }
        if let evaluationInterval {
            settings.evaluationInterval = try SettingValue.checked(evaluationInterval, flag: "--rules.evaluation-interval", SettingValue.duration)
        }
        if let historyRetention {
            settings.historyRetention = try SettingValue.checked(historyRetention, flag: "--rules.history-retention", SettingValue.duration)
        }
        if let externalURL { settings.externalURL = externalURL }
        if !alertmanagerURLs.isEmpty { settings.alertmanagerURLs = alertmanagerURLs }
        if let resendDelay { settings.resendDelay = try SettingValue.checked(resendDelay, flag: "--alertmanager.resend-delay", SettingValue.duration) }
        if let alertmanagerTimeout {
            settings.alertmanagerTimeout = try SettingValue.checked(alertmanagerTimeout, flag: "--alertmanager.timeout", SettingValue.duration)
        }
        if let queryTimeout { settings.queryTimeout = try SettingValue.checked(queryTimeout, flag: "--query.timeout", SettingValue.duration) }
        if let queryMaxConcurrency {
            settings.queryMaxConcurrency = try SettingValue.checked(queryMaxConcurrency, flag: "--query.max-concurrency", SettingValue.queryConcurrency)
        }
        if let queryMaxSamples {
            settings.queryMaxSamples = try SettingValue.checked(queryMaxSamples, flag: "--query.max-samples", SettingValue.querySamples)
        }
        try settings.check()
    }
}

extension RuleSettings {
    /// The history must hold at least one step, and a step must be a whole number of milliseconds
    /// of at least one second (rounds are kept per step).
    func check(line: Int? = nil) throws(ConfigurationError) {
        guard evaluationInterval >= .seconds(1) else {
            throw ConfigurationError(key: "rules.evaluation-interval", line: line, message: "must be at least 1s")
        }
        guard historyRetention >= evaluationInterval else {
            throw ConfigurationError(key: "rules.history-retention", line: line, message: "must be at least the evaluation interval")
        }
        for url in alertmanagerURLs where !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw ConfigurationError(key: "alertmanager.url", line: line, message: "\"\(url)\" is not an http:// or https:// URL")
        }
    }
}
