/// One document for a bulk `create`: its deterministic id, the time its index is chosen by, and
/// its JSON source.
///
/// The id is a function of the source record (a journal entry's boot id, seqnum id and seqnum; a
/// pipeline event's own id), so a batch sent twice after a crash is indexed once: the second
/// `create` answers 409, which counts as delivered.
package struct BulkDocument: Sendable, Equatable {
    /// The `_id`, unique per source record.
    package var id: String
    /// The document's own time (microseconds since the Unix epoch, UTC); a dated index pattern
    /// takes its date from here, never from the wall clock, so a retry lands in the same index.
    package var timestampMicroseconds: Int64
    /// The document as one line of JSON, without the trailing newline.
    package var source: [UInt8]

    /// Creates a document.
    package init(id: String, timestampMicroseconds: Int64, source: [UInt8]) {
        self.id = id
        self.timestampMicroseconds = timestampMicroseconds
        self.source = source
    }
}

/// How the documents of one batch were resolved.
package struct ShipmentReport: Sendable, Equatable {
    /// Documents the server created.
    package var indexed: Int
    /// Documents the server already had (409 on `create`): delivered by an earlier attempt.
    package var duplicates: Int
    /// Documents refused for good (mapping errors and other 4xx), written to the dead-letter file.
    package var deadLettered: Int

    /// Creates a report.
    package init(indexed: Int = 0, duplicates: Int = 0, deadLettered: Int = 0) {
        self.indexed = indexed
        self.duplicates = duplicates
        self.deadLettered = deadLettered
    }
}

/// Something that delivers documents to a store and knows when the store has them.
package protocol Shipper: Sendable {
    /// Delivers every document of `batch`, in any order. Returns only when each one is resolved:
    /// indexed, already present, or dead-lettered. Everything else (429, 5xx, 413, connection
    /// errors, timeouts) is retried with backoff for as long as it takes. Throws
    /// `CancellationError` when the calling task is cancelled first; none of the batch then
    /// counts as delivered, and the caller's checkpoint must not move past it.
    func ship(_ batch: [BulkDocument]) async throws -> ShipmentReport
}

/// A shipping failure as the shipper logged it (URLs without credentials).
package struct ShippingError: Sendable, Equatable {
    /// When it happened, microseconds since the epoch.
    package var time: Int64
    /// What happened.
    package var message: String

    /// Creates the error.
    package init(time: Int64, message: String) {
        self.time = time
        self.message = message
    }
}
