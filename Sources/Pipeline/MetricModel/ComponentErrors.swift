import Logging
import Synchronization

/// A part of Lookout that reports runtime errors: the `component` label of
/// `lookout_component_errors_total`. Only these values exist, so the label stays bounded.
package struct ErrorComponent: Hashable, Sendable, CustomStringConvertible {
    /// The label value.
    package let name: String

    private init(_ name: String) { self.name = name }

    /// The label value.
    package var description: String { name }

    /// The pipeline-events API, its store and its spool.
    package static let events = ErrorComponent("events")
    /// The journal reader and its cursor.
    package static let journal = ErrorComponent("journal")
    /// The HTTP endpoint's requests.
    package static let http = ErrorComponent("http")
    /// Rule evaluation's query API.
    package static let rules = ErrorComponent("rules")
    /// The Elasticsearch shipper.
    package static let elasticsearch = ErrorComponent("elasticsearch")

    /// The collector `name` (a catalog name, so bounded too): `collector.NAME`.
    package static func collector(_ name: String) -> ErrorComponent { ErrorComponent("collector." + name) }
}

/// What kind of failure: the `error_type` label of `lookout_component_errors_total`. Each is a
/// constant here, as Vector keeps its `error_type` values in one place.
package struct ErrorType: Hashable, Sendable, CustomStringConvertible {
    /// The label value.
    package let name: String

    private init(_ name: String) { self.name = name }

    /// The label value.
    package var description: String { name }

    // Requests.
    /// A request that cannot be answered as asked (4xx).
    package static let badRequest = ErrorType("bad_request")
    /// A request body over its limit (413).
    package static let tooLarge = ErrorType("too_large")
    /// A missing or wrong credential (401).
    package static let unauthorized = ErrorType("unauthorized")
    /// A request with a method its path does not take (405).
    package static let methodNotAllowed = ErrorType("method_not_allowed")
    /// A request over a concurrency limit (503 here, 429 from Elasticsearch).
    package static let tooManyRequests = ErrorType("too_many_requests")
    /// The listening socket could not accept a connection (out of file descriptors, `EMFILE`).
    package static let accept = ErrorType("accept")
    /// `--web.config.file` could not be read or used while serving (500, or a refused connection).
    package static let webConfig = ErrorType("web_config")
    /// A PromQL query that does not parse (Prometheus' `bad_data`).
    package static let badQuery = ErrorType("bad_query")
    /// A PromQL query that fails while it runs (Prometheus' `execution`).
    package static let queryExecution = ErrorType("query_execution")

    // Storage.
    /// The event store could not be read or written.
    package static let store = ErrorType("store")
    /// The event spool could not be listed, read or cleaned up.
    package static let spool = ErrorType("spool")
    /// A spooled event was not valid and was moved aside.
    package static let spoolRejected = ErrorType("spool_rejected")
    /// A checkpoint (the journal cursor) could not be saved.
    package static let checkpointWrite = ErrorType("checkpoint_write")

    // Collectors.
    /// A source that has no data on this host.
    package static let noData = ErrorType("no_data")
    /// A file or directory that could not be read.
    package static let readError = ErrorType("read_error")
    /// A file whose content is not what its documentation says.
    static let parseError = ErrorType("parse_error")
    /// Something that did not finish in time.
    package static let timeout = ErrorType("timeout")
    /// A collector failure of no known kind.
    package static let other = ErrorType("other")
    /// A series two collectors both reported; the later one was dropped.
    static let duplicateSeries = ErrorType("duplicate_series")
    /// A family reported with another type than before; dropped.
    static let typeConflict = ErrorType("type_conflict")
    /// A textfile that could not be used.
    package static let badFile = ErrorType("bad_file")
    /// A hypervisor's control socket refused the connection.
    package static let hypervisorConnect = ErrorType("hypervisor_connect")
    /// A hypervisor's control socket did not answer in time.
    package static let hypervisorTimeout = ErrorType("hypervisor_timeout")
    /// A hypervisor's control socket closed before answering.
    package static let hypervisorClosed = ErrorType("hypervisor_closed")
    /// A hypervisor's API answered with an error status.
    package static let hypervisorStatus = ErrorType("hypervisor_status")
    /// A hypervisor's answer is not in its documented form.
    package static let hypervisorProtocol = ErrorType("hypervisor_protocol")
    /// A Firecracker metrics file that cannot be read.
    package static let firecrackerMetrics = ErrorType("firecracker_metrics")

    // The journal.
    /// A corrupt journal entry (`EBADMSG`), skipped.
    package static let badMessage = ErrorType("bad_message")
    /// A journal file truncated under the reader (SIGBUS), absorbed.
    package static let sigbus = ErrorType("sigbus")
    /// A saved cursor the journal does not know.
    package static let badCursor = ErrorType("bad_cursor")
    /// A region of the journal skipped after a failure.
    package static let skippedRegion = ErrorType("skipped_region")

    // Shipping.
    /// No connection could be made.
    package static let connection = ErrorType("connection")
    /// TLS failed (handshake, certificate).
    package static let tls = ErrorType("tls")
    /// The connection failed mid-request.
    package static let transport = ErrorType("transport")
    /// The server failed (5xx).
    package static let serverError = ErrorType("server_error")
    /// An answer that cannot be understood.
    package static let badResponse = ErrorType("bad_response")
    /// A request over the server's size limit (413).
    package static let payloadTooLarge = ErrorType("payload_too_large")
    /// A request the server refused as a whole (4xx).
    package static let requestRejected = ErrorType("request_rejected")
    /// One item of a bulk request, to be sent again.
    package static let itemRetried = ErrorType("item_retried")
    /// One document refused for good, dead-lettered.
    package static let documentRejected = ErrorType("document_rejected")
    /// The dead-letter file could not be written.
    package static let deadLetterWrite = ErrorType("dead_letter_write")
    /// The index template could not be installed.
    package static let indexTemplate = ErrorType("index_template")
}

