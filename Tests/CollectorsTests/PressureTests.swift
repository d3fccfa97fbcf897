import Testing
import MetricModel
@testable import Collectors

@Suite struct PressureTests {
    @Test func readsTotalsAndIgnoresUnknownLines() throws {
        let totals = try parsePressure("""
            some avg10=0.15 avg60=0.50 avg300=1.08 total=11062075
            full avg10=0.02 avg60=0.31 avg300=0.99 total=18446744073709551615
            later avg10=1 total=5
            """, path: "io")
        #expect(totals == PressureTotals(some: 11_062_075, full: UInt64.max))
    }

    @Test func secondsAreDividedTwiceLikeNodeExporter() throws {
        let full = PressureTotals(some: 72_211_514, full: 1)
        let families = try pressureFamilies(cpu: PressureTotals(some: 72_211_514), io: full, memory: full)
        #expect(families[0].samples[0].value == 72_211_514.0 / 1000 / 1000)
        #expect(families.map(\.name) == [
            "node_pressure_cpu_waiting_seconds_total", "node_pressure_io_waiting_seconds_total",
            "node_pressure_io_stalled_seconds_total", "node_pressure_memory_waiting_seconds_total",
            "node_pressure_memory_stalled_seconds_total",
        ])
    }

    @Test func missingLineIsMalformed() {
        #expect(throws: CollectorError.malformed(path: "/proc/pressure/io", reason: "no \"full\" line")) {
            try pressureFamilies(cpu: PressureTotals(some: 1), io: PressureTotals(some: 1), memory: PressureTotals(some: 1, full: 1))
        }
    }

    @Test func malformedLineNamesTheFile() {
        #expect(throws: CollectorError.malformed(
            path: "/p/pressure/cpu", reason: "line \"some avg10=0.1 total=x\" is not \"some avg10=… avg60=… avg300=… total=N\"")) {
            try parsePressure("some avg10=0.1 total=x\n", path: "/p/pressure/cpu")
        }
    }

    @Test func absentPressureIsNoData() {
        let directory = Fixtures.scratch(["proc/stat": ""])
        #expect(throws: CollectorError.noData(
            "\(directory)/proc/pressure/cpu is absent: PSI needs Linux 4.20+ with CONFIG_PSI")) {
            try PressureCollector(paths: HostPaths(procfs: directory + "/proc")).collect()
        }
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try PressureCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "pressure.prom")
    }
}
