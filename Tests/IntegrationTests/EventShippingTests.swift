import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PeerSupport
import Testing

/// Pipeline events from the events API to a real OpenSearch-compatible server (osmem-server):
/// every acknowledged event stored and indexed exactly once, across restarts and `kill -9`.
@Suite(.serialized) struct EventShippingTests {
    static let token = "shipping-token"

    /// A daemon receiving events and shipping them (and an empty journal) to the server at `url`.
    static func daemon(shippingTo url: String, journal: String) async throws -> EventsDaemon {
        try await EventsDaemon(token: token, serveArguments: [
            "--collector.disable-defaults",
            "--elasticsearch.url", url, "--journal.directory", journal,
            "--elasticsearch.backoff-initial", "50ms", "--elasticsearch.backoff-max", "500ms",
            "--elasticsearch.flush-interval", "200ms",
        ])
    }

    /// An empty journal directory, so the daemon never reads the host's journal.
    static func emptyJournal() throws -> String { try Harness.temporaryDirectory().path }

    /// The hits of a match-all search of the pipeline indices, with or without their sources.
    static func hits(_ url: String, sources: Bool) async throws -> [[String: Any]] {
        var request = URLRequest(url: URL(string: "\(url)/lookout-pipeline-*/_search")!)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"size":10000,"_source":\#(sources),"query":{"match_all":{}}}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, _) = try await URLSession.shared.data(for: request)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (object?["hits"] as? [String: Any])?["hits"] as? [[String: Any]] ?? []
    }

    /// Every `_id` in the pipeline indices, with repeats if any id were indexed twice.
    static func indexedIDs(_ url: String) async throws -> [String] {
        try await hits(url, sources: false).compactMap { $0["_id"] as? String }
    }

    /// The documents in the pipeline indices, by id, with the index each is in.
    static func documents(_ url: String) async throws -> [String: (index: String, source: [String: Any])] {
        var documents: [String: (index: String, source: [String: Any])] = [:]
        for hit in try await hits(url, sources: true) {
            if let id = hit["_id"] as? String, let index = hit["_index"] as? String, let source = hit["_source"] as? [String: Any] {
                documents[id] = (index, source)
            }
        }
        return documents
    }

