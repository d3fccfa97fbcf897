import Testing
import MetricModel
@testable import Collectors

@Suite struct MeminfoTests {
    @Test func namesAndUnitsFollowNodeExporter() throws {
        let fields = try parseMeminfo("""
            MemTotal:       24683656 kB
            Active(anon):       1560 kB

            HugePages_Total:       0
            Odd(x)tail_total:      3 kB
            Custom_total:          9
            """)
        #expect(fields == [
            MeminfoField(key: "MemTotal_bytes", value: 24_683_656 * 1024),
            MeminfoField(key: "Active_anon_bytes", value: 1560 * 1024),
            MeminfoField(key: "HugePages_Total", value: 0),
            // A unit makes it `_bytes`, so it is a gauge despite the `_total` inside.
            MeminfoField(key: "Odd_xtail_total_bytes", value: 3072),
            MeminfoField(key: "Custom_total", value: 9),
        ])
    }

    @Test func counterOnlyForLowerCaseTotalSuffix() {
        let families = meminfoFamilies([
            MeminfoField(key: "Custom_total", value: 9), MeminfoField(key: "HugePages_Total", value: 0),
        ])
        #expect(families == [
            .single("node_memory_Custom_total", help: "Memory information field Custom_total.", type: .counter, value: 9),
            .single("node_memory_HugePages_Total", help: "Memory information field HugePages_Total.", value: 0),
        ])
    }

    @Test func greedyParenthesesCanLeaveAnInvalidName() {
        // `\((.*)\)` is greedy: only the first "(" and the last ")" go, leaving "A_b)(c".
        #expect(throws: CollectorError.malformed(path: "/p/meminfo", reason: "field \"A(b)(c):\" does not make a metric name")) {
            try parseMeminfo("A(b)(c): 1\n", path: "/p/meminfo")
        }
    }

    @Test func laterDuplicateWins() throws {
        #expect(try parseMeminfo("Foo: 1 kB\nBar: 3\nFoo: 2 kB\n")
            == [MeminfoField(key: "Foo_bytes", value: 2048), MeminfoField(key: "Bar", value: 3)])
    }

    @Test func largeValuesStayExactEnough() throws {
        #expect(try parseMeminfo("VmallocTotal:   34359738367 kB\n")
            == [MeminfoField(key: "VmallocTotal_bytes", value: 34_359_738_367 * 1024)])
    }

    @Test func malformedLinesNameTheFile() {
        #expect(throws: CollectorError.malformed(path: "/p/meminfo", reason: "line \"MemTotal:\" is not \"Key: value [kB]\"")) {
            try parseMeminfo("MemTotal:\n", path: "/p/meminfo")
        }
        #expect(throws: CollectorError.malformed(path: "/p/meminfo", reason: "value \"lots\" of MemFree: is not a number")) {
            try parseMeminfo("MemFree: lots kB\n", path: "/p/meminfo")
        }
        #expect(throws: CollectorError.malformed(path: "/p/meminfo", reason: "line \"A: 1 kB extra\" is not \"Key: value [kB]\"")) {
            try parseMeminfo("A: 1 kB extra\n", path: "/p/meminfo")
        }
        #expect(throws: CollectorError.malformed(path: "/p/meminfo", reason: "field \"Bad-Name:\" does not make a metric name")) {
            try parseMeminfo("Bad-Name: 1 kB\n", path: "/p/meminfo")
        }
    }

    @Test func veryLongLineIsReportedShortly() {
        let line = "Key: " + String(repeating: "9", count: 100_000) + "x kB\n"
        #expect(throws: CollectorError.self) { try parseMeminfo(line) }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try MeminfoCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "meminfo.prom")
    }
}
