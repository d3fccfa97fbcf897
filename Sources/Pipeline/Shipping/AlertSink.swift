import MetricModel

/// One alert as an Alertmanager takes it (its v2 API's `postableAlert`): what rule evaluation
/// hands to an ``AlertSink``.
public struct AlertNotification: Sendable, Equatable {
    /// The alert's labels, sorted by name.
    public var labels: [Label]
    /// Its annotations, sorted by name.
    public var annotations: [Label]
    /// When it became active (firing), milliseconds since the epoch.
    public var startsAt: Int64
    /// When it ends: its resolution, or how long it stays valid unless sent again.
    public var endsAt: Int64
    /// The link back to the expression that produced it.
    public var generatorURL: String

    /// The alert with its parts.
    public init(labels: [Label], annotations: [Label], startsAt: Int64, endsAt: Int64, generatorURL: String) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.generatorURL = generatorURL
    }
}

/// Where due alerts go (Prometheus' notifier): takes them without waiting, and delivers them on
/// its own schedule.
public protocol AlertSink: Sendable {
    /// Queues `notifications` for delivery.
    func enqueue(_ notifications: [AlertNotification])
}
