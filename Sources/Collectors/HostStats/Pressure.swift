// The `pressure` collector: pressure stall information (PSI, Linux 4.20+ with CONFIG_PSI).
//
// Reads: `<procfs>/pressure/cpu`, `<procfs>/pressure/io`, `<procfs>/pressure/memory` (the
// `total=` microsecond counters of the `some` and `full` lines).
// Emits (counters, seconds, HELP without a final period as in node_exporter 1.5.0):
//   - `node_pressure_cpu_waiting_seconds_total` (cpu `some`; the cpu `full` line of Linux 5.13+
//     is not reported by 1.5.0)
//   - `node_pressure_io_waiting_seconds_total`, `node_pressure_io_stalled_seconds_total` (io some, full)
//   - `node_pressure_memory_waiting_seconds_total`, `node_pressure_memory_stalled_seconds_total`
// `/proc/pressure/irq` (Linux 6.1+) is not read by 1.5.0 and is not read here. When a file is
// absent the collector reports `CollectorError.noData`, as node_exporter reports ErrNoData.

import MetricModel

/// The `total=` counters of one /proc/pressure file, in microseconds; nil when the line is absent.
struct PressureTotals: Equatable, Sendable {
    var some: UInt64?
    var full: UInt64?
}

/// Parses a PSI file: lines `some|full avg10=F avg60=F avg300=F total=N`; other lines are
/// ignored, as procfs does, so that new kinds of line do not break the collector.
func parsePressure(_ text: String, path: String) throws(CollectorError) -> PressureTotals {
    var totals = PressureTotals()
    // Six fields at most: a sixth makes the line malformed.
    try ProcText.forEachLineFields(text, limit: 6, separatedBy: ProcText.isSpace) { bytes, fields, line, _ throws(CollectorError) in
        guard let kind = fields.first else { return }
        let isSome = kind.count == 4 && ProcText.hasPrefix(bytes, kind, "some")
        guard isSome || (kind.count == 4 && ProcText.hasPrefix(bytes, kind, "full")) else { return }
        // Values are checked as Double and UInt64 read text: the kernel's plain digits take a fast
        // path, anything else (a sign, an exponent) the standard library's parser.
        func value(_ field: Int, after prefix: String) -> Range<Int>? {
            guard ProcText.hasPrefix(bytes, fields[field], prefix) else { return nil }
            return fields[field].dropFirst(prefix.utf8.count)
        }
        func isAverage(_ field: Int, _ prefix: String) -> Bool {
            guard let range = value(field, after: prefix) else { return false }
            return ProcText.isFixedPoint(bytes, range) || Double(ProcText.string(bytes, range)) != nil
        }
        guard fields.count == 5, isAverage(1, "avg10="), isAverage(2, "avg60="), isAverage(3, "avg300="),
              let range = value(4, after: "total="),
              let total = parseDecimal(bytes[range], as: UInt64.self)
                ?? UInt64(ProcText.string(bytes, range))
        else {
            let shown = ProcText.string(bytes, line.prefix(200))
            throw .malformed(path: path, reason: "line \"\(shown)\" is not \"\(ProcText.string(bytes, kind)) avg10=… avg60=… avg300=… total=N\"")
        }
        if isSome { totals.some = total } else { totals.full = total }
    }
    return totals
}

/// The pressure families from the three files' totals; a needed line that is missing is an error
/// (node_exporter 1.5.0 would crash on it).
func pressureFamilies(
    cpu: PressureTotals, io: PressureTotals, memory: PressureTotals, directory: String = "/proc/pressure"
) throws(CollectorError) -> [MetricFamily] {
    func seconds(_ total: UInt64?, _ file: String, _ line: String) throws(CollectorError) -> Double {
        guard let total else { throw .malformed(path: directory + "/" + file, reason: "no \"\(line)\" line") }
        // Two divisions, not one by 1e6, so the last digit matches node_exporter's float64 result.
        return Double(total) / 1000.0 / 1000.0
    }
    return [
        .single("node_pressure_cpu_waiting_seconds_total",
                help: "Total time in seconds that processes have waited for CPU time", type: .counter,
                value: try seconds(cpu.some, "cpu", "some")),
        .single("node_pressure_io_waiting_seconds_total",
                help: "Total time in seconds that processes have waited due to IO congestion", type: .counter,
                value: try seconds(io.some, "io", "some")),
        .single("node_pressure_io_stalled_seconds_total",
                help: "Total time in seconds no process could make progress due to IO congestion", type: .counter,
                value: try seconds(io.full, "io", "full")),
        .single("node_pressure_memory_waiting_seconds_total",
                help: "Total time in seconds that processes have waited for memory", type: .counter,
                value: try seconds(memory.some, "memory", "some")),
        .single("node_pressure_memory_stalled_seconds_total",
                help: "Total time in seconds no process could make progress due to memory congestion",
                type: .counter, value: try seconds(memory.full, "memory", "full")),
    ]
}

/// node_exporter's `pressure` collector: cumulative CPU, IO and memory stall time.
struct PressureCollector: MetricCollector {
    /// The collector's name, as in `--collector.pressure`.
    package let name = "pressure"
    /// The roots read under.
    package let paths: HostPaths

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads the three PSI files; throws `noData` when the kernel has no PSI.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        func read(_ resource: String) throws(CollectorError) -> PressureTotals {
            let path = paths.proc("pressure/" + resource)
            guard let text = try SourceFile.readIfPresent(path) else {
                throw .noData("\(path) is absent: PSI needs Linux 4.20+ with CONFIG_PSI")
            }
            return try parsePressure(text, path: path)
        }
        return try pressureFamilies(
            cpu: try read("cpu"), io: try read("io"), memory: try read("memory"),
            directory: paths.proc("pressure"))
    }
}

extension PressureCollector {
    /// The `pressure` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "pressure", readsProcfs: true) { settings, _ in
        PressureCollector(paths: settings.paths)
    }
}
