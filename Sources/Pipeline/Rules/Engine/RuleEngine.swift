import Logging
import LookoutSupport
import MetricModel
import PromQL
import Shipping
import SeriesHistory
import ServiceLifecycle
import Synchronization

/// The daemon's rule evaluation: every `--rules.evaluation-interval` it scrapes its own
/// collectors into a ``SampleHistory`` (one round per step, `--rules.history-retention` long),
/// with the `job="lookout"` and `instance="HOST:PORT"` labels a Prometheus scrape would add (so
/// that the same rules and gate checks read the same series here and in Prometheus),
/// then evaluates each rule group that is due over that history and the series rules recorded,
/// with Prometheus' alert state machine, and hands due alerts to an ``AlertSink`` (the
/// Alertmanager notifier).
///
/// As a collector (`rules`) it exposes `ALERTS`, `ALERTS_FOR_STATE` and its own statistics; it
/// also answers the instant queries of `GET /api/v1/query` and the alert list of
/// `GET /api/v1/alerts`, which `lookout gate` reads.
package final class RuleEngine: Service, MetricCollector {
    /// How the engine evaluates (`--rules.*`, `--alertmanager.resend-delay`).
    package struct Settings: Sendable, Equatable {
        /// The history's step, and the interval of groups that name none.
        package var evaluationInterval: Duration
        /// How far back the history (and so a range selector) reaches.
        package var historyRetention: Duration
        /// What templates see as `$externalURL`, and the base of alerts' generator URLs.
        package var externalURL: String
        /// How often a still-firing alert is sent again.
        package var resendDelay: Duration

        /// The settings with their values.
        package init(evaluationInterval: Duration, historyRetention: Duration, externalURL: String, resendDelay: Duration) {
            self.evaluationInterval = evaluationInterval
            self.historyRetention = historyRetention
            self.externalURL = externalURL
            self.resendDelay = resendDelay
        }
    }

    /// The collector's name, `rules`.
    package let name = "rules"
    /// How it evaluates.
    package let settings: Settings
    /// What rules read: one round of every collector per step.
    package let history: SampleHistory
    private let registry: CollectorRegistry
    private let notifier: (any AlertSink)?
    private let scrapeTimeout: Duration
    /// Labels added to every recorded sample that lacks them: `job` and `instance`.
    package let targetLabels: [Label]
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var rules: RuleSet
        let recorded = SeriesStore()
        /// When each group was last evaluated, milliseconds.
        var lastEvaluation: [Int64?]
        var evaluations: [Int] = []
        var failures: [Int] = []
        var lastDuration: [Double] = []
        /// The newest `ALERTS` and `ALERTS_FOR_STATE` samples.
        var alertSamples: [(name: String, labels: [Label], value: Double)] = []
        var lastRoundSeconds = 0.0
        /// The history's series and approximate bytes after the last round, which is the only
        /// thing that changes them: a scrape reports them without walking the history.
        var historySeries = 0
        var historyBytes = 0
    }

    /// The engine for `groups`; `registry` is scraped for the history (without this collector),
    /// due alerts go to `notifier`. Throws when a rule's expression or template cannot be used.
    package init(groups: [(group: RuleGroup, file: String)], settings: Settings, registry: CollectorRegistry,
                notifier: (any AlertSink)?, scrapeTimeout: Duration, targetLabels: [Label], logger: Logger) throws(RuleLoadError)
    {
        let step = settings.evaluationInterval
        let rules = try RuleSet(groups: groups, defaultIntervalMilliseconds: step.milliseconds, externalURL: settings.externalURL)
        self.settings = settings
        history = SampleHistory(step: step, retention: settings.historyRetention)
        self.registry = registry
        self.notifier = notifier
        self.scrapeTimeout = min(scrapeTimeout, step)
        self.targetLabels = targetLabels
        self.logger = logger
        let count = rules.groups.count
        state = Mutex(State(rules: rules, lastEvaluation: Array(repeating: nil, count: count),
                            evaluations: Array(repeating: 0, count: count), failures: Array(repeating: 0, count: count),
                            lastDuration: Array(repeating: 0, count: count)))
    }

    /// Loads the rule files `patterns` match (globs) after the default rules when `defaults`:
    /// the first problem is one line naming the file, and the rule when there is one.
    package static func loadGroups(defaults: Bool, patterns: [String]) throws(RuleFilesError) -> [(group: RuleGroup, file: String)] {
        var groups: [(group: RuleGroup, file: String)] = []
        var sources: [(name: String, checked: (groups: [RuleGroup]?, messages: [String]))] = []
        if defaults {
            sources.append((DefaultRules.name, RuleFile.checked(yaml: DefaultRules.text, name: DefaultRules.name)))
        }
        for pattern in patterns {
            let paths = Glob.paths(matching: pattern)
            guard !paths.isEmpty else { throw RuleFilesError(message: "no file matches \(pattern)") }
            for path in paths { sources.append((path, RuleFile.checked(path: path))) }
        }
        for (name, checked) in sources {
            guard let loaded = checked.groups else { throw RuleFilesError(message: checked.messages.first ?? "\(name) cannot be used") }
            groups += loaded.map { ($0, name) }
        }
        return groups
    }

    /// Scrapes and evaluates once per step until shutdown.
    package func run() async throws {
        let clock = ContinuousClock()
        let selection = Set(registry.collectors.map(\.name)).subtracting([name])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = clock.now
            let families = await registry.scrape(timeout: scrapeTimeout, selection: selection)
            evaluate(families, at: CivilTime.nowMicroseconds() / 1000)
            // Asleep until the next round: a graceful shutdown or cancellation ends the sleep at once,
            // so an idle daemon wakes once a round, not to poll.
            let wake = started + settings.evaluationInterval
            guard (try? await cancelWhenGracefulShutdown { try await Task.sleep(until: wake, clock: clock) }) != nil else { return }
        }
    }

    /// Records one round of `families` at `time` (milliseconds) and evaluates the groups due.
    package func evaluate(_ families: [MetricFamily], at time: Int64) {
        let clock = ContinuousClock()
        let roundStarted = clock.now
        let (changes, notifications) = state.withLock { state in
            // Under the lock: a query's series handles stay good while it runs.
            history.record(families, at: time, adding: targetLabels)
            state.historySeries = history.seriesCount
            state.historyBytes = history.approximateBytes
            var changes: [(rule: String, error: String?)] = []
            let source = CombinedSeriesSource(history, state.recorded)
            for index in state.rules.groups.indices {
                let group = state.rules.groups[index]
                if let last = state.lastEvaluation[index], time - last < group.intervalMilliseconds - history.stepMilliseconds / 2 {
                    continue
                }
                let started = clock.now
                let failures = state.rules.evaluate(group: index, at: time, source: source, output: state.recorded)
                state.lastDuration[index] = (clock.now - started).seconds
                state.lastEvaluation[index] = time
                state.evaluations[index] += 1
                state.failures[index] += failures.count
                // A rule that starts or stops failing is logged once, not every round.
                for (before, after) in zip(group.rules, state.rules.groups[index].rules) where before.lastError != after.lastError {
                    if before.lastError == nil || after.lastError == nil { changes.append(("\(group.name)/\(after.rule.name)", after.lastError)) }
                }
            }
            state.recorded.forget(before: time - history.retentionMilliseconds)
            state.alertSamples = state.rules.groups.flatMap { $0.rules.compactMap(\.tracker) }.flatMap(\.activeSamples)
            let notifications = notifier == nil ? [] : Self.dueNotifications(&state.rules, at: time, settings: settings)
            return (changes, notifications)
        }
        for change in changes {
            if let error = change.error {
                logger.error("rule evaluation failed", metadata: ["rule": "\(change.rule)", "error": "\(error)"])
            } else {
                logger.info("rule evaluates again", metadata: ["rule": "\(change.rule)"])
            }
        }
        notifier?.enqueue(notifications)
        let elapsed = (clock.now - roundStarted).seconds
        state.withLock { $0.lastRoundSeconds = elapsed }
    }

    /// The alerts due to be sent, as Alertmanager notifications.
    private static func dueNotifications(_ rules: inout RuleSet, at time: Int64, settings: Settings) -> [AlertNotification] {
        var notifications: [AlertNotification] = []
        for groupIndex in rules.groups.indices {
            let interval = rules.groups[groupIndex].intervalMilliseconds
            for ruleIndex in rules.groups[groupIndex].rules.indices {
                let expression = rules.groups[groupIndex].rules[ruleIndex].rule.expression
                let due = rules.withTracker(group: groupIndex, rule: ruleIndex) { tracker in
                    tracker.alertsToSend(at: time, resendDelayMilliseconds: settings.resendDelay.milliseconds, intervalMilliseconds: interval)
                } ?? []
                for alert in due {
                    notifications.append(AlertNotification(
                        labels: alert.labels, annotations: alert.annotations, startsAt: alert.firedAt ?? alert.activeAt,
                        endsAt: alert.resolvedAt ?? alert.validUntil ?? time, generatorURL: generatorURL(settings.externalURL, expression)))
                }
            }
        }
        return notifications
    }

    /// Prometheus' link to the expression's table view.
    static func generatorURL(_ externalURL: String, _ expression: String) -> String {
        externalURL + "/graph?g0.expr=" + PercentEncoding.encoded(expression) + "&g0.tab=1"
    }

    /// Evaluates `expression` at `time` (milliseconds) over the history and the recorded series.
    /// The evaluation runs outside the engine's lock, over a snapshot of the recorded series, so
    /// that neither rule rounds nor scrapes (which read `ALERTS`) wait for a query.
    package func query(_ expression: PromQLExpression, at time: Int64, limits: PromQLLimits? = nil)
        throws(PromQLEvaluationError) -> PromQLResult
    {
        let query = try PromQLQuery(expression)
        let recorded = state.withLock { $0.recorded.snapshot() }
        return try query.evaluate(at: time, in: CombinedSeriesSource(history, recorded), limits: limits)
    }

    /// The loaded groups and their rules with each one's last error, for `GET /api/v1/rules`.
    package func loadedGroups() -> [LoadedRuleGroup] {
        state.withLock { state in
            state.rules.groups.map { group in
                LoadedRuleGroup(name: group.name, file: group.file, intervalMilliseconds: group.intervalMilliseconds, limit: group.limit,
                                rules: group.rules.map { ($0.rule, $0.lastError) })
            }
        }
    }

    /// The alerts pending or firing now, for `GET /api/v1/alerts`.
    package func activeAlerts() -> [AlertTracker.Alert] {
        state.withLock { state in
            state.rules.groups.flatMap { $0.rules.compactMap(\.tracker) }.flatMap { $0.alerts.values.filter { $0.state != .inactive } }
        }
    }

    /// `ALERTS`, `ALERTS_FOR_STATE` and `lookout_rule_*`.
    package func collect() throws -> [MetricFamily] {
        let (samples, rules, evaluations, failures, durations, roundSeconds, historySeries, historyBytes) = state.withLock { state in
            (state.alertSamples, state.rules, state.evaluations, state.failures, state.lastDuration, state.lastRoundSeconds,
             state.historySeries, state.historyBytes)
        }
        var alerts = MetricFamily(name: "ALERTS", help: "Alerts pending or firing, by Lookout's rule evaluation.", type: .gauge)
        var forState = MetricFamily(name: "ALERTS_FOR_STATE", help: "When each pending or firing alert became active, in seconds since the epoch.",
                                    type: .gauge)
        for sample in samples {
            let entry = Sample(labels: sample.labels, value: sample.value)
            if sample.name == "ALERTS" { alerts.samples.append(entry) } else { forState.samples.append(entry) }
        }
        func perGroup(_ name: String, _ help: String, _ type: MetricType, _ values: [Double]) -> MetricFamily {
            MetricFamily(name: name, help: help, type: type, samples: zip(rules.groups, values).map { group, value in
                Sample(labels: [Label("file", group.file), Label("rule_group", group.name)], value: value)
            })
        }
        return [
            alerts, forState,
            perGroup("lookout_rule_group_evaluations_total", "Evaluations of a rule group.", .counter, evaluations.map(Double.init)),
            perGroup("lookout_rule_evaluation_failures_total", "Rule evaluations that failed, by group.", .counter, failures.map(Double.init)),
            perGroup("lookout_rule_group_last_duration_seconds", "How long the last evaluation of a rule group took.", .gauge, durations),
            perGroup("lookout_rule_group_rules", "Rules in a rule group.", .gauge, rules.groups.map { Double($0.rules.count) }),
            MetricFamily(name: "lookout_rule_round_duration_seconds", help: "How long the last history round and rule evaluation took.",
                         type: .gauge, samples: [Sample(labels: [], value: roundSeconds)]),
            MetricFamily(name: "lookout_rule_history_series", help: "Series held in the rule history.",
                         type: .gauge, samples: [Sample(labels: [], value: Double(historySeries))]),
            MetricFamily(name: "lookout_rule_history_bytes", help: "Approximate memory the rule history holds.",
                         type: .gauge, samples: [Sample(labels: [], value: Double(historyBytes))]),
        ].filter { !$0.samples.isEmpty }
    }
}

/// Rule files that cannot be loaded: the first problem, as one line.
package struct RuleFilesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the file (and the rule when there is one).
    package var message: String

    /// The problem `message`.
    package init(message: String) {
        self.message = message
    }

    /// The problem.
    package var description: String { message }
}

/// Lookout's default alert rules, compiled into the binary from
/// Sources/Pipeline/Rules/Resources/lookout.rules.yml (rules/lookout.rules.yml links there).
package enum DefaultRules {
    /// The name the default rules go by in messages and the `file` label.
    package static let name = "<default rules>"
    /// The rule file's text.
    package static let text = String(decoding: PackageResources.lookout_rules_yml, as: UTF8.self)
}

/// A loaded rule group as `GET /api/v1/rules` lists it.
package struct LoadedRuleGroup: Sendable {
    /// The group's name.
    package let name: String
    /// The file it came from.
    package let file: String
    /// How often it is evaluated, milliseconds.
    package let intervalMilliseconds: Int64
    /// Most series or alerts one rule may give; 0 for no limit.
    package let limit: Int
    /// Its rules in order, each with why its last evaluation failed (nil when it worked).
    package let rules: [(rule: Rule, lastError: String?)]
}
