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
public struct AlertTracker: Sendable {
    /// The alert states.
    public enum State: String, Sendable, Equatable {
        /// The condition held for less than `for`.
        case pending
        /// The condition held for `for` or more (or within `keep_firing_for` after it stopped).
        case firing
        /// Resolved: the condition stopped holding; kept a while for notifications.
        case inactive
    }

    /// One alert: a label set the rule's condition produced.
    public struct Alert: Sendable, Equatable {
        /// The result's labels without `__name__`, with the rule's labels and `alertname`, sorted.
        public var labels: [Label]
        /// Where it stands.
        public var state: State
        /// The value of the result series at the last evaluation that had it.
        public var value: Double
        /// When it became pending, milliseconds since the epoch.
        public var activeAt: Int64
        /// When it started firing.
        public var firedAt: Int64?
        /// When it was resolved.
        public var resolvedAt: Int64?
        /// The first evaluation without its series while it kept firing.
        public var keepFiringSince: Int64?
    }

    /// How long resolved alerts are kept (Prometheus' `resolvedRetention`).
    public static let resolvedRetentionMilliseconds: Int64 = 15 * 60_000

    /// The rule's name, the `alertname` label.
    public let name: String
    /// The rule's own labels, added to every alert (replacing a result label of the same name).
    public let ruleLabels: [Label]
    /// How long an alert is pending before it fires.
    public let forMilliseconds: Int64
    /// How long a firing alert keeps firing after its series is gone.
    public let keepFiringForMilliseconds: Int64

    /// The alerts now, by label set.
    public private(set) var alerts: [[Label]: Alert] = [:]

    /// A tracker for the rule called `name`.
    public init(name: String, labels: [String: String] = [:], forMilliseconds: Int64 = 0, keepFiringForMilliseconds: Int64 = 0) {
        self.name = name
        ruleLabels = labels.map { Label($0.key, $0.value) }
        self.forMilliseconds = forMilliseconds
        self.keepFiringForMilliseconds = keepFiringForMilliseconds
    }

    /// Applies one evaluation at `time` whose results are `series` (labels and value), and
    /// returns the `ALERTS` and `ALERTS_FOR_STATE` samples of the pending and firing alerts.
    /// Throws when two results have the same labels once the rule's labels are applied, as
    /// Prometheus refuses such a vector.
    public mutating func evaluate(_ series: [(labels: [Label], value: Double)], at time: Int64) throws(AlertTrackerError)
        -> [(name: String, labels: [Label], value: Double)]
    {
        var seen: Set<[Label]> = []
        for result in series {
            var labels = result.labels.filter { $0.name != "__name__" && !ruleLabels.map(\.name).contains($0.name) && $0.name != "alertname" }
            labels += ruleLabels + [Label("alertname", name)]
            labels.sort()
            guard seen.insert(labels).inserted else {
                throw AlertTrackerError(rule: name, message: "vector contains metrics with the same labelset after applying alert labels")
            }
            if var alert = alerts[labels], alert.state != .inactive {
                alert.value = result.value
                alerts[labels] = alert
            } else {
                alerts[labels] = Alert(labels: labels, state: .pending, value: result.value, activeAt: time)
            }
        }

        var samples: [(name: String, labels: [Label], value: Double)] = []
        for key in alerts.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
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
            let state = [Label("alertstate", alert.state.rawValue)]
            samples.append(("ALERTS", (key + state).sorted(), 1))
            samples.append(("ALERTS_FOR_STATE", key, Double(alert.activeAt / 1_000)))
        }
        return samples
    }
}

/// An evaluation whose results cannot become alerts: the rule and why.
public struct AlertTrackerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The alerting rule's name.
    public var rule: String
    /// What is wrong.
    public var message: String

    /// Creates the error.
    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { "alerting rule \(rule): \(message)" }
}
