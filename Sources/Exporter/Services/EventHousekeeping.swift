import Collectors
import Logging
import LookoutSupport
import MetricModel
import PipelineEvents
import ServiceLifecycle
import Synchronization

/// The events store's housekeeping, while the events API is on:
///
/// - **Spool import**, at start-up and every `spoolInterval`: each spooled event is checked with
///   the API's own rules, committed to the store like a POSTed one (a re-sent id is a
///   duplicate, not a copy), and only then its file removed. A file that is not a valid event
///   is moved to `rejected/`, logged in one line and counted; it never blocks the others.
/// - **Retention**, at start-up and hourly: events received more than `retention` ago are
///   deleted, never one that Elasticsearch has not acknowledged yet when shipping is on.
struct EventHousekeeping: Service {
    /// The endpoint whose store, counters and statistics imported events go through.
    let endpoint: EventsEndpoint
    /// Where CLI clients leave events.
    let spool: EventSpool
    /// How often the spool is looked at.
    let spoolInterval: Duration
    /// How long events are kept; nil keeps them.
    let retention: Duration?
    /// Whether shipping is on, so that pruning waits for the shipping watermark.
    let ships: Bool
    /// Spool files imported and rejected.
    let counts: SpoolCounters
    let logger: Logger

    /// Most spool files taken per round, so a huge backlog never starves the API of the store.
    static let filesPerRound = 1_000

    /// The service for `configuration` over `endpoint`. Creates the spool directory.
    static func make(_ configuration: ExporterConfiguration, endpoint: EventsEndpoint, logger: Logger) throws(ConfigurationError) -> EventHousekeeping {
        let spool = EventSpool(directory: configuration.spoolDirectory)
        do {
            try spool.create()
        } catch {
            throw ConfigurationError(key: "events.spool-dir", line: nil, message: error.description)
        }
        return EventHousekeeping(
            endpoint: endpoint, spool: spool, spoolInterval: .seconds(5), retention: configuration.eventsRetention,
            ships: !configuration.elasticsearch.urls.isEmpty, counts: SpoolCounters(), logger: logger)
    }

    func run() async throws {
        let clock = ContinuousClock()
        var nextPrune = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await importSpool()
            if clock.now >= nextPrune {
                await prune()
                nextPrune = clock.now + .seconds(3_600)
            }
            // Asleep until the next import: a graceful shutdown or cancellation ends the sleep at once.
            guard (try? await cancelWhenGracefulShutdown { [spoolInterval] in try await Task.sleep(for: spoolInterval) }) != nil else { return }
        }
    }

    /// Imports what is in the spool now.
    func importSpool() async {
        let files: [String]
        do {
            files = try spool.pending()
        } catch {
            endpoint.errors.emit(.events, .spool, "cannot list the event spool", metadata: ["error": "\(error)"], to: logger)
            return
        }
        for file in files.prefix(Self.filesPerRound) {
            let received = CivilTime.nowMicroseconds()
            let events: [PipelineEvent]
            do {
                // The log names the file and why, never what it holds: the spool is writable by
                // others, and its content is theirs (it stays in rejected/ for a person to read).
                var refusal: String? = nil
                var decoded: [PipelineEvent] = []
                switch try spool.read(file, maximumBytes: endpoint.maxBodyBytes) {
                case .refused(let why): refusal = why
                case .content(let bytes):
                    switch EventsEndpoint.decode(bytes, receivedAt: received) {
                    case .success(let found): decoded = found
                    case .failure: refusal = "not a valid event"
                    }
                }
                if let refusal {
                    let moved = try spool.reject(file)
                    counts.rejected()
                    endpoint.errors.emit(.events, .spoolRejected, "a spooled file is refused; moved aside",
                                         metadata: ["file": "\(moved)", "reason": "\(refusal)"], to: logger)
                    continue
                }
                events = decoded
            } catch {
                endpoint.errors.emit(.events, .spool, "cannot read the event spool", metadata: ["error": "\(error)"], to: logger)
                return
            }
            do {
                _ = try await endpoint.commit(events, receivedAt: received)
            } catch {
                endpoint.errors.emit(.events, .store, "cannot store spooled events; they stay in the spool",
                                     metadata: ["error": "\(error)"], to: logger)
                return
            }
            do {
                try spool.remove(file)
            } catch {
                // Stored already: importing it again is a duplicate, not a copy.
                endpoint.errors.emit(.events, .spool, "cannot remove an imported spool file", metadata: ["error": "\(error)"], to: logger)
            }
            counts.imported()
        }
    }

    /// Deletes events past the retention.
    func prune() async {
        guard let retention else { return }
        let cutoff = CivilTime.nowMicroseconds() - retention.components.seconds * 1_000_000
        do {
            let deleted = try await BlockingWork.run { [endpoint, ships] () throws(EventStoreError) in
                let shipped = ships ? try endpoint.store.watermark(EventShipping.watermark) : nil
                return try endpoint.store.prune(receivedBefore: cutoff, notAfter: shipped)
            }
            if deleted > 0 { logger.info("deleted events past the retention", metadata: ["events": "\(deleted)"]) }
        } catch {
            endpoint.errors.emit(.events, .store, "cannot delete events past the retention", metadata: ["error": "\(error)"], to: logger)
        }
    }
}

/// Spool files imported and rejected, as `lookout_events_spool_files_total{result}`.
final class SpoolCounters: MetricCollector, Sendable {
    /// The collector's name.
    let name = "events_spool"
    private let counts = Mutex((imported: UInt64(0), rejected: UInt64(0)))

    /// One file's events are stored.
    func imported() { counts.withLock { $0.imported += 1 } }
    /// One file was moved to `rejected/`.
    func rejected() { counts.withLock { $0.rejected += 1 } }

    func collect() throws -> [MetricFamily] {
        let (imported, rejected) = counts.withLock { ($0.imported, $0.rejected) }
        return [MetricFamily(
            name: "lookout_events_spool_files_total",
            help: "Spooled event files the daemon imported, or moved to rejected/ because they held no valid event.",
            type: .counter,
            samples: [Sample(labels: [Label("result", "imported")], value: Double(imported)),
                      Sample(labels: [Label("result", "rejected")], value: Double(rejected))])]
    }
}
