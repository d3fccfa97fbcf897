import Testing
import MetricModel
@testable import Collectors

@Suite struct StatTests {
    @Test func parsesActivityLinesAndSkipsCPUs() throws {
        let text = "cpu  1 2 3\ncpu0 1 2 3\nintr 900 1 2 3\nctxt 42\nbtime 1700000000\nprocesses 77\n"
            + "procs_running 3\nprocs_blocked 1\nsoftirq 5 1 1\n"
        #expect(try parseStat(text) == KernelActivity(
            interrupts: 900, contextSwitches: 42, bootTime: 1_700_000_000, forks: 77, procsRunning: 3, procsBlocked: 1))
    }

    @Test func missingLinesStayZero() throws {
        #expect(try parseStat("ctxt 5\n") == KernelActivity(contextSwitches: 5))
        #expect(try parseStat("") == KernelActivity())
    }

    @Test func longInterruptLineOnlyNeedsItsTotal() throws {
        let line = "intr 18446744073709551615" + String(repeating: " 0", count: 200_000) + "\n"
        #expect(try parseStat(line).interrupts == UInt64.max)
    }

    @Test func malformedValuesNameTheFile() {
        #expect(throws: CollectorError.malformed(path: "/p/stat", reason: "ctxt value \"-1\" is not an unsigned integer")) {
            try parseStat("ctxt -1\n", path: "/p/stat")
        }
        // One past 2^64 - 1 does not fit, as in procfs' ParseUint.
        #expect(throws: CollectorError.malformed(
            path: "/p/stat", reason: "intr value \"18446744073709551616\" is not an unsigned integer")) {
            try parseStat("intr 18446744073709551616 0\n", path: "/p/stat")
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try StatCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "stat.prom")
    }
}
