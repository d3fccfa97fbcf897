import LookoutSupport
import Shipping
import Testing
@testable import Shippers

@Suite struct BulkRequestTests {
    @Test func bodyIsCreateActionsAndSourcesEachEndingInANewline() {
        let request = BulkRequest(items: [
            BulkItem(document: BulkDocument(id: "a1", timestampMicroseconds: 0, source: Array(#"{"message":"one"}"#.utf8)), index: "lookout-logs-1970.01.01"),
            BulkItem(document: BulkDocument(id: "b2", timestampMicroseconds: 0, source: Array(#"{"message":"two"}"#.utf8)), index: "lookout-logs-1970.01.01"),
        ])
        #expect(String(decoding: request.body, as: UTF8.self) == #"""
            {"create":{"_index":"lookout-logs-1970.01.01","_id":"a1"}}
            {"message":"one"}
            {"create":{"_index":"lookout-logs-1970.01.01","_id":"b2"}}
            {"message":"two"}

            """#)
    }

    @Test func idAndIndexAreJSONEscaped() {
        let item = BulkItem(
            document: BulkDocument(id: "q\"b\\s\nt\u{1}é", timestampMicroseconds: 0, source: Array("{}".utf8)), index: "logs-\"x\"")
        #expect(String(decoding: item.actionLine, as: UTF8.self) == #"{"create":{"_index":"logs-\"x\"","_id":"q\"b\\s\nt\u0001é"}}"#)
    }

    @Test func requestsStayWithinTheByteLimitAndKeepOrder() {
        let items = Fixture.documents(10).map { BulkItem(document: $0, index: "i") }
        let size = items[0].byteCount
        let requests = BulkRequest.requests(for: items, maxBytes: size * 3 + 1)
        #expect(requests.map(\.items.count) == [3, 3, 3, 1])
        #expect(requests.flatMap(\.items) == items)
        #expect(requests.allSatisfy { $0.body.count <= size * 3 + 1 })
        #expect(requests.allSatisfy { $0.body.count == $0.items.reduce(0) { $0 + $1.byteCount } })
    }

    @Test func anItemLargerThanTheLimitGetsARequestOfItsOwn() {
        let items = Fixture.documents(3).map { BulkItem(document: $0, index: "i") }
        #expect(BulkRequest.requests(for: items, maxBytes: 10).map(\.items.count) == [1, 1, 1])
    }

    @Test func halvesSplitInOrder() {
        let request = BulkRequest(items: Fixture.documents(5).map { BulkItem(document: $0, index: "i") })
        let (first, second) = request.halves()
        #expect(first.items.map(\.document.id) == ["doc-0", "doc-1"])
        #expect(second.items.map(\.document.id) == ["doc-2", "doc-3", "doc-4"])
        #expect(first.body + second.body == request.body)
    }
}

@Suite struct IndexPatternTests {
    @Test func datesComeFromTheDocumentTimestampInUTC() throws {
        let pattern = try IndexPattern("lookout-logs-%Y.%m.%d")
        #expect(pattern.indexName(timestampMicroseconds: Fixture.day) == "lookout-logs-2026.08.21")
        #expect(pattern.indexName(timestampMicroseconds: 951_782_400_000_000) == "lookout-logs-2000.02.29")
        #expect(pattern.indexName(timestampMicroseconds: -1) == "lookout-logs-1969.12.31")
        #expect(pattern.indexName(timestampMicroseconds: 0) == "lookout-logs-1970.01.01")
        let hourly = try IndexPattern("logs-%Y%m%d-%H-100%%")
        #expect(hourly.indexName(timestampMicroseconds: Fixture.day + 3_599_999_999) == "logs-20260821-10-100%")
    }

    @Test func wildcardReplacesTheDatePart() throws {
        #expect(try IndexPattern("lookout-logs-%Y.%m.%d").wildcard == "lookout-logs-*")
        #expect(try IndexPattern("a-%Y.%m-b").wildcard == "a-*-b")
        #expect(try IndexPattern("plain").wildcard == "plain")
    }

    @Test func rejectsUnknownFieldsAndForbiddenCharacters() {
        #expect(throws: ElasticsearchConfigurationError.self) { try IndexPattern("logs-%y") }
        #expect(throws: ElasticsearchConfigurationError.self) { try IndexPattern("Logs-%Y") }
        #expect(throws: ElasticsearchConfigurationError.self) { try IndexPattern("logs %Y") }
        #expect(throws: ElasticsearchConfigurationError.self) { try IndexPattern("logs-%") }
    }

    @Test func civilTimeFormatsRFC3339() {
        #expect(CivilTime(microseconds: Fixture.day + 5_000_123).rfc3339 == "2026-08-21T10:00:05.000123Z")
    }
}
