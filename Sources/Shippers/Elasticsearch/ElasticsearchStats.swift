import MetricModel
import Shipping
import Synchronization

/// The shipper's own telemetry, read at each scrape through `families()`. Safe to use from
/// several tasks.
package final class ElasticsearchStats: Sendable {
    /// The request status classes counted by `lookout_elasticsearch_requests_total{status}`; a
    /// fixed set so the label stays bounded.
    enum RequestStatus: String, CaseIterable, Sendable {
        case success = "2xx"
        case clientError = "4xx"
        case serverError = "5xx"
        case payloadTooLarge = "413"
        case tooManyRequests = "429"
        case error

        /// The class of an HTTP status.
        init(httpStatus: Int) {
            switch httpStatus {
            case 413: self = .payloadTooLarge
            case 429: self = .tooManyRequests
            case 200..<300: self = .success
            case 400..<500: self = .clientError
            case 500..<600: self = .serverError
            default: self = .error
            }
        }
    }

    /// Upper bounds of the request duration histogram, seconds.
    static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    private struct Counts {
        var documentsSent: UInt64 = 0
        var indexed: UInt64 = 0
        var duplicates: UInt64 = 0
        var retried: UInt64 = 0
        var deadLettered: UInt64 = 0
        var bytesSent: UInt64 = 0
        var requests: [RequestStatus: UInt64] = [:]
        var durationBucketCounts = [UInt64](repeating: 0, count: ElasticsearchStats.durationBuckets.count)
        var durationSum: Double = 0
        var durationCount: UInt64 = 0
        var batchesInFlight = 0
        var consecutiveFailures = 0
        var lastSuccessSeconds: Double = 0
        var lastError: ShippingError?
    }

    private let counts = Mutex(Counts())

    /// Creates zeroed statistics.
    package init() {}

    func batchStarted() { counts.withLock { $0.batchesInFlight += 1 } }
    func batchFinished() { counts.withLock { $0.batchesInFlight -= 1 } }

    /// One request attempt put `documents` documents and `bytes` body bytes on the wire.
    func sent(documents: Int, bytes: Int) {
        counts.withLock {
            $0.documentsSent += UInt64(documents)
            $0.bytesSent += UInt64(bytes)
        }
    }

    /// A request ended (`httpStatus` nil when no response came) after `seconds`.
    func requestEnded(httpStatus: Int?, seconds: Double) {
        counts.withLock { counts in
            counts.requests[httpStatus.map(RequestStatus.init(httpStatus:)) ?? .error, default: 0] += 1
            if let bucket = Self.durationBuckets.firstIndex(where: { seconds <= $0 }) {
                counts.durationBucketCounts[bucket] += 1
            }
            counts.durationSum += seconds
            counts.durationCount += 1
        }
    }

    /// A request was answered and its answer understood, at `nowSeconds` (Unix time).
    func succeeded(nowSeconds: Double) {
        counts.withLock {
            $0.consecutiveFailures = 0
            $0.lastSuccessSeconds = nowSeconds
        }
    }

    /// A request failed as a whole (transport error, 401/403, 429, 5xx, unreadable answer).
    func failed() { counts.withLock { $0.consecutiveFailures += 1 } }

    /// Keeps `message` as the most recent failure, at `timeMicroseconds`. The message must not
    /// carry credentials: the shipper passes URLs through its redaction first.
    func noteError(_ message: String, timeMicroseconds: Int64) {
        counts.withLock { $0.lastError = ShippingError(time: timeMicroseconds, message: message) }
    }

    /// The most recent failure, healed or not; nil until one happens. Not a metric (its text
    /// would be an unbounded label): `GET /api/v1/summary` shows it.
    package var lastError: ShippingError? { counts.withLock { $0.lastError } }

    func acknowledged(indexed: Int, duplicates: Int) {
        counts.withLock {
            $0.indexed += UInt64(indexed)
            $0.duplicates += UInt64(duplicates)
        }
    }

    func retried(_ documents: Int) { counts.withLock { $0.retried += UInt64(documents) } }
    func deadLettered(_ documents: Int) { counts.withLock { $0.deadLettered += UInt64(documents) } }

    /// Every family, in a fixed order, with every label value present (zero until it happens).
    package func families() -> [MetricFamily] {
        let snapshot = counts.withLock { $0 }
        var cumulative: UInt64 = 0
        let buckets = zip(Self.durationBuckets, snapshot.durationBucketCounts).map { bound, count in
            cumulative += count
            return (upperBound: bound, count: cumulative)
        }
        return [
            .single(
                "lookout_elasticsearch_documents_sent_total",
                help: "Documents put in bulk requests, counting each attempt.",
                type: .counter, value: Double(snapshot.documentsSent)),
            MetricFamily(
                name: "lookout_elasticsearch_documents_acknowledged_total",
                help: "Documents Elasticsearch confirmed: indexed, or already present from an earlier attempt (duplicate).",
                type: .counter,
                samples: [
                    Sample(labels: [Label("result", "indexed")], value: Double(snapshot.indexed)),
                    Sample(labels: [Label("result", "duplicate")], value: Double(snapshot.duplicates)),
                ]),
            .single(
                "lookout_elasticsearch_documents_retried_total",
                help: "Documents scheduled for another attempt after a 429, a 5xx or a failed request.",
                type: .counter, value: Double(snapshot.retried)),
            .single(
                "lookout_elasticsearch_documents_dead_lettered_total",
                help: "Documents Elasticsearch refused for good, written to the dead-letter file.",
                type: .counter, value: Double(snapshot.deadLettered)),
            .single(
                "lookout_elasticsearch_bytes_sent_total",
                help: "Bulk request body bytes sent, after compression.",
                type: .counter, value: Double(snapshot.bytesSent)),
            MetricFamily(
                name: "lookout_elasticsearch_requests_total",
                help: "Bulk requests by response status class; error means no response.",
                type: .counter,
                samples: RequestStatus.allCases.map {
                    Sample(labels: [Label("status", $0.rawValue)], value: Double(snapshot.requests[$0] ?? 0))
                }),
            .histogram(
                "lookout_elasticsearch_request_duration_seconds",
                help: "Duration of bulk requests, failed ones included.",
                buckets: buckets, sum: snapshot.durationSum, count: snapshot.durationCount),
            .single(
                "lookout_elasticsearch_batches_in_flight",
                help: "Batches being shipped now.",
                value: Double(snapshot.batchesInFlight)),
            .single(
                "lookout_elasticsearch_consecutive_failures",
                help: "Bulk requests failed in a row since the last understood answer.",
                value: Double(snapshot.consecutiveFailures)),
            .single(
                "lookout_elasticsearch_last_success_timestamp_seconds",
                help: "Unix time of the last understood bulk answer; 0 before the first.",
                value: snapshot.lastSuccessSeconds),
        ]
    }
}
