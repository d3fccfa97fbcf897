import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fixture host (``Harness/fixtureHost()``) whose counters move: every half second the
/// kernel's cumulative counters in it — CPU ticks, disk and network statistics, pressure
/// totals, the microVM units' cgroup CPU, IO and memory events — grow, as a live host's do, so
/// that rates are positive and ratios of rates are numbers rather than 0/0. Gauges (memory,
/// load, filesystem sizes) and identities (boot time, process start times) are left alone.
/// Files are replaced by rename, so a collector never reads half of one.
final class TickingFixtureHost: @unchecked Sendable {
    /// The host's root directory.
    let directory: String
    /// `lookout serve` flags that read the host.
    let flags: [String]
    private let running = RunningFlag()
    private let finished = DispatchSemaphore(value: 0)

    /// Whether the clock still runs, shared with its thread.
    private final class RunningFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var on = true
        var isOn: Bool { lock.withLock { on } }
        func turnOff() { lock.withLock { on = false } }
    }

    /// What grows in one file: which lines, from which whitespace-separated field on, by how much.
    private struct Counters: Sendable {
        var path: String
        /// Only lines starting with one of these (all lines when empty).
        var linePrefixes: [String] = []
        /// Only lines containing this.
        var lineMark = ""
        var skippedFields = 0
        var step: UInt64

        func counts(_ line: Substring) -> Bool {
            (linePrefixes.isEmpty || linePrefixes.contains { line.hasPrefix($0) }) && (lineMark.isEmpty || line.contains(lineMark))
        }
    }

    /// Copies a fixture host and starts moving its counters.
    init() throws {
        (directory, flags) = try Harness.fixtureHost()
        let root = directory
        var counters = [
            // /proc/stat: ticks of USER_HZ (100/s): 2 a field a tick, 0.04 CPU a mode.
            Counters(path: "proc/stat", linePrefixes: ["cpu", "ctxt", "intr", "processes"], skippedFields: 1, step: 2),
            Counters(path: "proc/diskstats", skippedFields: 3, step: 2),
            Counters(path: "proc/net/dev", lineMark: ":", skippedFields: 1, step: 2_000),
        ]
        counters += ["cpu", "io", "memory"].map { Counters(path: "proc/pressure/\($0)", step: 20_000) }
        let files = FileManager.default.enumerator(atPath: root + "/sys")?.compactMap { $0 as? String } ?? []
        for file in files.sorted() {
            let name = (file as NSString).lastPathComponent
            if file.hasPrefix("class/net/"), file.contains("/statistics/") {
                counters.append(Counters(path: "sys/" + file, step: 1_000))
            } else if file.hasPrefix("fs/cgroup/"), ["cpu.stat", "io.stat", "cpu.pressure", "io.pressure", "memory.pressure"].contains(name) {
                counters.append(Counters(path: "sys/" + file, step: 20_000))
            }
        }
        let moving = counters, running = running, finished = finished
        Thread.detachNewThread {
            while running.isOn {
                usleep(500_000)
                for counter in moving { Self.advance(root + "/" + counter.path, counter, scratch: root + "/.tick") }
            }
            finished.signal()
        }
    }

    /// Stops the clock and removes the host.
    func stop() {
        guard running.isOn else { return }
        running.turnOff()
        _ = finished.wait(timeout: .now() + 5)
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// Adds the step to every counter of the file: whole fields of digits and the digits after
    /// `key=` (pressure `total=`, io.stat `rbytes=`); values that would overflow 64 bits (the
    /// fixtures' wrap-around cases) stay as they are.
    private static func advance(_ path: String, _ counters: Counters, scratch: String) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard counters.counts(line) else { return String(line) }
            var index = 0
            return line.split(separator: " ", omittingEmptySubsequences: false).map { field -> String in
                defer { if !field.isEmpty { index += 1 } }
                guard !field.isEmpty, index >= counters.skippedFields else { return String(field) }
                let (key, digits) = field.firstIndex(of: "=").map { (field[...$0], field[field.index(after: $0)...]) } ?? ("", field)
                guard let value = UInt64(digits) else { return String(field) }
                let (sum, overflow) = value.addingReportingOverflow(counters.step)
                return key + String(overflow ? value : sum)
            }.joined(separator: " ")
        }
        guard (try? lines.joined(separator: "\n").write(toFile: scratch, atomically: false, encoding: .utf8)) != nil else { return }
        rename(scratch, path)
    }
}
