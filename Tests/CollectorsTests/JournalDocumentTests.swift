import Testing
@testable import Collectors

/// The document mapping, asserted as exact JSON text.
@Suite struct JournalDocumentTests {
    static let cursor = "s=017bd1d48d73441bbf0f6ae0a33914ed;i=f1;b=a1b2c3d4e5f60718293a4b5c6d7e8f90;m=bb764f5;t=6447c46bc04c9;x=f3a90d4dc7d74630"

    static func encode(_ items: [[UInt8]], realtime: UInt64 = 1_764_150_413_624_521) -> (String, JournalDocumentEncoder.Facts) {
        let entry = JournalEntry(items: items, cursor: cursor, realtime: realtime, monotonic: 196_568_309)
        var encoder = JournalDocumentEncoder()
        var output: [UInt8] = []
        let facts = encoder.encode(entry, into: &output)
        return (String(decoding: output, as: UTF8.self), facts)
    }

    static let position = #""__CURSOR":"\#(cursor)","__REALTIME_TIMESTAMP":"1764150413624521","__MONOTONIC_TIMESTAMP":"196568309","__SEQNUM":"241","__SEQNUM_ID":"017bd1d48d73441bbf0f6ae0a33914ed""#

    @Test func ecsFieldsNestAndTheRestStaysUnderJournald() {
        let (json, facts) = Self.encode([
            Array("MESSAGE=hello \"world\"".utf8), Array("PRIORITY=3".utf8), Array("_PID=42".utf8),
            Array("_SYSTEMD_UNIT=nginx.service".utf8), Array("_HOSTNAME=host-a".utf8), Array("MY_FIELD=x".utf8),
            Array("SYSLOG_IDENTIFIER=nginx".utf8), Array("_TRANSPORT=stdout".utf8),
        ])
        #expect(json == #"{"@timestamp":"2025-11-26T09:46:53.624521Z","message":"hello \"world\"","log":{"level":"err","syslog":{"severity":{"code":3},"appname":"nginx"}},"host":{"name":"host-a"},"process":{"pid":42},"systemd":{"unit":"nginx.service","transport":"stdout"},"journald":{\#(Self.position),"MY_FIELD":"x"}}"#)
        #expect(facts.id == "017bd1d48d73441bbf0f6ae0a33914ed-f1-a1b2c3d4e5f60718293a4b5c6d7e8f90")
        #expect(facts.priority == 3)
        #expect(facts.timestampMicroseconds == 1_764_150_413_624_521)
        #expect(facts.base64Fields == 0)
    }

    @Test func repeatedFieldsBecomeArraysAndStayOutOfECS() {
        let (json, _) = Self.encode([
            Array("TAG=a".utf8), Array("MESSAGE=one".utf8), Array("TAG=b".utf8), Array("MESSAGE=two".utf8),
        ])
        #expect(json == #"{"@timestamp":"2025-11-26T09:46:53.624521Z","journald":{\#(Self.position),"TAG":["a","b"],"MESSAGE":["one","two"]}}"#)
    }

    @Test func valuesThatAreNotUTF8AreBase64AndListed() {
        let (json, facts) = Self.encode([
            Array("MESSAGE=".utf8) + [0xFF, 0xFE], Array("DATA=text".utf8), Array("DATA=".utf8) + [0xC3, 0x28],
            Array("COLOR=\u{1B}[31mred".utf8),
        ])
        #expect(json == #"{"@timestamp":"2025-11-26T09:46:53.624521Z","journald":{\#(Self.position),"MESSAGE":"//4=","DATA":["dGV4dA==","wyg="],"COLOR":"\u001b[31mred","base64":["MESSAGE","DATA"]}}"#)
        #expect(facts.base64Fields == 2)
    }

    @Test func numbersThatWouldNotRoundTripStayStrings() {
        let (json, facts) = Self.encode([
            Array("PRIORITY=9".utf8), Array("_PID=0123".utf8), Array("CODE_LINE=-4".utf8), Array("SYSLOG_FACILITY=".utf8),
        ])
        #expect(json == #"{"@timestamp":"2025-11-26T09:46:53.624521Z","journald":{\#(Self.position),"PRIORITY":"9","_PID":"0123","CODE_LINE":"-4","SYSLOG_FACILITY":""}}"#)
        #expect(facts.priority == nil)
    }

    @Test func sourceTimeWinsWhenItIsANumber() {
        let (valid, validFacts) = Self.encode([Array("_SOURCE_REALTIME_TIMESTAMP=1764150000000001".utf8)])
        #expect(valid.hasPrefix(#"{"@timestamp":"2025-11-26T09:40:00.000001Z""#))
        #expect(validFacts.timestampMicroseconds == 1_764_150_000_000_001)
        #expect(valid.hasSuffix(#""_SOURCE_REALTIME_TIMESTAMP":"1764150000000001"}}"#))
        let (invalid, _) = Self.encode([Array("_SOURCE_REALTIME_TIMESTAMP=yesterday".utf8)])
        #expect(invalid.hasPrefix(#"{"@timestamp":"2025-11-26T09:46:53.624521Z""#))
    }

    @Test func idFallsBackToTheCursorWhenItLacksParts() {
        #expect(JournalDocumentEncoder.documentID(cursor: "odd") == "odd")
    }
}
