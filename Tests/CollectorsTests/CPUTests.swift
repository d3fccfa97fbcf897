import Testing
import MetricModel
@testable import Collectors

@Suite struct CPUTests {
    @Test func parsesTicksAsSeconds() throws {
        let cpus = try parseCPUStat("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 100 200 300 400 500 600 700 800 900 1000\n")
        #expect(cpus == [CPUTimes(
            user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8, guest: 9, guestNice: 10)])
    }

    @Test func shortLinesAndMissingCPUsAreZero() throws {
        // Old kernels write fewer columns; an offline CPU has no line (node_exporter 1.5.0 then
        // reports it with zeros).
        let cpus = try parseCPUStat("cpu0 100 200 300 400\ncpu2 1\n")
        #expect(cpus == [
            CPUTimes(user: 1, nice: 2, system: 3, idle: 4), CPUTimes(), CPUTimes(user: 0.01),
        ])
    }

    @Test func countersNear64BitsKeepDoublePrecision() throws {
        let cpus = try parseCPUStat("cpu0 18446744073709551615 0 0 0\n")
        #expect(cpus[0].user == 18446744073709551615.0 / 100)
    }

    @Test func malformedLinesNameTheFile() {
        #expect(throws: CollectorError.malformed(path: "/p/stat", reason: "value \"x1\" of cpu0 is not a number")) {
            try parseCPUStat("cpu0 1 x1 3\n", path: "/p/stat")
        }
        #expect(throws: CollectorError.malformed(path: "/p/stat", reason: "unexpected CPU name \"cpufoo\"")) {
            try parseCPUStat("cpufoo 1 2 3\n", path: "/p/stat")
        }
        #expect(throws: CollectorError.malformed(path: "/p/stat", reason: "unexpected CPU name \"cpu99999999999\"")) {
            try parseCPUStat("cpu99999999999 1\n", path: "/p/stat")
        }
    }

    @Test func cpuListRanges() throws {
        #expect(try parseCPUList("0-2,5\n", path: "isolated") == [0, 1, 2, 5])
        #expect(try parseCPUList("\n", path: "isolated") == [])
        #expect(throws: CollectorError.malformed(path: "isolated", reason: "invalid CPU range \"3-1\"")) {
            try parseCPUList("3-1", path: "isolated")
        }
    }

    @Test func samplesSortLikeGo() {
        let families = cpuFamilies(Array(repeating: CPUTimes(), count: 11), guest: false)
        #expect(families.count == 1)
        let order = families[0].samples.map { $0.labels[0].value }
        #expect(Array(order.prefix(24)) == Array(repeating: "0", count: 8) + Array(repeating: "1", count: 8)
            + Array(repeating: "10", count: 8))
        #expect(families[0].samples.prefix(8).map { $0.labels[1].value }
            == ["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"])
    }

    @Test func guardIgnoresDropsAndResetsOnIdleJump() {
        let guardian = CPUTimesGuard()
        _ = guardian.update([CPUTimes(user: 10, idle: 100, iowait: 5)])
        // iowait going down is ignored; user going up is taken.
        #expect(guardian.update([CPUTimes(user: 11, idle: 101, iowait: 4)])
            == [CPUTimes(user: 11, idle: 101, iowait: 5)])
        // Idle dropping by less than 3 s is ignored too.
        #expect(guardian.update([CPUTimes(user: 11, idle: 99, iowait: 5)])
            == [CPUTimes(user: 11, idle: 101, iowait: 5)])
        // Idle dropping by 3 s or more: a hot-plugged CPU, start again from the fresh values.
        #expect(guardian.update([CPUTimes(user: 1, idle: 98, iowait: 1)]) == [CPUTimes(user: 1, idle: 98, iowait: 1)])
        // A different number of CPUs resets the cache.
        #expect(guardian.update([CPUTimes(user: 0.5), CPUTimes(idle: 1)]) == [CPUTimes(user: 0.5), CPUTimes(idle: 1)])
    }

    @Test func throttleCountsComeFromTheFirstReadableCPU() {
        let families = throttleFamilies([
            CPUThrottle(package: 0, core: 0, coreCount: nil, packageCount: nil),
            CPUThrottle(package: 0, core: 0, coreCount: 4, packageCount: 9),
            CPUThrottle(package: 0, core: 0, coreCount: 6, packageCount: 8),
        ])
        #expect(families == [
            MetricFamily(
                name: "node_cpu_core_throttles_total", help: "Number of times this CPU core has been throttled.",
                type: .counter, samples: [Sample(labels: [Label("core", "0"), Label("package", "0")], value: 4)]),
            MetricFamily(
                name: "node_cpu_package_throttles_total",
                help: "Number of times this CPU package has been throttled.",
                type: .counter, samples: [Sample(labels: [Label("package", "0")], value: 9)]),
        ])
        #expect(throttleFamilies([]) == [])
    }

    @Test func fixtureMatchesNodeExporter() throws {
        let actual = Fixtures.render(try CPUCollector(paths: Fixtures.paths).collect())
        try Fixtures.expectGolden(actual, "cpu.prom")
    }

    @Test func guestFamilyIsOptional() throws {
        let families = try CPUCollector(paths: Fixtures.paths, guest: false).collect()
        #expect(!families.contains { $0.name == "node_cpu_guest_seconds_total" })
        #expect(families.contains { $0.name == "node_cpu_seconds_total" })
    }

    @Test func copiesShareTheGuard() throws {
        let directory = Fixtures.scratch(["proc/stat": "cpu0 100 0 0 1000 50\n"])
        let collector = CPUCollector(paths: HostPaths(procfs: directory + "/proc", sysfs: directory + "/sys"))
        _ = try collector.collect()
        let copy = collector
        Fixtures.write("cpu0 100 0 0 1000 10\n", to: directory + "/proc/stat")
        let iowait = try copy.collect()[0].samples.first { $0.labels[1].value == "iowait" }?.value
        #expect(iowait == 0.5)
    }

    @Test func missingStatIsUnreadable() {
        #expect(throws: CollectorError.unreadable(path: "/nonexistent/stat", reason: "No such file or directory")) {
            try CPUCollector(paths: HostPaths(procfs: "/nonexistent", sysfs: "/nonexistent")).collect()
        }
    }
}
