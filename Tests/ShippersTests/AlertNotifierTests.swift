import Logging
import MetricModel
import Shipping
import Testing
@testable import Shippers

/// The Alertmanager notifier's queue, body and delivery. The happy path against a real
/// Alertmanager is IntegrationTests' GateEndToEndTests; the scripted server here gives the
/// answers a real one gives only when broken (5xx) or misused (4xx).
@Suite(.timeLimit(.minutes(1))) struct AlertNotifierTests {
    static let alert = AlertNotification(
        labels: [Label("alertname", "HostLoadHigh"), Label("severity", "warning")],
        annotations: [Label("summary", "load \"5\" on h")],
        startsAt: 1_764_150_000_000, endsAt: 1_764_150_240_000, generatorURL: "http://h:10100/graph?g0.expr=node_load1&g0.tab=1")

    static func notifier(_ urls: [String]) -> AlertNotifier {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return AlertNotifier(urls: urls, timeout: .seconds(5), logger: logger)
    }

    /// The value of one `lookout_notifications_*` family (the sample for `alertmanager`, if given).
    static func value(_ notifier: AlertNotifier, _ name: String, alertmanager: String? = nil) throws -> Double? {
        try notifier.collect().first { $0.name == name }?.samples
            .first { alertmanager == nil || $0.labels == [Label("alertmanager", alertmanager!)] }?.value
    }

    /// Runs `notifier` until `done` holds (checked every 50 ms) or 20 s pass.
    static func run(_ notifier: AlertNotifier, until done: @escaping () throws -> Bool) async throws {
        let task = Task { try await notifier.run() }
        defer { task.cancel() }
        for _ in 0..<400 where try !done() {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func theBodyIsAlertmanagersV2Shape() {
        let body = String(decoding: AlertNotifier.body([Self.alert]), as: UTF8.self)
        #expect(body == #"[{"labels":{"alertname":"HostLoadHigh","severity":"warning"},"annotations":{"summary":"load \"5\" on h"},"# +
            #""startsAt":"2025-11-26T09:40:00.000000Z","endsAt":"2025-11-26T09:44:00.000000Z","generatorURL":"http://h:10100/graph?g0.expr=node_load1&g0.tab=1"}]"#)
    }

    @Test func aFullQueueDropsTheOldestAndCountsThem() throws {
        let notifier = Self.notifier(["http://127.0.0.1:9"])
        notifier.enqueue(Array(repeating: Self.alert, count: AlertNotifier.capacity + 5))
        #expect(try Self.value(notifier, "lookout_notifications_dropped_total") == 5)
        #expect(try Self.value(notifier, "lookout_notifications_queue_length") == Double(AlertNotifier.capacity))
    }

    @Test func anAcceptedBatchIsCountedAsSent() async throws {
        let server = try FaultServer(otherStatus: 200)
        defer { server.stop() }
        let notifier = Self.notifier([server.url])
        notifier.enqueue([Self.alert, Self.alert])
        try await Self.run(notifier) { try Self.value(notifier, "lookout_notifications_sent_total", alertmanager: server.url) == 2 }
        #expect(try Self.value(notifier, "lookout_notifications_sent_total", alertmanager: server.url) == 2)
        #expect(try Self.value(notifier, "lookout_notifications_queue_length") == 0)
        #expect(server.otherRequests.count == 1)
        #expect(server.otherRequests.first?.hasPrefix("POST /api/v2/alerts [{\"labels\"") == true)
    }

    @Test func aRefusedBatchIsNotAskedAgain() async throws {
        let server = try FaultServer(otherStatus: 400)
        defer { server.stop() }
        let notifier = Self.notifier([server.url])
        notifier.enqueue([Self.alert, Self.alert])
        try await Self.run(notifier) { try Self.value(notifier, "lookout_notifications_errors_total", alertmanager: server.url) == 2 }
        #expect(try Self.value(notifier, "lookout_notifications_errors_total", alertmanager: server.url) == 2)
        #expect(server.otherRequests.count == 1)
    }

    @Test func aFailingAlertmanagerIsAskedThreeTimesMore() async throws {
        // 1 s, 2 s and 4 s apart, then the batch counts as failed for that Alertmanager only.
        let failing = try FaultServer(otherStatus: 503)
        let healthy = try FaultServer(otherStatus: 200)
        defer {
            failing.stop()
            healthy.stop()
        }
        let notifier = Self.notifier([failing.url, healthy.url])
        notifier.enqueue([Self.alert])
        try await Self.run(notifier) { try Self.value(notifier, "lookout_notifications_errors_total", alertmanager: failing.url) == 1 }
        #expect(try Self.value(notifier, "lookout_notifications_errors_total", alertmanager: failing.url) == 1)
        #expect(failing.otherRequests.count == 4)
        #expect(try Self.value(notifier, "lookout_notifications_sent_total", alertmanager: healthy.url) == 1)
        #expect(try Self.value(notifier, "lookout_notifications_errors_total", alertmanager: healthy.url) == 0)
    }
}
