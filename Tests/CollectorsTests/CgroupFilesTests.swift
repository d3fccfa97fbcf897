import Foundation
import MetricModel
import Testing
@testable import Collectors

/// The cgroup v2 file formats the microVM collector reads, with the odd inputs kernels produce.
@Suite struct CgroupFilesTests {
    @Test func flatKeyedFilesAreReadByKeyWhereverNewKeysAppear() throws {
        let old = try parseFlatKeyed("usage_usec 81234567\nuser_usec 70000000\nsystem_usec 11234567\n", path: "cpu.stat")
        #expect(old == ["usage_usec": 81_234_567, "user_usec": 70_000_000, "system_usec": 11_234_567])
        // A newer kernel with keys in the middle and at the end.
        let newer = try parseFlatKeyed("""
            usage_usec 5
            user_usec 3
            core_sched.force_idle_usec 0
            system_usec 2
            nr_periods 10
            nr_throttled 1
            throttled_usec 400
            nr_bursts 0
            burst_usec 0

            """, path: "cpu.stat")
        #expect(newer["system_usec"] == 2)
        #expect(newer["throttled_usec"] == 400)
        #expect(newer.count == 9)
        #expect(try parseFlatKeyed("", path: "memory.events") == [:])
        #expect(try parseFlatKeyed("max 18446744073709551615\n", path: "x") == ["max": UInt64.max])
    }

    @Test func onlyTheKeysAskedForAreKeptButEveryLineIsChecked() throws {
        let text = "anon 4096\nfile 8192\nkernel_stack 16384\nkernel 32768\nzswapped 1\n"
        let keys = FlatKeys(["kernel", "file", "absent"])
        #expect(try parseFlatKeyed(text, path: "memory.stat", keeping: keys) == ["file": 8192, "kernel": 32768])
        #expect(throws: CollectorError.self) { try parseFlatKeyed(text + "anon_thp x\n", path: "memory.stat", keeping: keys) }
    }

    // Values as Go's strconv.ParseUint takes them: digits only, at most 2^64 - 1.
    @Test(arguments: ["usage_usec\n", "usage_usec 1 2\n", "usage_usec -1\n", "usage_usec 1.5\n", "usage_usec +1\n",
                      "usage_usec 18446744073709551616\n"])
    func malformedFlatKeyedLinesNameTheFile(text: String) {
        #expect(throws: CollectorError.self) { try parseFlatKeyed(text, path: "/x/cpu.stat") }
        do {
            _ = try parseFlatKeyed(text, path: "/x/cpu.stat")
        } catch {
            #expect(error.description.hasPrefix("malformed /x/cpu.stat: line"))
        }
    }

    @Test func singleValuesAndLimits() throws {
        #expect(try parseSingleValue("1073741824\n", path: "memory.current") == 1_073_741_824)
        #expect(try parseLimit("max\n", path: "memory.max") == nil)
        #expect(try parseLimit("2147483648\n", path: "memory.max") == 2_147_483_648)
        #expect(throws: CollectorError.self) { try parseSingleValue("", path: "memory.peak") }
        #expect(throws: CollectorError.self) { try parseLimit("unlimited\n", path: "memory.max") }
    }

    @Test func ioStatByDeviceWithMissingAndUnknownKeys() throws {
        let devices = try parseIOStat("""
            259:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0
            8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=9 depth=max avg_lat=0
            8:0 rbytes=10 wbytes=20 rios=3 wios=4

            """, path: "io.stat")
        #expect(devices.map(\.device) == ["8:0", "8:16", "259:0"])
        #expect(devices[1] == IOStatDevice(device: "8:16", readBytes: 1_459_200, writtenBytes: 314_773_504, reads: 192,
                                           writes: 353, discardedBytes: 0, discards: 0))
        #expect(devices[0].discards == 0)
        #expect(try parseIOStat("", path: "io.stat") == [])
        #expect(throws: CollectorError.self) { try parseIOStat("sda rbytes=1\n", path: "io.stat") }
        #expect(throws: CollectorError.malformed(path: "io.stat", reason: "\"rbytes=lots\" in line \"8:0 rbytes=lots\" is not KEY=N")) {
            try parseIOStat("8:0 rbytes=lots\n", path: "io.stat")
        }
        #expect(throws: CollectorError.self) { try parseIOStat("8:0 rbytes=1 garbage\n", path: "io.stat") }
        #expect(throws: CollectorError.self) { try parseIOStat("8:0:1 rbytes=1\n", path: "io.stat") }
        #expect(throws: CollectorError.self) { try parseIOStat("8:+1 rbytes=1\n", path: "io.stat") }
    }

    @Test func aCgroupReadsWhatItsControllersProvide() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-cgroup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        // Only the cpu files: memory, io and pids controllers are off for this unit.
        try write("cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n")
        try write("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=12\n")
        let cpuOnly = try CgroupStats.read(directory.path)
        #expect(cpuOnly.cpu == ["user_usec": 6, "system_usec": 4])  // the keys Lookout reports
        #expect(cpuOnly.memoryCurrent == nil && cpuOnly.memoryMax == nil && cpuOnly.io == nil && cpuOnly.tasks == nil)
        #expect(cpuOnly.cpuPressure == PressureTotals(some: 1234, full: 12))

        try write("memory.current", "2048\n")
        try write("memory.max", "max\n")
        try write("pids.current", "7\n")
        let more = try CgroupStats.read(directory.path)
        #expect(more.memoryCurrent == 2048)
        #expect(more.memoryMax == .some(nil))
        #expect(more.tasks == 7)
        // The virtiofsd unit's extent: CPU and memory.current, nothing else opened.
        #expect(try CgroupStats.read(directory.path, .usage)
            == CgroupStats(cpu: ["user_usec": 6, "system_usec": 4], memoryCurrent: 2048))

        // A malformed file is named by its full path.
        try write("memory.events", "oom_kill lots\n")
        #expect(throws: CollectorError.malformed(path: directory.path + "/memory.events", reason: "line \"oom_kill lots\" is not \"KEY VALUE\"")) {
            try CgroupStats.read(directory.path)
        }

        #expect(throws: CollectorError.noData("no cgroup at \(directory.path)/gone")) {
            try CgroupStats.read(directory.path + "/gone")
        }
    }
}
