import Curl
import Logging
import LookoutSupport
import MetricModel
import ServiceLifecycle
import Shipping
import Synchronization

/// Sends alerts to Alertmanagers in their v2 API form (`POST /api/v2/alerts`, a JSON array of
/// `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`), as Prometheus' notifier does:
/// a bounded queue (the oldest alerts are dropped, and counted, when it overflows), batches of
/// at most 64, every Alertmanager gets every batch. A failed request is retried (1 s, 2 s, 4 s)
/// before the batch counts as failed for that Alertmanager; the rule engine re-sends firing
/// alerts every `--alertmanager.resend-delay` anyway.
package final class AlertNotifier: Service, MetricCollector, AlertSink {
    /// Alerts queued at most; Prometheus' `--alertmanager.notification-queue-capacity` default.
    package static let capacity = 10_000
    /// Alerts per request.
    package static let batchSize = 64

    /// The collector's name, `alertmanager`.
    package let name = "alertmanager"
    private let urls: [String]
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex(State())
    /// One element each time alerts are queued (at most one waits), so that `run` sleeps until
    /// there is something to send instead of polling the queue.
    private let queued = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    private struct State {
        var queue: [AlertNotification] = []
        var dropped = 0
        var sent: [String: Int] = [:]
        var failed: [String: Int] = [:]
        var failing: Set<String> = []
    }

    /// A notifier sending to the Alertmanagers at `urls` (base URLs), each request within `timeout`.
    package init(urls: [String], timeout: Duration, logger: Logger) {
        self.urls = urls
        self.timeout = timeout
        self.logger = logger
    }

    /// Queues `notifications`, dropping the oldest queued ones beyond the capacity.
    package func enqueue(_ notifications: [AlertNotification]) {
        guard !notifications.isEmpty else { return }
        state.withLock { state in
            state.queue += notifications
            let excess = state.queue.count - Self.capacity
            if excess > 0 {
                state.queue.removeFirst(excess)
                state.dropped += excess
            }
        }
        queued.continuation.yield()
    }

    /// Sends queued alerts in batches until shutdown.
    package func run() async throws {
        // Ends on a graceful shutdown or cancellation, as the stream does.
        for await _ in queued.stream.cancelOnGracefulShutdown() {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let batch = state.withLock { state -> [AlertNotification] in
                    let batch = Array(state.queue.prefix(Self.batchSize))
                    state.queue.removeFirst(batch.count)
                    return batch
                }
                if batch.isEmpty { break }
                let body = Self.body(batch)
                await withTaskGroup(of: Void.self) { group in
                    for url in urls { group.addTask { await self.deliver(body, count: batch.count, to: url) } }
                }
            }
        }
    }

    /// Posts one batch to one Alertmanager, with retries.
    private func deliver(_ body: [UInt8], count: Int, to base: String) async {
        let endpoint = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/api/v2/alerts"
        let request = HTTPRequest(method: "POST", url: endpoint, headers: ["Content-Type: application/json"], body: body)
        var problem = ""
        for attempt in 0..<4 {
            if attempt > 0 {
                try? await Task.sleep(for: .seconds(1 << (attempt - 1)))
                if Task.isCancelled { break }
            }
            do {
                let response = try await CurlEasy().perform(request, options: TransferOptions(requestTimeout: timeout, connectTimeout: timeout))
                if (200..<300).contains(response.status) {
                    let recovered = state.withLock { state in
                        state.sent[base, default: 0] += count
                        return state.failing.remove(base) != nil
                    }
                    if recovered { logger.info("alertmanager reachable again", metadata: ["alertmanager": "\(base)"]) }
                    return
                }
                problem = "HTTP \(response.status): " + String(decoding: response.body.prefix(200), as: UTF8.self)
                // 4xx other than 429 will not get better by asking again.
                if (400..<500).contains(response.status) && response.status != 429 { break }
            } catch {
                problem = "\(error)"
            }
        }
        let first = state.withLock { state in
            state.failed[base, default: 0] += count
            return state.failing.insert(base).inserted
        }
        if first { logger.error("cannot send alerts to alertmanager", metadata: ["alertmanager": "\(base)", "error": "\(problem)"]) }
    }

    /// The JSON array Alertmanager's v2 API takes.
    package static func body(_ notifications: [AlertNotification]) -> [UInt8] {
        JSONObjectWriter.array(notifications.map { alert in
            var object = JSONObjectWriter()
            object.labels("labels", alert.labels)
            object.labels("annotations", alert.annotations)
            object.time("startsAt", alert.startsAt * 1000)
            object.time("endsAt", alert.endsAt * 1000)
            object.string("generatorURL", alert.generatorURL)
            return object.finished()
        })
    }

    /// `lookout_notifications_*`: alerts sent, failed and dropped, and the queue.
    package func collect() throws -> [MetricFamily] {
        let state = state.withLock { $0 }
        func perAlertmanager(_ name: String, _ help: String, _ counts: [String: Int]) -> MetricFamily {
            MetricFamily(name: name, help: help, type: .counter,
                         samples: urls.map { Sample(labels: [Label("alertmanager", $0)], value: Double(counts[$0] ?? 0)) })
        }
        return [
            perAlertmanager("lookout_notifications_sent_total", "Alerts an Alertmanager accepted.", state.sent),
            perAlertmanager("lookout_notifications_errors_total", "Alerts that could not be sent to an Alertmanager after retries.", state.failed),
            MetricFamily(name: "lookout_notifications_dropped_total", help: "Alerts dropped because the notification queue was full.",
                         type: .counter, samples: [Sample(labels: [], value: Double(state.dropped))]),
            MetricFamily(name: "lookout_notifications_queue_length", help: "Alerts waiting to be sent.",
                         type: .gauge, samples: [Sample(labels: [], value: Double(state.queue.count))]),
            MetricFamily(name: "lookout_notifications_queue_capacity", help: "Alerts the notification queue holds at most.",
                         type: .gauge, samples: [Sample(labels: [], value: Double(Self.capacity))]),
        ]
    }
}
