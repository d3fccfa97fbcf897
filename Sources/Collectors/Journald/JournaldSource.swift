import Logging
import Shipping
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How big a batch may grow and how long a partial one may wait.
package struct BatchLimits: Sendable, Equatable {
    /// Most documents in one batch.
    package var maximumDocuments: Int
    /// Most JSON bytes in one batch (well under Elasticsearch's 100 MB `http.max_content_length`).
    package var maximumBytes: Int
    /// Longest a document waits in a partial batch before the batch is sent anyway.
    package var flushInterval: Duration

    /// Creates limits; the defaults are 5000 documents, 8 MiB and one second.
    package init(maximumDocuments: Int = 5000, maximumBytes: Int = 8 << 20, flushInterval: Duration = .seconds(1)) {
        self.maximumDocuments = maximumDocuments
        self.maximumBytes = maximumBytes
        self.flushInterval = flushInterval
    }
}

/// Reads the journal on a thread of its own and hands batches of documents to a
/// ``BatchChannel``: the producing half of journal shipping.
///
/// Each batch carries the cursor of its last entry; the consumer saves it only after the whole
/// batch is delivered, so what is saved is always a prefix of what was acknowledged.
package final class JournaldSource: Sendable {
    /// What is read.
    package let selection: JournalSelection
    /// Where reading starts without a saved cursor.
    package let start: JournalStart
    /// The counters fed for every entry read.
    package let counters: JournalCounters
    /// Batch bounds.
    package let limits: BatchLimits
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)

    /// Creates a source; nothing is read until ``run(after:into:)``.
    package init(selection: JournalSelection, start: JournalStart, counters: JournalCounters, limits: BatchLimits,
                logger: Logger) {
        self.selection = selection
        self.start = start
        self.counters = counters
        self.limits = limits
        self.logger = logger
    }

    /// Asks ``run(after:into:)`` to hand over its partial batch, close the channel and return
    /// (within a quarter of a second).
    package func stop() {
        stopping.store(true, ordering: .releasing)
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Reads entries after `cursor` (or from ``start``) until ``stop()``, blocking the calling
    /// thread; when `channel` is nil the entries are only counted. Errors opening or reading the
    /// journal are logged once, counted, and retried every second from the last entry read.
    ///
    /// With no cursor, `positioned` is called once with the cursor of the entry the reader starts
    /// after (the last one, for `tail`), before anything is read, so that the caller can save it:
    /// a restart before the first batch is delivered then resumes there instead of at a new tail.
    package func run(after cursor: String?, into channel: BatchChannel?, positioned: (String) -> Void = { _ in }) {
        var reader: JournalReader?
        var resumeCursor = cursor
        var startOverride: JournalStart?
        var lastFailure: String?
        var failuresAtCursor = 0
        var encoder = JournalDocumentEncoder()
        var entry = JournalEntry()
        var pending = PendingBatch()
        let flushMicroseconds = UInt64(limits.flushInterval.components.seconds) * 1_000_000
            + UInt64(limits.flushInterval.components.attoseconds / 1_000_000_000_000)

        while !isStopping {
            do throws(JournalError) {
                if reader == nil {
                    reader = try JournalReader(selection: selection, start: startOverride ?? start, after: resumeCursor,
                                               counters: counters)
                    if resumeCursor == nil, let startCursor = reader?.lastCursor {
                        resumeCursor = startCursor
                        positioned(startCursor)
                    }
                    if lastFailure != nil { logger.info("journal readable again", metadata: ["source": "\(selection.source)"]) }
                    lastFailure = nil
                }
                guard let current = reader else { continue }
                while !isStopping, try current.next(into: &entry) {
                    var source: [UInt8] = []
                    source.reserveCapacity(entry.bytes.count + 512)
                    let facts = encoder.encode(entry, into: &source)
                    let unit = facts.unit.map { field in
                        entry.bytes.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[(field.separator + 1)..<field.end]) }
                    }
                    counters.recordEntry(unit: unit, priority: facts.priority, realtime: entry.realtime,
                                         binaryFields: facts.base64Fields)
                    guard let channel else {
                        counters.recordAcknowledged(realtime: entry.realtime, count: 1)
                        continue
                    }
                    if pending.documents.isEmpty { pending.startedAt = Self.monotonicMicroseconds() }
                    pending.byteCount += source.count
                    pending.documents.append(BulkDocument(id: facts.id, timestampMicroseconds: facts.timestampMicroseconds,
                                                          source: source))
                    pending.newestReceived = max(pending.newestReceived, entry.realtime)
                    if pending.documents.count >= limits.maximumDocuments || pending.byteCount >= limits.maximumBytes
                        || Self.monotonicMicroseconds() - pending.startedAt >= flushMicroseconds {
                        guard hand(&pending, checkpoint: current.lastCursor, to: channel) else { return }
                    }
                }
                resumeCursor = current.lastCursor ?? resumeCursor
                if let channel, !pending.documents.isEmpty,
                   Self.monotonicMicroseconds() - pending.startedAt >= flushMicroseconds || isStopping {
                    guard hand(&pending, checkpoint: current.lastCursor, to: channel) else { return }
                }
                if isStopping { break }
                let untilFlush = pending.documents.isEmpty
                    ? 250_000 : flushMicroseconds - min(flushMicroseconds, Self.monotonicMicroseconds() - pending.startedAt)
                try current.wait(microseconds: max(1000, min(250_000, untilFlush)))
            } catch {
                let progressed = reader?.lastCursor.map { $0 != resumeCursor } ?? false
                resumeCursor = reader?.lastCursor ?? resumeCursor
                reader = nil
                failuresAtCursor = progressed ? 1 : failuresAtCursor + 1
                if error.code == EINVAL, let bad = resumeCursor, reader == nil, !progressed {
                    // The saved cursor is not one sd-journal can parse: nothing to resume from.
                    logger.error("the saved journal cursor is not valid; starting at the configured start position",
                                 metadata: ["cursor": "\(bad)", "start": "\(start)"])
                    counters.recordReadError(.badCursor)
                    resumeCursor = nil
                    continue
                }
                if error.isCorruption, failuresAtCursor >= 3, let stuck = resumeCursor,
                   let realtime = CursorFields(stuck).realtime {
                    // The same damaged region three times over: step past it by time. What lies
                    // in it cannot be read by anyone; it is counted, not silently skipped.
                    logger.error("the journal is damaged after an entry; skipping ahead by time",
                                 metadata: ["cursor": "\(stuck)"])
                    counters.recordReadError(.skippedRegion)
                    counters.recordLost(1)
                    resumeCursor = nil
                    startOverride = .since(realtime + 1)
                    failuresAtCursor = 0
                    continue
                }
                counters.recordReadError(.readError)
                if lastFailure != error.description {
                    logger.error("journal unreadable; retrying every second",
                                 metadata: ["source": "\(selection.source)", "error": "\(error)"])
                    lastFailure = error.description
                }
                for _ in 0..<4 where !isStopping { usleep(250_000) }
            }
        }
        if let channel {
            if !pending.documents.isEmpty, let checkpoint = reader?.lastCursor ?? resumeCursor {
                _ = hand(&pending, checkpoint: checkpoint, to: channel)
            }
            channel.close()
        }
    }

    /// Sends the pending batch; false when the channel was closed under us.
    private func hand(_ pending: inout PendingBatch, checkpoint: String?, to channel: BatchChannel) -> Bool {
        guard let checkpoint else { return true }
        let batch = SourceBatch(documents: pending.documents, checkpoint: checkpoint, newestReceived: pending.newestReceived)
        pending = PendingBatch()
        return channel.send(batch)
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}

/// The batch being filled.
private struct PendingBatch {
    var documents: [BulkDocument] = []
    var byteCount = 0
    var newestReceived: UInt64 = 0
    var startedAt: UInt64 = 0
}
