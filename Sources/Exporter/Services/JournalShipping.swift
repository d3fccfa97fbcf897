import Collectors
import Dispatch
import Logging
import LookoutSupport
import MetricModel
import Shipping
import ServiceLifecycle
import Shippers

/// The journal half of the daemon: a reader thread fills a bounded channel with batches, this
/// service ships each batch and only then saves the cursor of its last entry. Without a shipper
/// the entries are only counted.
///
/// Shutdown (SIGTERM) is the reverse of start-up: the reader stops and hands over its partial
/// batch, in-flight batches are shipped within the grace period, the cursor is saved, and the
/// service returns. Whatever was not acknowledged by then is read again on the next start and
/// indexed once, thanks to `create` with deterministic ids.
struct JournalShipping: Service {
    /// The reader.
    let source: JournaldSource
    /// Where batches go; nil to only count.
    let shipper: ElasticsearchShipper?
    /// Where the cursor of the last acknowledged entry is kept.
    let checkpoint: CheckpointFile
    /// The cursor saved by the last run, read once at start-up; reading resumes after it.
    let savedCursor: String?
    /// The journal's counters (acknowledged position, for the lag gauge).
    let counters: JournalCounters
    /// How long shutdown waits for in-flight batches.
    let gracePeriod: Duration
    /// Most batches in flight at once (`--elasticsearch.concurrency`).
    let concurrency: Int
    /// Errors go here too, as `component="journal"`.
    let errors: ComponentErrors
    let logger: Logger

    /// Builds the service when the configuration reads the journal; nil otherwise. Also returns
    /// the collectors that expose its metrics (the shipper's `stats` are the caller's to expose). Problems with settings or files come back as one
    /// `ConfigurationError` naming the setting.
    static func make(_ configuration: ExporterConfiguration, stats: ElasticsearchStats, errors: ComponentErrors, logger: Logger)
        throws(ConfigurationError) -> (service: JournalShipping, collectors: [any MetricCollector])?
    {
        guard configuration.readsJournal else { return nil }
        let counters = JournalCounters(maximumUnits: configuration.journal.maximumUnits, errors: errors)
        let source = JournaldSource(selection: configuration.journal.selection, start: configuration.journal.start,
                                    counters: counters, limits: configuration.batchLimits, logger: logger)
        let collectors: [any MetricCollector] = [counters]
        var shipper: ElasticsearchShipper?
        if !configuration.elasticsearch.urls.isEmpty {
            var settings = configuration.elasticsearch
            settings.deadLetterPath = configuration.deadLetterFile
            do {
                shipper = try ElasticsearchShipper(settings: settings, logger: logger, errors: errors, stats: stats)
            } catch {
                throw ConfigurationError(key: "elasticsearch", line: nil, message: error.description)
            }
        }
        let checkpoint = CheckpointFile(path: configuration.journalCursorFile)
        var savedCursor: String?
        if shipper != nil {
            do {
                savedCursor = try checkpoint.load()
            } catch {
                throw ConfigurationError(key: "journal.cursor-file", line: nil, message: error.description)
            }
        }
        let service = JournalShipping(
            source: source, shipper: shipper, checkpoint: checkpoint, savedCursor: savedCursor, counters: counters,
            gracePeriod: configuration.shutdownGracePeriod, concurrency: configuration.deliveryConcurrency,
            errors: errors, logger: logger)
        return (service, collectors)
    }

