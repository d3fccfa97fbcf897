import Testing
@testable import Shippers

@Suite struct BulkResponseTests {
    @Test func mixedItemsAreClassifiedByPosition() throws {
        let body = #"""
            {"errors":true,"items":[{"create":{"status":201}},\#
            {"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[a]: version conflict"}}},\#
            {"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}},\#
            {"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [process.pid]"}}},\#
            {"create":{"status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}},\#
            {"create":{"status":403,"error":"no permission"}}]}
            """#
        let response = try BulkResponse(parsing: Array(body.utf8), itemCount: 6)
        #expect(response.results == [
            .indexed, .duplicate, .retry(status: 429),
            .rejected(BulkError(status: 400, type: "mapper_parsing_exception", reason: "failed to parse field [process.pid]")),
            .retry(status: 503),
            .rejected(BulkError(status: 403, type: "http_403", reason: "no permission")),
        ])
    }

    @Test func filteredBodyWithoutErrorsMeansEverythingIndexed() throws {
        let response = try BulkResponse(parsing: Array(#"{"errors":false}"#.utf8), itemCount: 3)
        #expect(response.results == [.indexed, .indexed, .indexed])
    }

    @Test func truncatedOrMisalignedBodiesAreRefused() {
        #expect(throws: BulkResponseError.self) {
            try BulkResponse(parsing: Array(#"{"errors":true,"items":[{"create":{"status":201}},{"crea"#.utf8), itemCount: 2)
        }
        #expect(throws: BulkResponseError.self) {
            try BulkResponse(parsing: Array(#"{"errors":false,"items":[{"create":{"status":201}}]}"#.utf8), itemCount: 2)
        }
        #expect(throws: BulkResponseError.self) { try BulkResponse(parsing: Array(#"{"errors":true}"#.utf8), itemCount: 1) }
        #expect(throws: BulkResponseError.self) { try BulkResponse(parsing: [], itemCount: 1) }
        #expect(throws: BulkResponseError.self) {
            try BulkResponse(parsing: Array(#"{"errors":true,"items":[{"create":{}}]}"#.utf8), itemCount: 1)
        }
    }

    @Test func requestErrorsNameTypeAndReason() {
        let error = BulkError(
            status: 400,
            body: Array(#"{"error":{"root_cause":[],"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400}"#.utf8))
        #expect(error == BulkError(
            status: 400, type: "illegal_argument_exception", reason: "The bulk request must be terminated by a newline [\\n]"))
        #expect(BulkError(status: 502, body: Array("<html>Bad Gateway</html>".utf8))
            == BulkError(status: 502, type: "http_502", reason: "<html>Bad Gateway</html>"))
    }
}
