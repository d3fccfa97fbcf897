import MetricModel
import PromQL
import SeriesHistory

/// Rule groups made ready to evaluate, with the state they carry from one evaluation to the
/// next (alerts, the series each rule wrote last time), as Prometheus' rule manager keeps it
/// (prometheus `rules/group.go`, `recording.go`, `alerting.go`).
///
/// Each evaluation of a group runs its rules in order at one time: a recording rule's samples
/// are written to the output store at that time, so later rules (and later groups) read them;
/// an alerting rule's `ALERTS` and `ALERTS_FOR_STATE` samples are written there too. A series a
/// rule wrote last time and not this time gets a stale marker.
struct RuleSet: Sendable {
    /// One loaded rule and its state.
    struct LoadedRule: Sendable {
        /// The rule as written.
        package let rule: Rule
        /// Its expression, ready to evaluate.
        package let query: PromQLQuery
        let labelTemplates: [(name: String, template: AlertTemplate)]
        let annotationTemplates: [(name: String, template: AlertTemplate)]
        /// The alerts of an alerting rule.
        package internal(set) var tracker: AlertTracker?
        /// The series written at the last evaluation, to mark stale when they stop.
        var writtenLastTime: Set<SeriesIdentity> = []
        /// Why the last evaluation failed, or nil when it worked.
        package internal(set) var lastError: String?
        /// When it was last evaluated, milliseconds since the epoch.
        package internal(set) var lastEvaluation: Int64?
    }

    /// A group and its loaded rules.
    struct LoadedGroup: Sendable {
        /// The group's name.
        package let name: String
        /// The file it came from.
        package let file: String
        /// How often it is evaluated, milliseconds.
        package let intervalMilliseconds: Int64
        /// Most series or alerts one rule may give; 0 for no limit.
        package let limit: Int
        /// Its rules, in order.
        package internal(set) var rules: [LoadedRule]
    }

    struct SeriesIdentity: Hashable, Sendable {
        var name: String
        var labels: [Label]
    }

    /// The groups, in the order given.
    package private(set) var groups: [LoadedGroup]
    /// Selections shared by the rules evaluated at one time.
    private var cache: PromQLEvaluationCache?
    /// The metric names rules write (their selections are never shared).
    private let written: Set<String>
    /// Labels templates see as `$externalLabels`.
    let externalLabels: [String: String]
    /// What templates see as `$externalURL`.
    package let externalURL: String

    /// Loads `groups` (each with the file it came from); a group without an interval gets
    /// `defaultIntervalMilliseconds`. Throws for an expression or a template that cannot be used.
    package init(groups: [(group: RuleGroup, file: String)], defaultIntervalMilliseconds: Int64,
                externalLabels: [String: String] = [:], externalURL: String = "") throws(RuleLoadError)
    {
        self.externalLabels = externalLabels
        self.externalURL = externalURL
        var loaded: [LoadedGroup] = []
        for (group, file) in groups {
            var rules: [LoadedRule] = []
            for (position, rule) in group.rules.enumerated() {
                func failure(_ message: String) -> RuleLoadError {
                    RuleLoadError(file: file, group: group.name, rule: position + 1, name: rule.name, message: message)
                }
                let query: PromQLQuery
                do {
                    query = try PromQLQuery(try PromQLExpression.parse(rule.expression))
                } catch let error as PromQLError {
                    throw failure("could not parse expression: \(error)")
                } catch {
                    throw failure("\(error)")
                }
                var labelTemplates: [(String, AlertTemplate)] = []
                var annotationTemplates: [(String, AlertTemplate)] = []
                var tracker: AlertTracker?
                do {
                    for name in rule.labels.keys.sorted() { labelTemplates.append((name, try AlertTemplate(rule.labels[name]!))) }
                    if case .alert(let alertName, let forMilliseconds, let keepFiring, let annotations) = rule.kind {
                        for name in annotations.keys.sorted() { annotationTemplates.append((name, try AlertTemplate(annotations[name]!))) }
                        tracker = AlertTracker(name: alertName, labels: rule.labels, forMilliseconds: forMilliseconds,
                                               keepFiringForMilliseconds: keepFiring)
                    }
                } catch {
                    throw failure(error.message)
                }
                rules.append(LoadedRule(rule: rule, query: query, labelTemplates: labelTemplates,
                                        annotationTemplates: annotationTemplates, tracker: tracker))
            }
            loaded.append(LoadedGroup(name: group.name, file: file, intervalMilliseconds: group.intervalMilliseconds ?? defaultIntervalMilliseconds,
                                      limit: group.limit, rules: rules))
        }
        self.groups = loaded
        written = Set(loaded.flatMap { $0.rules.map(\.rule.name) } + ["ALERTS", "ALERTS_FOR_STATE"])
    }

