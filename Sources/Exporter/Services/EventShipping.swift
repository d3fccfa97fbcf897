import Collectors
import Logging
import LookoutSupport
import MetricModel
import ServiceLifecycle
import Shippers
import Synchronization

/// The pipeline-event half of shipping: stored events go to Elasticsearch in arrival order, a
/// page at a time, and the store's `elasticsearch` watermark moves past a page only once every
/// event of it is acknowledged (indexed, already present, or dead-lettered), exactly as the
/// journal cursor does. Each document's `_id` is the event id and it is sent with `create`, so a
/// page sent again after a crash is indexed once.
///
/// The service wakes when the events API stores something new, and at least every
/// `pollInterval`. On SIGTERM it finishes the page in flight (within the grace period) and
/// stops; the rest ships on the next start.
struct EventShipping: Service {
    /// The name of the store's watermark for Elasticsearch.
    static let watermark = "elasticsearch"

    /// Where events are kept.
    let store: EventStore
    /// Where they go.
    let shipper: ElasticsearchShipper
    /// Rung by the events API when new events are stored.
    let arrivals: EventArrivals
    /// Most events per bulk request.
    let pageSize: Int
    /// Longest wait between looks at the store.
    let pollInterval: Duration
    /// How long shutdown waits for the page in flight.
    let gracePeriod: Duration
    /// Store failures count here as `component="events"`.
    let errors: ComponentErrors
    let logger: Logger

    /// The service for `configuration` over `store`, or nil while shipping is off (no
    /// Elasticsearch URL). Events get their own index pattern, template and dead-letter file,
    /// and share the journal's cluster, credentials and `stats`.
    static func make(
        _ configuration: ExporterConfiguration, store: EventStore, arrivals: EventArrivals, stats: ElasticsearchStats,
        errors: ComponentErrors, logger: Logger
    ) throws(ConfigurationError) -> EventShipping? {
        guard !configuration.elasticsearch.urls.isEmpty else { return nil }
        var settings = configuration.elasticsearch
        settings.target = .indexPattern(configuration.eventsIndex)
        settings.templateName = "lookout-pipeline"
        settings.schema = .pipelineEvents
        settings.deadLetterPath = configuration.eventsDeadLetterFile
        let shipper: ElasticsearchShipper
        do {
            shipper = try ElasticsearchShipper(settings: settings, logger: logger, errors: errors, stats: stats)
        } catch {
            throw ConfigurationError(key: "elasticsearch.events-index", line: nil, message: error.description)
        }
        return EventShipping(
            store: store, shipper: shipper, arrivals: arrivals, pageSize: min(configuration.batchLimits.maximumDocuments, 5_000),
            pollInterval: configuration.batchLimits.flushInterval, gracePeriod: configuration.shutdownGracePeriod,
            errors: errors, logger: logger)
    }

    func run() async throws {
        let delivery = Task { await deliver() }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await delivery.value
            } onGracefulShutdown: {
                arrivals.close()
                let grace = gracePeriod
                Task {
                    try? await Task.sleep(for: grace)
                    delivery.cancel()
                }
            }
        } onCancel: {
            delivery.cancel()
        }
    }

    /// Ships page after page until the arrivals are closed or the task is cancelled.
    private func deliver() async {
        guard (try? await shipper.prepare()) != nil else { return }
        var storeFailing = false
        while !Task.isCancelled {
            let page: [StoredEvent]
            do {
                page = try await BlockingWork.run { [store, pageSize] () throws(EventStoreError) in
                    try store.events(after: try store.watermark(Self.watermark), limit: pageSize)
                }
                if storeFailing {
                    storeFailing = false
                    logger.notice("the event store can be read again; shipping events resumes")
                }
            } catch {
                errors.record(.events, .store)
                if !storeFailing {
                    storeFailing = true
                    logger.error("cannot read events to ship; trying again", metadata: ["error": "\(error)"])
                }
                guard await arrivals.wait(upTo: pollInterval) else { return }
                continue
            }
            guard let last = page.last else {
                guard await arrivals.wait(upTo: pollInterval) else { return }
                continue
            }
            do {
                _ = try await shipper.ship(page.map(EventDocument.document))
            } catch {
                return  // cancelled: the watermark stays, the page ships again on the next start
            }
            do {
                try await BlockingWork.run { [store] () throws(EventStoreError) in try store.advanceWatermark(Self.watermark, to: last.seq) }
            } catch {
                // The page is in Elasticsearch; sending it again only yields 409s.
                errors.emit(.events, .store, "cannot save the events' shipping watermark; shipped events will be sent again",
                            metadata: ["error": "\(error)"], to: logger)
            }
            if arrivals.isClosed { return }
        }
    }
}

/// A doorbell between the events API and shipping: `ring()` after storing, `wait(upTo:)` until
/// rung or the time is up, `close()` on shutdown.
final class EventArrivals: Sendable {
    private let state = Mutex((rung: false, closed: false))

    /// Creates an unrung doorbell.
    init() {}

    /// New events are in the store.
    func ring() { state.withLock { $0.rung = true } }

    /// No more waiting: every `wait` returns false from now on.
    func close() { state.withLock { $0.closed = true } }

    /// Whether `close()` was called.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Waits until rung (true), closed or cancelled (false), or `limit` passes (true).
    func wait(upTo limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            let (rung, closed) = state.withLock { state in
                defer { state.rung = false }
                return (state.rung, state.closed)
            }
            if closed || Task.isCancelled { return false }
            if rung || ContinuousClock.now >= deadline { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// What is left to ship, as `lookout_events_shipping_backlog` and
/// `lookout_events_shipping_lag_seconds`, read from the store at each scrape.
struct EventShippingStatistics: MetricCollector {
    /// The store.
    let store: EventStore
    /// The collector's name.
    var name: String { "events_shipping" }

    func collect() throws -> [MetricFamily] {
        let backlog = try store.backlog(after: try store.watermark(EventShipping.watermark))
        let lag = backlog.oldestReceived.map { max(0, Double(CivilTime.nowMicroseconds() - $0) / 1e6) } ?? 0
        return [
            .single("lookout_events_shipping_backlog",
                    help: "Stored pipeline events Elasticsearch has not acknowledged yet.", value: Double(backlog.count)),
            .single("lookout_events_shipping_lag_seconds",
                    help: "Age of the oldest stored pipeline event Elasticsearch has not acknowledged; 0 when none waits.",
                    value: lag),
        ]
    }
}
