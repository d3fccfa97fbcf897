@testable import Collectors
import MetricModel
import Testing

@Suite struct NetdevTests {
    private let header = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed

        """

    @Test func parsesNamesUpToTheLastColon() throws {
        let text = header + """
                lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
            odd"na\\me: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
            eth0:1:5 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0

            """
        let lines = try parseNetDev(text)
        #expect(lines.map(\.device) == ["lo", "odd\"na\\me", "eth0:1"])
        #expect(lines[1].counters == Array(1...16))
        #expect(lines[2].counters[0] == 5)
    }

    @Test func keepsCountersNear2To64() throws {
        let text = header + "eth0: 18446744073709551615 1 0 0 0 0 0 0 9223372036854775808 1 0 0 0 0 0 0\n"
        let line = try #require(try parseNetDev(text).first)
        #expect(line.counters[0] == UInt64.max)
        #expect(line.counters[8] == 1 << 63)
    }

    @Test func laterDuplicateReplacesEarlier() throws {
        let text = header + "a: 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\nb: 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\na: 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        #expect(try parseNetDev(text).map { "\($0.device)=\($0.counters[0])" } == ["a=3", "b=2"])
    }

    @Test func missingFieldsAreMalformed() {
        #expect(throws: CollectorError.malformed(path: "/p/net/dev", reason: "line 3: 3 counters for eth0, expected 16")) {
            try parseNetDev(header + "eth0: 1 2 3\n", path: "/p/net/dev")
        }
    }

    @Test func missingColonIsMalformed() {
        #expect(throws: CollectorError.malformed(path: "net/dev", reason: "line 3: missing colon")) {
            try parseNetDev(header + "eth0 1 2 3\n")
        }
    }

    @Test func nonNumericCounterIsMalformed() {
        #expect(throws: CollectorError.malformed(
            path: "net/dev", reason: "line 3: counter \"-1\" of eth0 is not an unsigned integer")) {
            try parseNetDev(header + "eth0: -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let collector = NetdevCollector(paths: Fixtures.paths, deviceInclude: nil, deviceExclude: nil)
        try Fixtures.expectGolden(Fixtures.render(collector.collect()), "netdev.prom")
    }

    @Test func includeAndExcludeFilter() throws {
        func devices(_ collector: NetdevCollector) throws -> Set<String> {
            Set(try collector.collect().flatMap(\.samples).compactMap { $0.labels.first?.value })
        }
        #expect(try devices(NetdevCollector(paths: Fixtures.paths, deviceInclude: "^eth", deviceExclude: nil))
            == ["eth0", "eth0.100"])
        #expect(try devices(NetdevCollector(paths: Fixtures.paths, deviceInclude: nil, deviceExclude: "^(lo|ifb\\d+)$"))
            == ["eth0", "eth0.100", "br-3f2a_b.c", "odd\"na\\me"])
        // Empty strings count as unset, like node_exporter's flags.
        #expect(try devices(NetdevCollector(paths: Fixtures.paths, deviceInclude: "", deviceExclude: "")).count == 6)
    }

    @Test func includeAndExcludeAreMutuallyExclusive() {
        #expect(throws: InvalidPatternError.self) { try NetdevCollector.validate(deviceInclude: "a", deviceExclude: "b") }
        let collector = NetdevCollector(paths: Fixtures.paths, deviceInclude: "a", deviceExclude: "b")
        #expect(throws: CollectorError.self) { try collector.collect() }
    }

    @Test func invalidPatternIsReported() throws {
        #expect(throws: InvalidPatternError.self) { try NetdevCollector.validate(deviceInclude: "[", deviceExclude: nil) }
        try NetdevCollector.validate(deviceInclude: nil, deviceExclude: "^lo$")
        // RE2 syntax, as node_exporter's flags: a backreference is refused with Go's message.
        do {
            try NetdevCollector.validate(deviceInclude: "(eth)\\1", deviceExclude: nil)
            Issue.record("a backreference was accepted")
        } catch {
            #expect(error.reason == "error parsing regexp: invalid escape sequence: `\\1`")
        }
    }

    /// A pattern that makes a backtracking engine run forever is an ordinary scrape.
    @Test(.timeLimit(.minutes(1))) func explosivePatternsFilterInLinearTime() throws {
        let collector = NetdevCollector(paths: Fixtures.paths, deviceInclude: nil, deviceExclude: "(.*.*)*y$")
        #expect(try collector.collect().flatMap(\.samples).isEmpty == false)
    }
}