    /// Evaluates group `groupIndex` at `time`, reading `source` (which must include `output`)
    /// and writing to `output`. Returns the rules that failed, with why; a failed rule writes
    /// nothing and keeps its alerts as they were.
    @discardableResult
    package mutating func evaluate(group groupIndex: Int, at time: Int64, source: some PromQLSeriesSource,
                                                              output: SeriesStore) -> [(rule: String, error: String)]
    {
        var failures: [(rule: String, error: String)] = []
        let limit = groups[groupIndex].limit
        if cache?.time != time { cache = PromQLEvaluationCache(time: time, written: written) }
        for ruleIndex in groups[groupIndex].rules.indices {
            var loaded = groups[groupIndex].rules[ruleIndex]
            loaded.lastEvaluation = time
            do {
                let samples = try Self.evaluate(&loaded, at: time, source: source, cache: cache, limit: limit,
                                                externalLabels: externalLabels, externalURL: externalURL)
                var written: Set<SeriesIdentity> = []
                for sample in samples {
                    output.append(name: sample.name, labels: sample.labels, timestamp: time, value: sample.value)
                    written.insert(SeriesIdentity(name: sample.name, labels: sample.labels))
                }
                for gone in loaded.writtenLastTime.subtracting(written) {
                    output.append(name: gone.name, labels: gone.labels, timestamp: time, value: SeriesStore.staleMarker)
                }
                loaded.writtenLastTime = written
                loaded.lastError = nil
            } catch {
                loaded.lastError = error.message
                failures.append((loaded.rule.name, error.message))
            }
            groups[groupIndex].rules[ruleIndex] = loaded
        }
        return failures
    }

    /// Runs `body` on the alert tracker of rule `rule` of group `group`; nil for a recording rule.
    mutating func withTracker<Result>(group: Int, rule: Int, _ body: (inout AlertTracker) -> Result) -> Result? {
        guard var tracker = groups[group].rules[rule].tracker else { return nil }
        let result = body(&tracker)
        groups[group].rules[rule].tracker = tracker
        return result
    }

    /// One rule's samples to write: the recorded series, or `ALERTS` and `ALERTS_FOR_STATE`.
    private static func evaluate(_ loaded: inout LoadedRule, at time: Int64, source: some PromQLSeriesSource,
                                 cache: PromQLEvaluationCache?, limit: Int,
                                                             externalLabels: [String: String], externalURL: String)
        throws(PromQLEvaluationError) -> [(name: String, labels: [Label], value: Double)]
    {
        let results = try loaded.query.evaluate(at: time, in: source, sharing: cache).samples
        guard var tracker = loaded.tracker else {
            // A recording rule: the record name and the rule's labels on each sample.
            var samples: [(name: String, labels: [Label], value: Double)] = []
            var seen: Set<[Label]> = []
            for result in results {
                var labels = result.labels.droppingMetricName
                for (name, template) in loaded.labelTemplates { labels = labels.setting(name, to: template.text) }
                guard seen.insert(labels).inserted else {
                    throw PromQLEvaluationError("vector contains metrics with the same labelset after applying rule labels")
                }
                samples.append((loaded.rule.name, labels, result.value))
            }
            if limit > 0 && samples.count > limit {
                throw PromQLEvaluationError("exceeded limit of \(limit) with \(samples.count) series")
            }
            return samples
        }
        var alerts: [(labels: [Label], annotations: [Label], value: Double)] = []
        for result in results {
            let data = AlertTemplate.Data(labels: Dictionary(result.labels.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                          externalLabels: externalLabels, externalURL: externalURL, value: result.value)
            var labels = result.labels.droppingMetricName
            for (name, template) in loaded.labelTemplates { labels = labels.setting(name, to: template.expandedForAlert(data)) }
            labels = labels.setting("alertname", to: tracker.name)
            let annotations = loaded.annotationTemplates.compactMap { entry -> Label? in
                let value = entry.template.expandedForAlert(data)
                return Label(entry.name, value)
            }
            alerts.append((labels, annotations, result.value))
        }
        if limit > 0 && alerts.count > limit {
            throw PromQLEvaluationError("exceeded limit of \(limit) with \(alerts.count) alerts")
        }
        do {
            let samples = try tracker.evaluate(alerts: alerts, at: time)
            loaded.tracker = tracker
            return samples.map { ($0.name, $0.labels, $0.value) }
        } catch {
            throw PromQLEvaluationError(error.message)
        }
    }
}

extension AlertTemplate {
    /// The text expanded for an alert; a failure becomes the text Prometheus puts in its place.
    func expandedForAlert(_ data: Data) -> String {
        if isPlainText { return text }
        do {
            return try expand(data)
        } catch {
            return "<error expanding template: \(error.message)>"
        }
    }
}

/// A rule that cannot be loaded: where it is and why.
package struct RuleLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule file.
    package var file: String
    /// The group's name.
    package var group: String
    /// The rule's position in its group, from 1.
    package var rule: Int
    /// The alert's or recorded series' name.
    package var name: String
    /// What is wrong.
    package var message: String

    /// `FILE: group "G", rule N, "NAME": MESSAGE`, as Prometheus words a rule it cannot load.
    package var description: String { "\(file): group \"\(group)\", rule \(rule), \"\(name)\": \(message)" }
}
