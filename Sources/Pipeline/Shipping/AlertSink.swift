import MetricModel

/// One alert as an Alertmanager takes it (its v2 API's `postableAlert`): what rule evaluation
/// hands to an ``AlertSink``.
package struct AlertNotification: Sendable, Equatable {
    /// The alert's labels, sorted by name.
    package var labels: [Label]
    /// Its annotations, sorted by name.
    package var annotations: [Label]
    /// When it became active (firing), milliseconds since the epoch.
    package var startsAt: Int64
    /// When it ends: its resolution, or how long it stays valid unless sent again.
    package var endsAt: Int64
    /// The link back to the expression that produced it.
    package var generatorURL: String

    /// The alert with its parts.
    package init(labels: [Label], annotations: [Label], startsAt: Int64, endsAt: Int64, generatorURL: String) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }
}

/// Where due alerts go (Prometheus' notifier): takes them without waiting, and delivers them on
/// its own schedule.
package protocol AlertSink: Sendable {
    /// Queues `notifications` for delivery.
    func enqueue(_ notifications: [AlertNotification])
}