    func run() async throws {
        let cursor = savedCursor
        guard let shipper else {
            // Counting only: stop reading on shutdown or cancellation, nothing to flush.
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await runReader(after: nil, into: nil)
                } onGracefulShutdown: {
                    source.stop()
                }
            } onCancel: {
                source.stop()
            }
            return
        }
        let channel = BatchChannel(capacity: 2)
        let delivery = Task {
            // The template goes in before the first batch; shutdown cancels this like a batch.
            guard (try? await shipper.prepare()) != nil else {
                channel.close()
                return
            }
            logger.info("shipping the journal", metadata: [
                "source": "\(source.selection.source)", "cursor": "\(cursor ?? "none; starting at \(source.start)")",
            ])
            await deliver(from: channel, with: shipper)
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await runReader(after: cursor, into: channel)
                await delivery.value
            } onGracefulShutdown: {
                source.stop()
                let grace = gracePeriod
                Task {
                    try? await Task.sleep(for: grace)
                    delivery.cancel()
                }
            }
        } onCancel: {
            source.stop()
            delivery.cancel()
        }
        logger.info("journal shipping stopped", metadata: ["cursor": "\((try? checkpoint.load()).flatMap { $0 } ?? "none")"])
    }

    /// Runs the reader on a thread of its own until it is stopped; then makes sure nothing is
    /// left waiting on the channel.
    private func runReader(after cursor: String?, into channel: BatchChannel?) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue(label: "lookout.journal").async {
                source.run(after: cursor, into: channel) { startCursor in
                    // Shipping with no saved cursor: the start position is saved durably before
                    // the first entry is read, so a restart before any batch is delivered loses
                    // nothing written in between.
                    guard channel != nil else { return }
                    do {
                        try checkpoint.save(startCursor)
                    } catch {
                        errors.emit(.journal, .checkpointWrite, "cannot save the journal's start position",
                                    metadata: ["file": "\(checkpoint.path)", "error": "\(error)"], to: logger)
                    }
                }
                done.resume()
            }
        }
    }

    /// Ships batches, up to ``concurrency`` at once, and saves each one's cursor once it and
    /// every batch before it are delivered, so the saved cursor is always a delivered prefix.
    /// Stops when the channel ends or the task is cancelled (grace period over), leaving the
    /// cursor at the last batch delivered in order.
    private func deliver(from channel: BatchChannel, with shipper: ElasticsearchShipper) async {
        defer { channel.close() }  // a reader blocked on a full channel must not wait forever
        await withTaskGroup(of: (sequence: Int, delivered: Bool).self) { group in
            var received = 0
            var nextToCommit = 0
            var batches: [Int: SourceBatch] = [:]
            var delivered: Set<Int> = []
            var open = true
            while true {
                // Take batches while there is room: wait for one only when nothing is in flight,
                // so a finished delivery is committed at once even when the journal is quiet.
                taking: while open && batches.count < concurrency {
                    let batch: SourceBatch
                    if batches.isEmpty {
                        guard let next = await channel.receive() else {
                            open = false
                            break taking
                        }
                        batch = next
                    } else {
                        switch channel.poll() {
                        case .batch(let next): batch = next
                        case .empty: break taking
                        case .closed:
                            open = false
                            break taking
                        }
                    }
                    let sequence = received
                    received += 1
                    batches[sequence] = batch
                    group.addTask { (sequence, (try? await shipper.ship(batch.documents)) != nil) }
                }
                guard let result = await group.next() else { return }
                guard result.delivered else {
                    group.cancelAll()  // cancelled: nothing from here on counts as delivered
                    return
                }
                delivered.insert(result.sequence)
                while delivered.remove(nextToCommit) != nil, let batch = batches.removeValue(forKey: nextToCommit) {
                    commit(batch)
                    nextToCommit += 1
                }
            }
        }
    }

    /// Saves a delivered batch's cursor and notes its entries as acknowledged.
    private func commit(_ batch: SourceBatch) {
        do {
            try checkpoint.save(batch.checkpoint)
        } catch {
            errors.emit(.journal, .checkpointWrite,
                        "cannot save the journal cursor; entries since the last save will be sent again after a restart",
                        metadata: ["error": "\(error)"], to: logger)
        }
        counters.recordAcknowledged(realtime: batch.newestReceived, count: batch.documents.count)
    }
}

/// Exposes the shipper's statistics through the registry, as collector `elasticsearch`.
struct ShipperStatistics: MetricCollector {
    let stats: ElasticsearchStats
    var name: String { "elasticsearch" }
    func collect() -> [MetricFamily] { stats.families() }
}
