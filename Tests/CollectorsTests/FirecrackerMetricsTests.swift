import Foundation
import MetricModel
import Testing
@testable import Collectors

@Suite struct FirecrackerMetricsTests {
    nonisolated(unsafe) static var clock = 1_764_000_000_000

    /// A metrics line with a timestamp later than every line before.
    static func line(read: Int, written: Int = 0, timestamp: Int? = nil) -> String {
        clock += 60_000
        return #"{"utc_timestamp_ms":\#(timestamp ?? clock),"block_rootfs":{"read_bytes":\#(read),"write_bytes":\#(written),"read_count":1,"write_count":\#(written > 0 ? 1 : 0)}}"# + "\n"
    }

    @Test func theMetricsPathOfAConfigFile() throws {
        #expect(try FirecrackerMetrics.metricsPath(inConfig: #"{"metrics":{"metrics_path":"m.fifo"}}"#, path: "c") == "m.fifo")
        #expect(try FirecrackerMetrics.metricsPath(inConfig: #"{"machine-config":{"vcpu_count":2}}"#, path: "c") == nil)
        #expect(throws: CollectorError.malformed(path: "c", reason: "not a Firecracker configuration")) {
            try FirecrackerMetrics.metricsPath(inConfig: "metrics: yes", path: "c")
        }
    }

    @Test func aConfigFileIsReadUpToItsBound() throws {
        let padding = String(repeating: " ", count: FirecrackerMetrics.maximumConfigBytes)
        let directory = Fixtures.scratch([
            "fits.json": #"{"metrics":{"metrics_path":"m.fifo"}}"#,
            "huge.json": #"{"metrics":{"metrics_path":"m.fifo"}}"# + padding,
        ])
        defer { Fixtures.removeTree(directory) }
        #expect(try FirecrackerMetrics.metricsPath(inConfigFile: directory + "/fits.json") == "m.fifo")
        #expect(try FirecrackerMetrics.metricsPath(inConfigFile: directory + "/absent.json") == nil)
        #expect(throws: CollectorError.unreadable(path: directory + "/huge.json", reason: "larger than 1048576 bytes")) {
            try FirecrackerMetrics.metricsPath(inConfigFile: directory + "/huge.json")
        }
    }

    @Test func aReplacedFileKeepsTheTotalsGoingUp() throws {
        let directory = Fixtures.scratch(["metrics.log": Self.line(read: 100) + Self.line(read: 50, written: 8)])
        defer { Fixtures.removeTree(directory) }
        let metrics = FirecrackerMetrics()
        let path = directory + "/metrics.log"
        #expect(try metrics.disks(metricsFile: path, writer: "A") == [VirtualDiskCounters(disk: "rootfs", readBytes: 150, writtenBytes: 8, reads: 2, writes: 1)])
        #expect(try metrics.disks(metricsFile: path, writer: "A").first?.readBytes == 150)  // nothing new: nothing added
        // The VM restarted and Firecracker made a new file: its lines count on top.
        unlink(path)
        Fixtures.write(Self.line(read: 1), to: path)
        #expect(try metrics.disks(metricsFile: path, writer: "A") == [VirtualDiskCounters(disk: "rootfs", readBytes: 151, writtenBytes: 8, reads: 3, writes: 1)])
        #expect(throws: CollectorError.unreadable(path: directory + "/none", reason: "No such file or directory")) {
            try metrics.disks(metricsFile: directory + "/none", writer: nil)
        }
    }

    @Test func aFIFOIsDrainedWithoutBlocking() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let path = directory + "/metrics.fifo"
        #expect(mkfifo(path, 0o600) == 0)
        let metrics = FirecrackerMetrics()
        #expect(try metrics.disks(metricsFile: path, writer: "A") == [])  // no writer yet: nothing, at once
        let writer = open(path, O_RDWR | O_NONBLOCK)
        defer { close(writer) }
        let text = Self.line(read: 4096) + String(Self.line(read: 1).dropLast(10))
        _ = text.withCString { Glibc.write(writer, $0, strlen($0)) }
        #expect(try metrics.disks(metricsFile: path, writer: "A").first?.readBytes == 4096)
        _ = String(Self.line(read: 1).suffix(10)).withCString { Glibc.write(writer, $0, strlen($0)) }
        #expect(try metrics.disks(metricsFile: path, writer: "A").first?.readBytes == 4097)
        metrics.keepOnly([])  // closes the FIFO
    }

    /// Firecracker reopens its file without truncating it: a new process writes from the start
    /// over the old lines.
    @Test func aRestartedWriterIsReadFromTheStartWithoutCountingOldLinesTwice() throws {
        let old = Self.line(read: 100) + Self.line(read: 200) + Self.line(read: 300)
        let directory = Fixtures.scratch(["metrics.log": old])
        defer { Fixtures.removeTree(directory) }
        let path = directory + "/metrics.log"
        let metrics = FirecrackerMetrics()
        #expect(try metrics.disks(metricsFile: path, writer: "1/100").first?.readBytes == 600)
        let fresh = Self.line(read: 7)
        let descriptor = open(path, O_WRONLY)
        _ = fresh.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        close(descriptor)
        #expect(try metrics.disks(metricsFile: path, writer: "2/900").first?.readBytes == 607)
        #expect(try metrics.disks(metricsFile: path, writer: "2/900").first?.readBytes == 607)
    }
}
