// The `loadavg` collector: the load averages of /proc/loadavg.
//
// Reads: `<procfs>/loadavg` (the first three fields).
// Emits: `node_load1`, `node_load5`, `node_load15` gauges.

import MetricModel

/// The 1, 5 and 15 minute load averages of /proc/loadavg.
func parseLoadavg(_ text: String, path: String = "/proc/loadavg") throws(CollectorError) -> (Double, Double, Double) {
    let fields = ProcText.fields(Substring(text), limit: 3)
    guard fields.count == 3 else {
        throw .malformed(path: path, reason: "expected three load averages, found \(fields.count) fields")
    }
    var loads: [Double] = []
    for field in fields {
        guard let load = Double(field) else {
            throw .malformed(path: path, reason: "load \"\(field.prefix(200))\" is not a number")
        }
        loads.append(load)
    }
    return (loads[0], loads[1], loads[2])
}

/// node_exporter's `loadavg` collector.
struct LoadavgCollector: MetricCollector {
    /// The collector's name, as in `--collector.loadavg`.
    package let name = "loadavg"
    /// The roots read under.
    package let paths: HostPaths

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads /proc/loadavg.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("loadavg")
        let (one, five, fifteen) = try parseLoadavg(try SourceFile.read(path), path: path)
        return [
            .single("node_load1", help: "1m load average.", value: one),
            .single("node_load5", help: "5m load average.", value: five),
            .single("node_load15", help: "15m load average.", value: fifteen),
        ]
    }
}

extension LoadavgCollector {
    /// The `loadavg` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "loadavg", readsProcfs: true) { settings, _ in
        LoadavgCollector(paths: settings.paths)
    }
}