    static func metric(_ name: String, from daemon: EventsDaemon) async -> Double? {
        guard let scrape = try? await Harness.get(daemon.url + "/metrics").body else { return nil }
        return scrape.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test func everyEventShipsOnceWithItsFieldsAndARestartAddsNothing() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try Self.emptyJournal()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let daemon = try await Self.daemon(shippingTo: osmem.url, journal: journal)
        defer { daemon.stop() }

        let batch = """
            {"id":"ev-1","type":"run.started","pipeline":"web","run_id":"r1","revision":"abc123","time":"2026-11-20T23:59:59.5Z"}
            {"id":"ev-2","type":"step.finished","pipeline":"web","run_id":"r1","step":"build","result":"success","exit_code":0,"duration_seconds":12.25,"labels":{"team":"infra"},"time":"2026-11-21T00:00:11Z"}
            {"id":"ev-3","type":"dst.report","pipeline":"web","run_id":"r1","step":"dst","dst":{"valid":false,"ok_count":10,"fail_count":2,"info_count":1},"time":"2026-11-21T00:01:00Z"}
            {"id":"ev-4","type":"deploy","pipeline":"web","run_id":"r1","stage":"prod","result":"failure","message":"canary failed","time":"2026-11-21T00:02:00Z"}
            """
        let answer = try await Harness.post(daemon.url + "/api/v1/events", body: batch, headers: ["Authorization": "Bearer \(Self.token)"])
        #expect(answer.status == 200, "\(answer.body)")

        try await Harness.waitUntil(seconds: 30, "4 events in osmem") { (try? await Self.indexedIDs(osmem.url).count) == 4 }
        let documents = try await Self.documents(osmem.url)
        #expect(Set(documents.keys) == ["ev-1", "ev-2", "ev-3", "ev-4"])
        // Each event lands in the index of its own day, not of the day it was shipped.
        #expect(documents["ev-1"]?.index == "lookout-pipeline-2026.11.20")
        #expect(documents["ev-2"]?.index == "lookout-pipeline-2026.11.21")
        let step = try #require(documents["ev-2"]?.source)
        #expect(step["@timestamp"] as? String == "2026-11-21T00:00:11.000000Z")
        let event = try #require(step["event"] as? [String: Any])
        #expect(event["kind"] as? String == "event")
        #expect(event["action"] as? String == "step.finished")
        #expect(event["outcome"] as? String == "success")
        #expect((event["duration"] as? NSNumber)?.int64Value == 12_250_000_000)
        let pipeline = try #require(step["pipeline"] as? [String: Any])
        #expect(pipeline["name"] as? String == "web")
        #expect(pipeline["run_id"] as? String == "r1")
        #expect(pipeline["step"] as? String == "build")
        #expect((step["labels"] as? [String: Any])?["team"] as? String == "infra")
        let dst = try #require((documents["ev-3"]?.source["pipeline"] as? [String: Any])?["dst"] as? [String: Any])
        #expect(dst["valid"] as? Bool == false)
        #expect((dst["fail_count"] as? NSNumber)?.intValue == 2)

        // Lookout's own template gives the event fields their types.
        let template = try await Harness.get(osmem.url + "/_index_template/lookout-pipeline")
        #expect(template.status == 200)
        #expect(template.body.contains("lookout-pipeline-*"))

        try await Harness.waitUntil(seconds: 10, "an empty backlog") { await Self.metric("lookout_events_shipping_backlog", from: daemon) == 0 }
        #expect(await Self.metric("lookout_events_shipping_lag_seconds", from: daemon) == 0)

        // The same events again are duplicates for the store, and a restart sends nothing new.
        let again = try await Harness.post(daemon.url + "/api/v1/events", body: batch, headers: ["Authorization": "Bearer \(Self.token)"])
        #expect(again.body.contains(#""duplicates":4"#))
        try await daemon.restart()
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.indexedIDs(osmem.url).count == 4)
        #expect(await Self.metric("lookout_events_shipping_backlog", from: daemon) == 0)
    }

    @Test func eventsWaitInTheStoreWhileElasticsearchIsDownAndShipWhenItReturns() async throws {
        let journal = try Self.emptyJournal()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        // Reserve a port, start the daemon against it while nothing listens there.
        let port = try Harness.freePort()
        let daemon = try await Self.daemon(shippingTo: "http://127.0.0.1:\(port)", journal: journal)
        defer { daemon.stop() }
        let lines = (1...25).map { #"{"id":"down-\#($0)","type":"note","pipeline":"web","run_id":"r\#($0)","message":"n"}"# }
        let answer = try await Harness.post(daemon.url + "/api/v1/events", body: lines.joined(separator: "\n"),
                                            headers: ["Authorization": "Bearer \(Self.token)"])
        #expect(answer.status == 200)
        try await Harness.waitUntil(seconds: 10, "a backlog of 25") { await Self.metric("lookout_events_shipping_backlog", from: daemon) == 25 }
        try await Task.sleep(for: .milliseconds(500))
        #expect((await Self.metric("lookout_events_shipping_lag_seconds", from: daemon) ?? 0) > 0)

        let osmem = try OsmemServer(address: "127.0.0.1:\(port)")
        defer { osmem.stop() }
        try await Harness.waitUntil(seconds: 30, "25 events in osmem") { (try? await Self.indexedIDs(osmem.url).count) == 25 }
        try await Harness.waitUntil(seconds: 10, "an empty backlog") { await Self.metric("lookout_events_shipping_backlog", from: daemon) == 0 }
    }

    /// Thousands of events from concurrent clients, the daemon killed with SIGKILL mid-stream and
    /// started again: every event answered 2xx is in the store (the rebuilt pipeline counters
    /// count it) and in osmem exactly once.
    @Test func killedMidStreamEveryAcknowledgedEventIsStoredAndIndexedOnce() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try Self.emptyJournal()
        defer { try? FileManager.default.removeItem(atPath: journal) }
        let daemon = try await Self.daemon(shippingTo: osmem.url, journal: journal)
        defer { daemon.stop() }

        let clients = 4, batches = 60, perBatch = 25
        let killed = OneTimeSignal()
        let acknowledged = try await withThrowingTaskGroup(of: Set<String>.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var acknowledged: Set<String> = []
                    for batch in 0..<batches {
                        let ids = (0..<perBatch).map { "c\(client)-b\(batch)-e\($0)" }
                        let body = ids.map {
                            #"{"id":"\#($0)","type":"step.finished","pipeline":"crash","run_id":"\#($0)","step":"s","result":"success","duration_seconds":1}"#
                        }.joined(separator: "\n")
                        if let answer = try? await Harness.post(daemon.url + "/api/v1/events", body: body,
                                                                headers: ["Authorization": "Bearer \(Self.token)"]),
                           answer.status == 200 {
                            acknowledged.formUnion(ids)
                        }
                        if client == 0, batch == batches / 3 { killed.arrive() }
                    }
                    return acknowledged
                }
            }
            group.addTask {
                await killed.wait()
                daemon.kill()
                return []
            }
            return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
        }
        #expect(acknowledged.count >= perBatch * (batches / 3), "the clients got answers before the kill")
        #expect(acknowledged.count < clients * batches * perBatch, "the kill interrupted the stream")

        try await daemon.restart()
        // Every acknowledged event is in the store: the counters rebuilt from it count them all
        // (and perhaps events whose answer the kill cut off).
        let scrape = try await Harness.get(daemon.url + "/metrics").body
        let stored = scrape.split(separator: "\n")
            .first { $0.hasPrefix(#"pipeline_step_duration_seconds_count{pipeline="crash",step="s",result="success"}"#) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        #expect(stored >= acknowledged.count)
        try await Harness.waitUntil(seconds: 60, "\(stored) events in osmem") { (try? await Self.indexedIDs(osmem.url).count) == stored }
        let ids = try await Self.indexedIDs(osmem.url)
        #expect(ids.count == Set(ids).count, "no event is indexed twice")
        #expect(acknowledged.isSubset(of: Set(ids)), "every acknowledged event is indexed")
    }
}

/// A one-shot signal between tasks.
final class OneTimeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var arrived = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Releases every waiter, now and later.
    func arrive() {
        lock.lock()
        arrived = true
        let released = waiters
        waiters = []
        lock.unlock()
        for waiter in released { waiter.resume() }
    }

    /// Returns once `arrive()` was called.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if arrived {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}
