import MetricModel

/// The alerts of one alerting rule from one evaluation to the next, with Prometheus' state
/// machine (prometheus `rules/alerting.go`, `AlertingRule.Eval`):
///
/// - a result series the rule had no active alert for becomes a **pending** alert, active from
///   now; it turns **firing** once it has been active for the rule's `for` (at once when `for` is
///   0);
/// - an alert whose series is missing from the results: a pending one is dropped; a firing one
///   keeps firing for `keep_firing_for` after the first evaluation without it, then becomes
///   **inactive** (resolved) and is kept 15 minutes so that notifiers can send the resolution;
/// - a series that comes back while its alert is resolved starts a new pending alert.
///
/// Each evaluation returns the `ALERTS` and `ALERTS_FOR_STATE` samples Prometheus would write.
package struct AlertTracker: Sendable {
    /// The alert states.
    package enum State: String, Sendable, Equatable {
        /// The condition held for less than `for`.
        case pending
        /// The condition held for `for` or more (or within `keep_firing_for` after it stopped).
        case firing
        /// Resolved: the condition stopped holding; kept a while for notifications.
        case inactive
    }

    /// One alert: a label set the rule's condition produced.
    package struct Alert: Sendable, Equatable {
        /// The result's labels without `__name__`, with the rule's labels and `alertname`, sorted.
        package var labels: [Label]
        /// Where it stands.
        package var state: State
        /// The annotations, expanded at the last evaluation that had its series.
        package var annotations: [Label]
        /// The value of the result series at the last evaluation that had it.
        package var value: Double
        /// When it became pending, milliseconds since the epoch.
        package var activeAt: Int64
        /// When it started firing.
        var firedAt: Int64?
        /// When it was resolved.
        var resolvedAt: Int64?
        /// The first evaluation without its series while it kept firing.
        var keepFiringSince: Int64?
        /// When it was last handed to the notifier.
        var lastSentAt: Int64?
        /// Until when the last notification said it fires (Alertmanager's `endsAt` for a firing alert).
        var validUntil: Int64?
    }

    /// How long resolved alerts are kept (Prometheus' `resolvedRetention`).
    static let resolvedRetentionMilliseconds: Int64 = 15 * 60_000

    /// The rule's name, the `alertname` label.
    package let name: String
    /// The rule's labels as written (templates unexpanded): added to every alert by the
    /// label-pair form of `evaluate`, and the base of the `ALERTS` series, as in 2.42.
    let ruleLabels: [Label]
    /// How long an alert is pending before it fires.
    let forMilliseconds: Int64
    /// How long a firing alert keeps firing after its series is gone.
    let keepFiringForMilliseconds: Int64

    /// The alerts now, by label set.
    package private(set) var alerts: [[Label]: Alert] = [:]

    /// A tracker for the rule called `name`.
    package init(name: String, labels: [String: String] = [:], forMilliseconds: Int64 = 0, keepFiringForMilliseconds: Int64 = 0) {
        self.name = name
        ruleLabels = labels.map { Label($0.key, $0.value) }
        self.forMilliseconds = forMilliseconds
        self.keepFiringForMilliseconds = keepFiringForMilliseconds
    }

    /// The alerts to notify about after the evaluation at `time`, as Prometheus picks them
    /// (`rules/alerting.go`, `sendAlerts`): alerts resolved since they were last sent, and any
    /// firing or resolved (still kept) alert not sent for `resendDelay`. Each is marked sent, firing ones valid for four times
    /// the larger of `resendDelay` and the evaluation `interval` (two missed evaluations or
    /// sends do not resolve it in Alertmanager).
    mutating func alertsToSend(at time: Int64, resendDelayMilliseconds: Int64, intervalMilliseconds: Int64) -> [Alert] {
        var due: [Alert] = []
        for key in alerts.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            guard var alert = alerts[key], alert.state != .pending else { continue }
            let resolvedSinceSent = alert.resolvedAt.map { resolved in alert.lastSentAt.map { resolved > $0 } ?? true } ?? false
            let resendDue = alert.lastSentAt.map { $0 + resendDelayMilliseconds < time } ?? true
            guard resolvedSinceSent || resendDue else { continue }
            alert.lastSentAt = time
            alert.validUntil = time + 4 * max(resendDelayMilliseconds, intervalMilliseconds)
            alerts[key] = alert
            due.append(alert)
        }
        return due
    }

    /// Applies one evaluation at `time` whose results are `series` (labels and value): the
    /// rule's labels replace the results' own, `alertname` is added, `__name__` dropped. Returns
    /// the `ALERTS` and `ALERTS_FOR_STATE` samples of the pending and firing alerts.
    package mutating func evaluate(_ series: [(labels: [Label], value: Double)], at time: Int64) throws(AlertTrackerError)
        -> [(name: String, labels: [Label], value: Double)]
    {
        let ruleNames = Set(ruleLabels.map(\.name) + ["alertname", "__name__"])
        return try evaluate(alerts: series.map { result in
            ((result.labels.filter { !ruleNames.contains($0.name) } + ruleLabels + [Label("alertname", name)]).sorted(), [], result.value)
        }, at: time)
    }

    /// Applies one evaluation at `time` whose results are already alerts: their final labels
    /// (sorted, `alertname` among them), expanded annotations and value. Returns the `ALERTS`
    /// and `ALERTS_FOR_STATE` samples of the pending and firing alerts. Throws when two results
    /// have the same labels, as Prometheus refuses such a vector.
    package mutating func evaluate(alerts results: [(labels: [Label], annotations: [Label], value: Double)], at time: Int64)
        throws(AlertTrackerError) -> [(name: String, labels: [Label], value: Double)]
    {
        var seen: Set<[Label]> = []
        for result in results {
            guard seen.insert(result.labels).inserted else {
                throw AlertTrackerError(rule: name, message: "vector contains metrics with the same labelset after applying alert labels")
            }
        }
        for result in results {
            if var alert = alerts[result.labels], alert.state != .inactive {
                alert.value = result.value
                alert.annotations = result.annotations
                alerts[result.labels] = alert
            } else {
                alerts[result.labels] = Alert(labels: result.labels, state: .pending, annotations: result.annotations,
                                              value: result.value, activeAt: time)
            }
        }

        for key in Array(alerts.keys) {
            guard var alert = alerts[key] else { continue }
            if !seen.contains(key) {
                var keepFiring = false
                if alert.state == .firing, keepFiringForMilliseconds > 0 {
                    let since = alert.keepFiringSince ?? time
                    alert.keepFiringSince = since
                    keepFiring = time - since < keepFiringForMilliseconds
                }
                if alert.state == .pending || (alert.resolvedAt.map { time - $0 > Self.resolvedRetentionMilliseconds } ?? false) {
                    alerts[key] = nil
                    continue
                }
                if alert.state != .inactive && !keepFiring {
                    alert.state = .inactive
                    alert.resolvedAt = time
                }
                alerts[key] = alert
                if !keepFiring { continue }
            } else {
                alert.keepFiringSince = nil
            }
            if alert.state == .pending, time - alert.activeAt >= forMilliseconds {
                alert.state = .firing
                alert.firedAt = time
            }
            alerts[key] = alert
        }
        return activeSamples
    }

    /// The `ALERTS` and `ALERTS_FOR_STATE` samples of the alerts pending or firing now. As in
    /// 2.42, their labels start from the rule's labels as written, so a label whose template
    /// expanded to nothing shows its template there.
    var activeSamples: [(name: String, labels: [Label], value: Double)] {
        var samples: [(name: String, labels: [Label], value: Double)] = []
        for alert in alerts.values where alert.state != .inactive {
            var seriesLabels = ruleLabels.sorted()
            for label in alert.labels { seriesLabels = seriesLabels.setting(label.name, to: label.value) }
            samples.append(("ALERTS", seriesLabels.setting("alertstate", to: alert.state.rawValue), 1))
            samples.append(("ALERTS_FOR_STATE", seriesLabels, Double(alert.activeAt / 1_000)))
        }
        return samples
    }
}

/// An evaluation whose results cannot become alerts: the rule and why.
package struct AlertTrackerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The alerting rule's name.
    package var rule: String
    /// What is wrong.
    package var message: String

    /// Creates the error.
    package init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    /// The problem as one line.
    package var description: String { "alerting rule \(rule): \(message)" }
}
