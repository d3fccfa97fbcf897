@testable import Collectors
import MetricModel
import Testing

@Suite struct DiskstatsTests {
    @Test func parsesEachKernelLineLength() throws {
        let text = """
               8       0 sda 1 2 3 4 5 6 7 8 9 10 11
             254       0 vda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
             259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
            """
        let lines = try parseDiskstats(text)
        #expect(lines.map(\.device) == ["sda", "vda", "nvme0n1"])
        #expect(lines[0].stats == Array(1...11))
        #expect(lines[1].stats == Array(1...15))
        // Fields past the 20th are ignored, as procfs' fixed Sscanf format does.
        #expect(lines[2].stats == Array(1...17))
        #expect(lines[2].major == 259 && lines[2].minor == 0)
    }

    @Test func skipsShortAndBlankLines() throws {
        let text = "\n   8 0 sda 1 2 3 4 5 6 7 8 9 10\n\n   8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n"
        #expect(try parseDiskstats(text).map(\.device) == ["sda1"])
    }

    @Test func keepsCountersNear2To64() throws {
        let lines = try parseDiskstats("252 0 dm-0 18446744073709551615 0 18446744073709551615 0 0 0 0 0 0 0 0\n")
        #expect(lines[0].stats[0] == UInt64.max)
    }

    @Test func overflowIsMalformedAndNamesTheFile() {
        #expect(throws: CollectorError.malformed(
            path: "/p/diskstats", reason: "line 1: field 4 \"18446744073709551616\" is not an unsigned integer")) {
            try parseDiskstats("252 0 dm-0 18446744073709551616 0 0 0 0 0 0 0 0 0 0\n", path: "/p/diskstats")
        }
    }

    @Test func deviceNameWithSpaceShiftsFieldsAndIsMalformed() {
        // The kernel never writes one; a scan like procfs' then meets a word where a number belongs.
        #expect(throws: CollectorError.malformed(path: "diskstats", reason: "line 1: field 4 \"disk\" is not an unsigned integer")) {
            try parseDiskstats("8 0 my disk 1 2 3 4 5 6 7 8 9 10 11\n")
        }
    }

    @Test func veryLongLineParses() throws {
        let line = "8 0 sda " + Array(repeating: "1", count: 5_000).joined(separator: " ") + "\n"
        #expect(try parseDiskstats(line)[0].stats.count == 17)
    }

    @Test func udevPropertiesKeepOnlyELines() {
        let properties = parseUdevProperties("S:disk/by-id/x\nE:ID_MODEL=A=B\nE:BROKEN\nE:ID_MODEL=C\nG:systemd\n")
        #expect(properties == ["ID_MODEL": "C"])
        // CRLF line ends lose their CR, as in Go's bufio.ScanLines; a value keeps its UTF-8.
        #expect(parseUdevProperties("E:ID_MODEL=Ü\r\nE:ID_SERIAL=s1\r\n") == ["ID_MODEL": "Ü", "ID_SERIAL": "s1"])
    }

    @Test func defaultExcludeIsUpstream150() {
        #expect(DiskstatsCollector.defaultDeviceExclude == #"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"#)
    }

    @Test func fixtureMatchesNodeExporterWithUdev() throws {
        let collector = DiskstatsCollector(
            paths: Fixtures.paths, deviceExclude: DiskstatsCollector.defaultDeviceExclude,
            udevData: Fixtures.root + "/udev/data")
        try Fixtures.expectGolden(Fixtures.render(collector.collect()), "diskstats.prom")
    }

    @Test func fixtureMatchesNodeExporterWithoutUdev() throws {
        let collector = DiskstatsCollector(
            paths: Fixtures.paths, deviceExclude: DiskstatsCollector.defaultDeviceExclude,
            udevData: Fixtures.root + "/no-such-udev")
        try Fixtures.expectGolden(Fixtures.render(collector.collect()), "diskstats-no-udev.prom")
    }

    @Test func excludeFilterApplies() throws {
        let collector = DiskstatsCollector(paths: Fixtures.paths, deviceExclude: "^(loop|vd|sd|nvme|zram|ram|sr)")
        let devices = Set(try collector.collect().flatMap(\.samples).compactMap { $0.labels.first?.value })
        #expect(devices == ["dm-0"])
    }

    @Test func invalidPatternIsReportedNotFatal() throws {
        #expect(throws: InvalidPatternError.self) { try DiskstatsCollector.validatePattern("(unclosed") }
        let collector = DiskstatsCollector(paths: Fixtures.paths, deviceExclude: "(unclosed")
        #expect(throws: CollectorError.self) { try collector.collect() }
    }

    @Test func missingFileIsUnreadable() {
        let collector = DiskstatsCollector(paths: HostPaths(procfs: "/nonexistent"), deviceExclude: "")
        #expect(throws: CollectorError.unreadable(path: "/nonexistent/diskstats", reason: "No such file or directory")) {
            try collector.collect()
        }
    }
}
