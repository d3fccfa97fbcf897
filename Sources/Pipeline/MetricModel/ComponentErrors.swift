import Synchronization

/// Counts runtime errors by component and bounded error type, exposed as
/// `lookout_component_errors_total{component,error_type}` (Vector's "errors are telemetry").
public final class ComponentErrors: Sendable {
    private struct Key: Hashable {
        var component: String
        var errorType: String
    }

    private let counts = Mutex<[Key: UInt64]>([:])

    /// Creates an empty counter set.
    public init() {}

    /// Adds one error of `errorType` for `component`.
    public func record(component: String, errorType: String) {
        counts.withLock { $0[Key(component: component, errorType: errorType), default: 0] += 1 }
    }

    /// The current count for one component and error type (zero if never recorded).
    public func count(component: String, errorType: String) -> UInt64 {
        counts.withLock { $0[Key(component: component, errorType: errorType)] ?? 0 }
    }

    /// The counter family, samples sorted by component then error type; empty when nothing failed.
    public func family() -> MetricFamily {
        let snapshot = counts.withLock { $0 }
        let samples = snapshot
            .sorted { ($0.key.component, $0.key.errorType) < ($1.key.component, $1.key.errorType) }
            .map { entry in
                Sample(
                    labels: [Label("component", entry.key.component), Label("error_type", entry.key.errorType)],
                    value: Double(entry.value))
            }
        return MetricFamily(
            name: "lookout_component_errors_total",
            help: "Runtime errors by component and error type.",
            type: .counter, samples: samples)
    }
}
