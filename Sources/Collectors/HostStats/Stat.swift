// The `stat` collector: kernel activity counters from /proc/stat.
//
// Reads: `<procfs>/stat` (the `intr`, `ctxt`, `btime`, `processes`, `procs_running` and
// `procs_blocked` lines; the `cpuN` lines belong to the `cpu` collector).
// Emits (node_exporter 1.5.0 names and HELP):
//   - `node_intr_total`, `node_context_switches_total`, `node_forks_total` counters
//   - `node_boot_time_seconds`, `node_procs_running`, `node_procs_blocked` gauges
// `node_softirqs_total` is opt-in in node_exporter (`--collector.stat.softirq`) and is not produced.

import MetricModel

/// The kernel activity counters of /proc/stat. A line the kernel did not write stays zero, as in
/// procfs (which node_exporter reads it with).
struct KernelActivity: Equatable, Sendable {
    var interrupts: UInt64 = 0
    var contextSwitches: UInt64 = 0
    var bootTime: UInt64 = 0
    var forks: UInt64 = 0
    var procsRunning: UInt64 = 0
    var procsBlocked: UInt64 = 0
}

/// Parses the activity lines of /proc/stat; each value must be an unsigned 64-bit integer.
func parseStat(_ text: String, path: String = "/proc/stat") throws(CollectorError) -> KernelActivity {
    var activity = KernelActivity()
    for line in ProcText.lines(text) {
        guard let first = line.utf8.first, first != UInt8(ascii: "c") || !line.hasPrefix("cpu") else { continue }
        // Only the first value matters: the `intr` line goes on with one count per interrupt.
        let fields = ProcText.fields(line, limit: 2)
        guard fields.count == 2 else { continue }
        let target: WritableKeyPath<KernelActivity, UInt64>
        switch fields[0] {
        case "intr": target = \.interrupts
        case "ctxt": target = \.contextSwitches
        case "btime": target = \.bootTime
        case "processes": target = \.forks
        case "procs_running": target = \.procsRunning
        case "procs_blocked": target = \.procsBlocked
        default: continue
        }
        guard let value = UInt64(fields[1]) else {
            throw .malformed(path: path, reason: "\(fields[0]) value \"\(fields[1])\" is not an unsigned integer")
        }
        activity[keyPath: target] = value
    }
    return activity
}

/// The stat families, in the order node_exporter registers them (the registry sorts by name).
func statFamilies(_ activity: KernelActivity) -> [MetricFamily] {
    [
        .single("node_intr_total", help: "Total number of interrupts serviced.", type: .counter,
                value: Double(activity.interrupts)),
        .single("node_context_switches_total", help: "Total number of context switches.", type: .counter,
                value: Double(activity.contextSwitches)),
        .single("node_forks_total", help: "Total number of forks.", type: .counter,
                value: Double(activity.forks)),
        .single("node_boot_time_seconds", help: "Node boot time, in unixtime.",
                value: Double(activity.bootTime)),
        .single("node_procs_running", help: "Number of processes in runnable state.",
                value: Double(activity.procsRunning)),
        .single("node_procs_blocked", help: "Number of processes blocked waiting for I/O to complete.",
                value: Double(activity.procsBlocked)),
    ]
}

/// node_exporter's `stat` collector: interrupts, context switches, forks, boot time and the
/// running and blocked process counts.
struct StatCollector: MetricCollector {
    /// The collector's name, as in `--collector.stat`.
    package let name = "stat"
    /// The roots read under.
    package let paths: HostPaths

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads /proc/stat.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("stat")
        return statFamilies(try parseStat(try SourceFile.read(path), path: path))
    }
}

extension StatCollector {
    /// The `stat` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "stat", readsProcfs: true) { settings, _ in
        StatCollector(paths: settings.paths)
    }
}
