#if canImport(Glibc)
import Glibc
#endif
import Testing
import MetricModel
@testable import Collectors

@Suite struct TimeTests {
    @Test func clocksourceFilesAreTrimmed() {
        #expect(parseClocksource(available: "tsc kvm-clock acpi_pm \n", current: "tsc\n")
            == Clocksource(available: ["tsc", "kvm-clock", "acpi_pm"], current: "tsc"))
        #expect(parseClocksource(available: "", current: "") == Clocksource(available: [], current: ""))
    }

    @Test func devicesAreNumberedByPositionAndSamplesSortByClocksourceThenDevice() {
        let sources = (0..<11).map { Clocksource(available: ["b", "a"], current: $0 == 3 ? "a" : "c\($0)") }
        let families = timeFamilies(now: 5, zoneName: "CET", zoneOffset: 3600, clocksources: sources)
        let available = families.first { $0.name == "node_time_clocksource_available_info" }!
        #expect(available.samples.prefix(4).map { $0.labels.map(\.value) }
            == [["a", "0"], ["a", "1"], ["a", "10"], ["a", "2"]])
        #expect(available.samples[11].labels == [Label("clocksource", "b"), Label("device", "0")])
        let current = families.first { $0.name == "node_time_clocksource_current_info" }!
        #expect(current.samples.prefix(3).map { $0.labels.map(\.value) }
            == [["a", "3"], ["c0", "0"], ["c1", "1"]])
        #expect(families[1] == MetricFamily(
            name: "node_time_zone_offset_seconds", help: "System time zone offset in seconds.", type: .gauge,
            samples: [Sample(labels: [Label("time_zone", "CET")], value: 3600)]))
    }

    @Test func noClocksourcesMeansNoClocksourceFamilies() {
        #expect(timeFamilies(now: 1, zoneName: "UTC", zoneOffset: 0, clocksources: []).map(\.name)
            == ["node_time_seconds", "node_time_zone_offset_seconds"])
    }

    /// The clock and zone differ from node_exporter's run by nature: the clock is checked against
    /// now, the zone against the C library, everything else against the golden file.
    @Test func fixtureMatchesNodeExporter() throws {
        let before = Double(time(nil))
        let families = try TimeCollector(paths: Fixtures.paths).collect()
        let after = Double(time(nil)) + 1
        let now = try #require(families.first { $0.name == "node_time_seconds" }?.samples.first?.value)
        #expect(now >= before && now <= after)

        var clock = time(nil)
        var local = tm()
        localtime_r(&clock, &local)
        let zone = try #require(families.first { $0.name == "node_time_zone_offset_seconds" }?.samples.first)
        let zoneName = local.tm_zone.map { String(cString: $0) } ?? "UTC"
        #expect(zone.labels == [Label("time_zone", zoneName)])
        #expect(zone.value == Double(local.tm_gmtoff))

        let varying = ["node_time_seconds ", "node_time_zone_offset_seconds{"]
        func stable(_ text: String) -> [Substring] {
            text.split(separator: "\n").filter { line in !varying.contains { line.hasPrefix($0) } }
        }
        let actual = Fixtures.render(families)
        if getenv("LOOKOUT_UPDATE_GOLDEN") != nil {
            try Fixtures.expectGolden(actual, "time.prom")
        } else {
            #expect(stable(actual) == stable(try Fixtures.read("golden/time.prom")))
        }
    }

    @Test func missingClocksourceDirectoryIsFine() throws {
        let families = try TimeCollector(paths: HostPaths(sysfs: "/nonexistent")).collect()
        #expect(families.count == 2)
    }
}
