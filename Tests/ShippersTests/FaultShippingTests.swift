import Foundation
import Logging
import MetricModel
import Shipping
import Testing
@testable import Shippers

/// The shipper against the scripted fault server: every fault ends with each document held once
/// by the server (or dead-lettered, for the 400s), and counters that say what happened.
@Suite(.timeLimit(.minutes(2))) struct FaultShippingTests {
    let directory: URL

    init() throws {
        directory = try Fixture.directory()
    }

    private var deadLetterPath: String { directory.appendingPathComponent("dead-letters.ndjson").path }

    private func shipper(
        _ urls: [String], _ adjust: (inout ElasticsearchSettings) -> Void = { _ in }
    ) throws -> (ElasticsearchShipper, ComponentErrors, RecordingLogHandler.Records) {
        var settings = Fixture.settings(urls, directory: directory)
        adjust(&settings)
        let (logger, records) = RecordingLogHandler.logger()
        let errors = ComponentErrors()
        return (try ElasticsearchShipper(settings: settings, logger: logger, errors: errors), errors, records)
    }

    private func errorCount(_ errors: ComponentErrors, _ type: String) -> UInt64 {
        errors.count(component: "elasticsearch", errorType: type)
    }

    @Test func a429StormIsRetriedUntilAccepted() async throws {
        let server = try FaultServer { number, _ in
            number < 5 ? .status(429, #"{"error":{"type":"es_rejected_execution_exception","reason":"rejected"},"status":429}"#) : .normal
        }
        let (shipper, errors, records) = try shipper([server.url])
        let documents = Fixture.documents(50)

        let report = try await shipper.ship(documents)

        #expect(report == ShipmentReport(indexed: 50))
        #expect(server.heldIDs == Set(documents.map(\.id)))
        #expect(server.creations.values.allSatisfy { $0 == 1 })
        #expect(server.requests.count == 6)
        // One keep-alive connection carried all six requests.
        #expect(server.connectionCount == 1)
        let families = shipper.stats.families()
        #expect(value(families, "lookout_elasticsearch_requests_total", [Label("status", "429")]) == 5)
        #expect(value(families, "lookout_elasticsearch_requests_total", [Label("status", "2xx")]) == 1)
        #expect(value(families, "lookout_elasticsearch_documents_sent_total") == 300)
        #expect(value(families, "lookout_elasticsearch_documents_retried_total") == 250)
        #expect(value(families, "lookout_elasticsearch_documents_acknowledged_total", [Label("result", "indexed")]) == 50)
        #expect(value(families, "lookout_elasticsearch_consecutive_failures") == 0)
        #expect(value(families, "lookout_elasticsearch_batches_in_flight") == 0)
        #expect((value(families, "lookout_elasticsearch_last_success_timestamp_seconds") ?? 0) > 0)
        #expect(errorCount(errors, "too_many_requests") == 5)
        // Logged once when the storm starts and once when it ends, not per retry.
        #expect(records.messages(atLeast: .warning).count == 1)
        #expect(records.messages(atLeast: .notice).count == 2)
    }

    @Test func serviceUnavailableIsRetried() async throws {
        let server = try FaultServer { number, _ in
            number < 3 ? .status(503, #"{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}"#) : .normal
        }
        let (shipper, errors, _) = try shipper([server.url])
        let documents = Fixture.documents(20)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 20))
        #expect(server.heldIDs == Set(documents.map(\.id)))
        #expect(value(shipper.stats.families(), "lookout_elasticsearch_requests_total", [Label("status", "5xx")]) == 3)
        #expect(errorCount(errors, "server_error") == 3)
    }

    @Test func theLastErrorIsKeptWithItsTimeAndWithoutCredentials() async throws {
        let server = try FaultServer { number, _ in
            number < 2 ? .status(503, #"{"error":{"type":"cluster_block_exception","reason":"blocked"},"status":503}"#) : .normal
        }
        #expect(try shipper([server.url]).0.stats.lastError == nil)
        let withCredentials = server.url.replacingOccurrences(of: "http://", with: "http://elastic:hunter2@")
        let (shipper, _, _) = try shipper([withCredentials])
        let before = Int64(Date().timeIntervalSince1970 * 1_000_000)

        #expect(try await shipper.ship(Fixture.documents(3)) == ShipmentReport(indexed: 3))
        // Healed, but still the last error: the summary shows it with its age.
        let last = try #require(shipper.stats.lastError)
        #expect(last.message == "\(server.url): HTTP 503 cluster_block_exception: blocked")
        #expect(last.time >= before && last.time <= Int64(Date().timeIntervalSince1970 * 1_000_000))
    }

    @Test func failsOverToTheNextNode() async throws {
        let refusing = "http://127.0.0.1:\(try closedPort())"
        let broken = try FaultServer { _, _ in .status(502, "<html>Bad Gateway</html>") }
        let healthy = try FaultServer()
        let (shipper, errors, records) = try shipper([refusing, broken.url, healthy.url])
        let documents = Fixture.documents(20)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 20))
        #expect(healthy.heldIDs == Set(documents.map(\.id)))
        #expect(broken.requests.count == 1)
        #expect(errorCount(errors, "connection") == 1)
        #expect(errorCount(errors, "server_error") == 1)
        let logged = records.messages(atLeast: .error)
        #expect(logged.count == 2)
        #expect(logged.first?.contains(refusing) == true)
    }

    @Test func tooLargeBodiesAreSplitAndALoneTooLargeDocumentIsDeadLettered() async throws {
        let limit = 2000
        let server = try FaultServer { _, bulk in
            bulk.bodyBytes > limit ? .status(413, "") : .normal
        }
        let (shipper, errors, _) = try shipper([server.url])
        var documents = Fixture.documents(60)
        let huge = #"{"message":"\#(String(repeating: "x", count: 3000))"}"#
        documents.insert(BulkDocument(id: "huge", timestampMicroseconds: Fixture.day, source: Array(huge.utf8)), at: 30)

        let report = try await shipper.ship(documents)

        #expect(report == ShipmentReport(indexed: 60, deadLettered: 1))
        #expect(server.heldIDs == Set(documents.map(\.id)).subtracting(["huge"]))
        #expect(server.requests.filter { $0.bodyBytes <= limit }.reduce(0) { $0 + $1.items.count } == 60)
        let letters = Fixture.lines(deadLetterPath)
        #expect(letters.count == 1)
        let letter = try Fixture.object(letters[0])
        #expect(letter["_id"] as? String == "huge")
        #expect(letter["status"] as? Int == 413)
        #expect(letter["document"] as? String == huge)
        let families = shipper.stats.families()
        #expect(value(families, "lookout_elasticsearch_documents_dead_lettered_total") == 1)
        #expect(value(families, "lookout_elasticsearch_requests_total", [Label("status", "413")]) == Double(errorCount(errors, "payload_too_large")))
    }

    @Test func bodiesAreSplitAtMaxBulkBytes() async throws {
        let server = try FaultServer()
        let documents = Fixture.documents(40)
        let limit = BulkItem(document: documents[0], index: "lookout-logs-2026.08.21").byteCount * 10
        let (shipper, _, _) = try shipper([server.url]) { $0.maxBulkBytes = limit }

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 40))
        let requests = server.requests
        #expect(requests.flatMap { $0.items.map(\.id) } == documents.map(\.id))
        #expect(requests.allSatisfy { $0.bodyBytes <= limit })
        // Greedy packing: the next request's first item would not have fitted in the previous one.
        for (previous, next) in zip(requests, requests.dropFirst()) {
            let firstOfNext = documents.first { $0.id == next.items[0].id }!
            #expect(previous.bodyBytes + BulkItem(document: firstOfNext, index: next.items[0].index).byteCount > limit)
        }
    }

    @Test func mixedItemResultsRetryOnlyTheRetryableItems() async throws {
        let server = try FaultServer { number, _ in
            number == 0 ? .items([201, 409, 429, 400, 503]) : .normal
        }
        let (shipper, errors, _) = try shipper([server.url])
        let documents = Fixture.documents(10)

        let report = try await shipper.ship(documents)

        #expect(report == ShipmentReport(indexed: 8, duplicates: 1, deadLettered: 1))
        #expect(server.requests.map { $0.items.map(\.id) } == [documents.map(\.id), ["doc-2", "doc-4"]])
        #expect(server.heldIDs == Set(documents.map(\.id)).subtracting(["doc-3"]))
        #expect(server.creations.values.allSatisfy { $0 == 1 })
        let letters = Fixture.lines(deadLetterPath)
        #expect(letters.count == 1)
        let letter = try Fixture.object(letters[0])
        #expect(letter["_id"] as? String == "doc-3")
        #expect(letter["_index"] as? String == "lookout-logs-2026.08.21")
        #expect(letter["status"] as? Int == 400)
        #expect((letter["error"] as? [String: String])?["type"] == "mapper_parsing_exception")
        #expect(letter["document"] as? String == String(decoding: documents[3].source, as: UTF8.self))
        let families = shipper.stats.families()
        #expect(value(families, "lookout_elasticsearch_documents_retried_total") == 2)
        #expect(value(families, "lookout_elasticsearch_documents_dead_lettered_total") == 1)
        #expect(value(families, "lookout_elasticsearch_documents_acknowledged_total", [Label("result", "duplicate")]) == 1)
        #expect(value(families, "lookout_elasticsearch_documents_acknowledged_total", [Label("result", "indexed")]) == 8)
        #expect(errorCount(errors, "item_retried") == 2)
        #expect(errorCount(errors, "document_rejected") == 1)
    }

    @Test func aConnectionResetMidResponseResendsTheRequest() async throws {
        let server = try FaultServer { number, _ in number == 0 ? .resetMidResponse : .normal }
        let (shipper, errors, _) = try shipper([server.url])
        let documents = Fixture.documents(30)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 30))
        #expect(server.heldIDs == Set(documents.map(\.id)))
        #expect(value(shipper.stats.families(), "lookout_elasticsearch_requests_total", [Label("status", "error")]) == 1)
        #expect(errorCount(errors, "transport") == 1)
    }

    @Test func aTruncatedAnswerResendsTheRequest() async throws {
        let server = try FaultServer { number, _ in number == 0 ? .truncatedBody : .normal }
        let (shipper, errors, _) = try shipper([server.url])
        let documents = Fixture.documents(30)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 30))
        #expect(server.heldIDs == Set(documents.map(\.id)))
        #expect(server.requests.count == 2)
        #expect(errorCount(errors, "bad_response") == 1)
    }

    @Test func aServerSlowerThanTheRequestTimeoutIsRetried() async throws {
        let server = try FaultServer { number, _ in number == 0 ? .stall : .normal }
        let (shipper, errors, _) = try shipper([server.url]) { $0.requestTimeout = .milliseconds(300) }
        let documents = Fixture.documents(30)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 30))
        #expect(server.heldIDs == Set(documents.map(\.id)))
        #expect(errorCount(errors, "timeout") == 1)
    }

    @Test func rejectedCredentialsAreRetriedAndTheSecretIsNeverLogged() async throws {
        let server = try FaultServer { number, _ in
            number < 3
                ? .status(401, #"{"error":{"type":"security_exception","reason":"unable to authenticate with provided credentials"},"status":401}"#)
                : .normal
        }
        let keyFile = directory.appendingPathComponent("api-key")
        try "c2VjcmV0LWtleQ==\n".write(to: keyFile, atomically: true, encoding: .utf8)
        let (shipper, errors, records) = try shipper([server.url]) { $0.credentials = .apiKeyFile(keyFile.path) }
        let documents = Fixture.documents(10)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 10))
        #expect(server.requests.allSatisfy { $0.headers["authorization"] == "ApiKey c2VjcmV0LWtleQ==" })
        #expect(server.requests.allSatisfy { $0.target == "/_bulk?filter_path=errors,items.*.error,items.*.status" })
        #expect(server.requests.allSatisfy { $0.headers["content-type"] == "application/x-ndjson" })
        #expect(errorCount(errors, "unauthorized") == 3)
        let logged = records.all.map(\.message)
        #expect(logged.filter { $0.contains("credentials") }.count == 1)
        #expect(!logged.contains { $0.contains("c2VjcmV0") })
        #expect(value(shipper.stats.families(), "lookout_elasticsearch_requests_total", [Label("status", "4xx")]) == 3)
    }

    @Test func aRefusedRequestDeadLettersEveryDocumentWithTheReason() async throws {
        let server = try FaultServer { _, _ in
            .status(400, #"{"error":{"type":"illegal_argument_exception","reason":"pipeline [x] does not exist"},"status":400}"#)
        }
        let (shipper, errors, _) = try shipper([server.url])
        let documents = Fixture.documents(5)

        #expect(try await shipper.ship(documents) == ShipmentReport(deadLettered: 5))
        let letters = try Fixture.lines(deadLetterPath).map(Fixture.object)
        #expect(letters.map { $0["_id"] as? String } == documents.map(\.id))
        #expect(letters.allSatisfy { ($0["error"] as? [String: String])?["reason"] == "pipeline [x] does not exist" })
        #expect(errorCount(errors, "request_rejected") == 1)
        #expect(shipper.stats.lastError?.message
                == "\(server.url): refused a bulk request: HTTP 400 illegal_argument_exception: pipeline [x] does not exist")
    }

    @Test func cancellationInterruptsAStalledRequest() async throws {
        let server = try FaultServer { _, _ in .stall }
        let (shipper, _, _) = try shipper([server.url]) { $0.requestTimeout = .seconds(600) }
        let task = Task { try await shipper.ship(Fixture.documents(5)) }
        while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func cancellationInterruptsTheBackoff() async throws {
        let server = try FaultServer { _, _ in .status(503, "") }
        let (shipper, _, _) = try shipper([server.url]) {
            $0.backoffInitial = .seconds(600)
            $0.backoffMax = .seconds(600)
        }
        let task = Task { try await shipper.ship(Fixture.documents(5)) }
        // One failure counted means the shipper is in (or about to enter) its 0–600 s backoff.
        while value(shipper.stats.families(), "lookout_elasticsearch_consecutive_failures") != 1 {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    private func closedPort() throws -> Int {
        let server = try FaultServer()
        let port = Int(server.url.split(separator: ":").last!)!
        server.stop()
        return port
    }
}
