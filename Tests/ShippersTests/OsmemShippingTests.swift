import Foundation
import Logging
import PeerSupport
import MetricModel
import Shipping
import Testing
@testable import Shippers

/// The shipper's happy path against a real OpenSearch-compatible peer.
@Suite(.timeLimit(.minutes(3))) struct OsmemShippingTests {
    @Test func shipsEachDocumentOnceWithTheTemplateMappings() async throws {
        let server = try OsmemServer()
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var settings = Fixture.settings([server.url], directory: directory)
        settings.gzip = true
        // Small bodies so that each batch travels in several requests.
        settings.maxBulkBytes = 64 * 1024
        let (logger, records) = RecordingLogHandler.logger()
        let shipper = try ElasticsearchShipper(settings: settings, logger: logger, errors: ComponentErrors())

        try await shipper.prepare()
        #expect(records.messages(atLeast: .warning).isEmpty)
        let mapping = try await httpJSON("GET", "\(server.url)/_index_template/lookout-logs")
        #expect(mapping.status == 200)

        // 3000 documents one second apart, starting 1500 s before midnight UTC on 2026-08-21:
        // half land in each of two daily indices.
        let midnight = Fixture.day + 14 * 3600 * 1_000_000
        let documents = Fixture.documents(3000, prefix: "osmem", start: midnight - 1500 * 1_000_000)
        var total = ShipmentReport()
        for batch in stride(from: 0, to: documents.count, by: 1000) {
            let report = try await shipper.ship(Array(documents[batch..<batch + 1000]))
            total.indexed += report.indexed
            total.duplicates += report.duplicates
            total.deadLettered += report.deadLettered
        }
        #expect(total == ShipmentReport(indexed: 3000))
        let first = try await httpJSON("GET", "\(server.url)/lookout-logs-2026.08.21/_count")
        let second = try await httpJSON("GET", "\(server.url)/lookout-logs-2026.08.22/_count")
        #expect(first.json["count"] as? Int == 1500)
        #expect(second.json["count"] as? Int == 1500)

        for number in [0, 1499, 1500, 2999] {
            let index = number < 1500 ? "lookout-logs-2026.08.21" : "lookout-logs-2026.08.22"
            let search = try await httpJSON(
                "POST", "\(server.url)/\(index)/_search", body: #"{"query":{"ids":{"values":["osmem-\#(number)"]}}}"#)
            let hits = (search.json["hits"] as? [String: Any])?["hits"] as? [[String: Any]] ?? []
            #expect(hits.count == 1)
            let source = hits.first?["_source"] as? [String: Any]
            #expect(source?["message"] as? String == "line \(number) of osmem")
            #expect((source?["process"] as? [String: Any])?["pid"] as? Int == 1000 + number)
        }

        let families = shipper.stats.families()
        let rawBytes = documents.reduce(0) { $0 + $1.source.count }
        #expect((value(families, "lookout_elasticsearch_bytes_sent_total") ?? .infinity) < Double(rawBytes))
        #expect((value(families, "lookout_elasticsearch_requests_total", [Label("status", "2xx")]) ?? 0) > 3)

        // The same batch again: every document is already there.
        let again = try await shipper.ship(Array(documents[0..<1000]))
        #expect(again == ShipmentReport(duplicates: 1000))
        let recount = try await httpJSON("GET", "\(server.url)/lookout-logs-2026.08.21/_count")
        #expect(recount.json["count"] as? Int == 1500)

        // process.pid is a long in the template: a string there is refused, the rest indexed.
        var mixed = Fixture.documents(10, prefix: "mixed")
        mixed[4].source = Array(#"{"@timestamp":"2026-08-21T10:00:04Z","message":"bad pid","process":{"pid":"not-a-number"}}"#.utf8)
        let report = try await shipper.ship(mixed)
        #expect(report == ShipmentReport(indexed: 9, deadLettered: 1))
        let letters = Fixture.lines(directory.appendingPathComponent("dead-letters.ndjson").path)
        #expect(letters.count == 1)
        let letter = try Fixture.object(letters[0])
        #expect(letter["_id"] as? String == "mixed-4")
        #expect(letter["status"] as? Int == 400)
        #expect((letter["error"] as? [String: String])?["type"] == "mapper_parsing_exception")
        server.stop()
    }

    @Test func theTemplateIsInstalledWithItsMappings() async throws {
        let server = try OsmemServer()
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (logger, records) = RecordingLogHandler.logger()
        let shipper = try ElasticsearchShipper(
            settings: Fixture.settings([server.url], directory: directory), logger: logger, errors: ComponentErrors())
        try await shipper.prepare()
        #expect(records.messages(atLeast: .warning).isEmpty)

        let document = BulkDocument(
            id: "t1", timestampMicroseconds: Fixture.day,
            source: Array(#"{"@timestamp":"2026-08-21T10:00:00Z","message":"m","journald":{"custom":{"field":"v"}},"systemd":{"unit":"a.service"},"log":{"level":"info"}}"#.utf8))
        #expect(try await shipper.ship([document]) == ShipmentReport(indexed: 1))
        let mapping = try await httpJSON("GET", "\(server.url)/lookout-logs-2026.08.21/_mapping")
        let properties = ((mapping.json["lookout-logs-2026.08.21"] as? [String: Any])?["mappings"] as? [String: Any])?["properties"] as? [String: Any]
        func type(_ path: [String]) -> String? {
            var node: [String: Any]? = properties?[path[0]] as? [String: Any]
            for key in path.dropFirst() { node = (node?["properties"] as? [String: Any])?[key] as? [String: Any] }
            return node?["type"] as? String
        }
        #expect(type(["@timestamp"]) == "date")
        #expect(type(["message"]) == "text")
        #expect(type(["process", "pid"]) == "long")
        #expect(type(["log", "level"]) == "keyword")
        #expect(type(["journald", "custom", "field"]) == "keyword")
        #expect(type(["systemd", "unit"]) == "keyword")
        server.stop()
    }
}
