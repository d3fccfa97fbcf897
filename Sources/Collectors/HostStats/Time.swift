// The `time` collector: the system clock, its time zone, and the kernel's clock sources.
//
// Reads: the realtime clock and local time zone (clock_gettime(2), localtime_r(3)), and
// `<sysfs>/devices/system/clocksource/clocksource[0-9]*/{available,current}_clocksource`.
// Emits (gauges):
//   - `node_time_seconds`
//   - `node_time_zone_offset_seconds{time_zone}`
//   - `node_time_clocksource_available_info{clocksource,device}` = 1 per available source
//   - `node_time_clocksource_current_info{clocksource,device}` = 1
// `device` is the directory's position in the sorted listing ("0", "1", …), as node_exporter
// 1.5.0 numbers it, not the number in its name.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MetricModel

/// One clocksource directory's contents.
struct Clocksource: Equatable, Sendable {
    /// The names in `available_clocksource`.
    var available: [String]
    /// The name in `current_clocksource`.
    var current: String
}

/// Parses the two files of a clocksource directory (white-space separated names, one name).
func parseClocksource(available: String, current: String) -> Clocksource {
    Clocksource(
        available: ProcText.fields(Substring(available)).map(String.init),
        current: String(ProcText.trimmed(Substring(current))))
}

/// The time families for a given instant and zone.
func timeFamilies(now: Double, zoneName: String, zoneOffset: Int, clocksources: [Clocksource]) -> [MetricFamily] {
    var available = MetricFamily(
        name: "node_time_clocksource_available_info",
        help: "Available clocksources read from '/sys/devices/system/clocksource'.", type: .gauge)
    var current = MetricFamily(
        name: "node_time_clocksource_current_info",
        help: "Current clocksource read from '/sys/devices/system/clocksource'.", type: .gauge)
    // Go's client orders samples by label values in label-name order: clocksource, then device.
    func byLabels(_ a: (name: String, device: String), _ b: (name: String, device: String)) -> Bool {
        a.name == b.name
            ? a.device.utf8.lexicographicallyPrecedes(b.device.utf8)
            : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
    }
    var availablePairs: [(name: String, device: String)] = []
    var currentPairs: [(name: String, device: String)] = []
    for (index, source) in clocksources.enumerated() {
        let device = String(index)
        for name in Set(source.available) { availablePairs.append((name, device)) }
        currentPairs.append((source.current, device))
    }
    for pair in availablePairs.sorted(by: byLabels) {
        available.samples.append(Sample(labels: [Label("clocksource", pair.name), Label("device", pair.device)], value: 1))
    }
    for pair in currentPairs.sorted(by: byLabels) {
        current.samples.append(Sample(labels: [Label("clocksource", pair.name), Label("device", pair.device)], value: 1))
    }
    var families: [MetricFamily] = [
        .single("node_time_seconds", help: "System time in seconds since epoch (1970).", value: now),
        MetricFamily(
            name: "node_time_zone_offset_seconds", help: "System time zone offset in seconds.", type: .gauge,
            samples: [Sample(labels: [Label("time_zone", zoneName)], value: Double(zoneOffset))]),
    ]
    if !available.samples.isEmpty { families.append(available) }
    if !current.samples.isEmpty { families.append(current) }
    return families
}

/// node_exporter's `time` collector.
struct TimeCollector: MetricCollector {
    /// The collector's name, as in `--collector.time`.
    package let name = "time"
    /// The roots read under.
    package let paths: HostPaths

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads the clock, the zone and the clocksource directories.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        // Nanoseconds as one integer, then one division: node_exporter's UnixNano() / 1e9.
        let now = Double(Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)) / 1e9
        var seconds = spec.tv_sec
        var local = tm()
        localtime_r(&seconds, &local)
        let zoneName = local.tm_zone.map { String(cString: $0) } ?? "UTC"
        return timeFamilies(
            now: now, zoneName: zoneName, zoneOffset: Int(local.tm_gmtoff), clocksources: try readClocksources())
    }

    private func readClocksources() throws(CollectorError) -> [Clocksource] {
        let directory = paths.sys("devices/system/clocksource")
        // A missing directory is an empty glob in node_exporter, not an error.
        guard SourceFile.exists(directory) else { return [] }
        var sources: [Clocksource] = []
        for entry in try SourceFile.list(directory) where isClocksourceDirectory(entry) {
            let base = directory + "/" + entry
            sources.append(parseClocksource(
                available: try SourceFile.read(base + "/available_clocksource"),
                current: try SourceFile.read(base + "/current_clocksource")))
        }
        return sources
    }

    /// Whether `entry` matches the glob `clocksource[0-9]*`.
    private func isClocksourceDirectory(_ entry: String) -> Bool {
        let prefix = "clocksource".utf8
        let bytes = entry.utf8
        guard bytes.count > prefix.count, bytes.starts(with: prefix) else { return false }
        let digit = bytes[bytes.index(bytes.startIndex, offsetBy: prefix.count)]
        return digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9")
    }
}

extension TimeCollector {
    /// The `time` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "time", readsProcfs: false) { settings, _ in
        TimeCollector(paths: settings.paths)
    }
}
