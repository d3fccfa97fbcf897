/// A source of metrics that returns its whole current state on every call, node_exporter style:
/// a device or unit that is gone simply stops appearing.
///
/// `collect()` is synchronous and may block on file reads; the ``CollectorRegistry`` runs it on a
/// dispatch thread, never on the cooperative pool, and stops waiting for it after its timeout.
package protocol MetricCollector: Sendable {
    /// The collector's name as used in flags (`--collector.NAME`) and in the `collector` label.
    var name: String { get }

    /// Reads the source and returns its families. Throws ``CollectorError`` when the source is
    /// unreadable or malformed; ``CollectorError/noData(_:)`` when it simply does not exist here.
    func collect() throws -> [MetricFamily]
}

/// Why a collector produced no data. Each case names what was being read, so the one log line it
/// becomes says where to look.
package enum CollectorError: Error, Equatable, CustomStringConvertible {
    /// The source does not exist on this host (no PSI, no such directory); not worth an error log.
    case noData(String)
    /// A file or directory could not be read; `reason` is the system's word for why.
    case unreadable(path: String, reason: String)
    /// A file was read but its content is not what the kernel documents.
    case malformed(path: String, reason: String)

    /// One line naming the problem and the file.
    package var description: String {
        switch self {
        case .noData(let reason): "no data: \(reason)"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .malformed(let path, let reason): "malformed \(path): \(reason)"
        }
    }

    /// A bounded name for `lookout_component_errors_total{error_type}`.
    package var errorType: ErrorType {
        switch self {
        case .noData: .noData
        case .unreadable: .readError
        case .malformed: .parseError
        }
    }
}