/// Counts runtime errors by component and bounded error type, exposed as
/// `lookout_component_errors_total{component,error_type}` (Vector's "errors are telemetry").
package final class ComponentErrors: Sendable {
    private struct Key: Hashable {
        var component: String
        var errorType: String
    }

    private let counts = Mutex<[Key: UInt64]>([:])

    /// Creates an empty counter set.
    package init() {}

    /// Exposes each of `types` for `component` at 0 until it is counted, so that a dashboard or
    /// an `increase()` sees the series before its first error (prometheus.io/docs/practices/
    /// instrumentation, "Avoid missing metrics"). Counts already recorded are kept.
    package func declare(_ component: ErrorComponent, _ types: [ErrorType]) {
        counts.withLock { counts in
            for type in types { counts[Key(component: component.name, errorType: type.name), default: 0] += 0 }
        }
    }

    /// Counts one error of `type` in `component`, without logging: for refusals the client is
    /// told about (4xx), so that a misbehaving client cannot flood the log, and for errors whose
    /// caller logs only the first of a run.
    package func record(_ component: ErrorComponent, _ type: ErrorType) {
        counts.withLock { $0[Key(component: component.name, errorType: type.name), default: 0] += 1 }
    }

    /// Counts one error of `type` in `component` and logs `message` once with its context, the
    /// component and the error type: Vector's `emit!` of an internal error event.
    package func emit(
        _ component: ErrorComponent, _ type: ErrorType, _ message: Logger.Message, level: Logger.Level = .error,
        metadata: Logger.Metadata = [:], to logger: Logger
    ) {
        record(component, type)
        logger.log(level: level, message, metadata: metadata.merging(["component": "\(component)", "error_type": "\(type)"]) { own, _ in own })
    }

    /// The current count for one component and error type (zero if never recorded).
    package func count(component: String, errorType: String) -> UInt64 {
        counts.withLock { $0[Key(component: component, errorType: errorType)] ?? 0 }
    }

    /// The counter family, samples sorted by component then error type; empty when nothing failed.
    package func family() -> MetricFamily {
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
