import Foundation
import PeerSupport
import Shipping
import Testing
import Zlib
@testable import Shippers

@Suite struct DeadLetterFileTests {
    let letter = DeadLetter(
        timeMicroseconds: Fixture.day,
        error: BulkError(status: 400, type: "mapper_parsing_exception", reason: "failed to parse \"pid\""),
        index: "lookout-logs-2026.08.21",
        document: BulkDocument(id: "x\"1", timestampMicroseconds: Fixture.day, source: Array(#"{"process":{"pid":"abc"}}"#.utf8)))

    @Test func lineHoldsTimeStatusErrorIndexIdAndDocument() {
        #expect(String(decoding: letter.line, as: UTF8.self) == #"""
            {"@timestamp":"2026-08-21T10:00:00.000000Z","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse \"pid\""},"_index":"lookout-logs-2026.08.21","_id":"x\"1","document":"{\"process\":{\"pid\":\"abc\"}}"}

            """#)
    }

    @Test func rotatesToDotOneWhenTheLimitWouldBePassed() throws {
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("dead.ndjson").path
        let lineSize = letter.line.count
        let file = DeadLetterFile(path: path, maxBytes: lineSize * 2)
        try file.append([letter, letter])
        #expect(Fixture.lines(path).count == 2)
        #expect(!FileManager.default.fileExists(atPath: path + ".1"))

        try file.append([letter])
        #expect(Fixture.lines(path).count == 1)
        #expect(Fixture.lines(path + ".1").count == 2)

        try file.append([letter])
        try file.append([letter])
        #expect(Fixture.lines(path).count == 1)
        #expect(Fixture.lines(path + ".1").count == 2)
        let object = try Fixture.object(Fixture.lines(path)[0])
        #expect(object["_id"] as? String == "x\"1")
    }

    @Test func aBatchLargerThanTheLimitStillLandsWhole() throws {
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("dead.ndjson").path
        try DeadLetterFile(path: path, maxBytes: 10).append([letter, letter, letter])
        #expect(Fixture.lines(path).count == 3)
    }

    @Test func anUnwritablePathIsAnErrorNamingIt() {
        #expect {
            try DeadLetterFile(path: "/nonexistent-dir/dead.ndjson", maxBytes: 100).append([letter])
        } throws: { error in
            "\(error)".contains("/nonexistent-dir/dead.ndjson")
        }
    }
}

@Suite struct GzipTests {
    @Test func gzipOutputDecompressesWithGzip() throws {
        let input = Array(String(repeating: #"{"message":"hello"}"# + "\n", count: 200).utf8)
        let compressed = Gzip.compress(input, level: 1)
        #expect(compressed.count < input.count / 4)
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b])
        #expect(try Gunzip.decompress(compressed) == input)
    }
}

@Suite struct BackoffTests {
    @Test func delaysStayBelowTheDoublingCeiling() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1))
        for attempt in 0..<40 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << min(attempt, 30)))
            for _ in 0..<20 {
                let delay = backoff.delay(attempt: attempt)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
    }
}
