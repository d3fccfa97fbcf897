// The `cpu` collector: per-CPU time from the `cpuN` lines of /proc/stat, plus the CPU facts
// node_exporter 1.5.0 reports by default from sysfs.
//
// Reads:
//   - `<procfs>/stat` (the `cpuN` lines; `cpu` is the all-CPU total and is skipped)
//   - `<sysfs>/devices/system/cpu/isolated` (once, at construction, as node_exporter does)
//   - `<sysfs>/devices/system/cpu/cpu[0-9]*/topology/{physical_package_id,core_id}` and
//     `…/thermal_throttle/{core,package}_throttle_count`
// Emits:
//   - `node_cpu_seconds_total{cpu,mode}` counter, mode ∈ idle iowait irq nice softirq steal system user
//   - `node_cpu_guest_seconds_total{cpu,mode}` counter, mode ∈ nice user (when `guest` is on)
//   - `node_cpu_isolated{cpu}` gauge, one per isolated CPU
//   - `node_cpu_core_throttles_total{core,package}`, `node_cpu_package_throttles_total{package}`
//     counters, where the kernel exposes thermal throttling (x86 bare metal)
// `node_cpu_info`, `node_cpu_flag_info` and `node_cpu_bug_info` are opt-in in node_exporter
// (`--collector.cpu.info`) and are not produced here.

import MetricModel
import Synchronization

/// One CPU's times from a `cpuN` line of /proc/stat, in seconds (the kernel counts USER_HZ ticks).
struct CPUTimes: Equatable, Sendable {
    var user = 0.0, nice = 0.0, system = 0.0, idle = 0.0, iowait = 0.0
    var irq = 0.0, softirq = 0.0, steal = 0.0, guest = 0.0, guestNice = 0.0
}

/// USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture (proc(5)).
private let userHZ = 100.0

/// Parses the `cpuN` lines of /proc/stat into a list indexed by CPU number. As in node_exporter
/// 1.5.0 (procfs' slice of CPUs), a number missing from the file — an offline CPU — becomes an
/// all-zero entry, and a line with fewer than ten values leaves the rest at zero.
func parseCPUStat(_ text: String, path: String = "/proc/stat") throws(CollectorError) -> [CPUTimes] {
    var cpus: [CPUTimes] = []
    // The kernel writes the cpu lines first (fs/proc/stat.c); stop at the first other line rather
    // than walk the long `intr` line.
    try ProcText.forEachLine(text) { line throws(CollectorError) in
        guard line.utf8.starts(with: "cpu".utf8) else { return cpus.isEmpty }
        let fields = ProcText.fields(line, limit: 11)
        let name = fields[0]
        if name == "cpu" { return true }
        // Bound the number so a corrupt line cannot make a huge list; Linux allows 8192 CPUs.
        guard let id = Int(name.dropFirst(3)), id >= 0, id < 65_536 else {
            throw .malformed(path: path, reason: "unexpected CPU name \"\(name)\"")
        }
        var values = [Double](repeating: 0, count: 10)
        for (index, field) in fields.dropFirst().enumerated() {
            guard let value = ProcText.number(field) else {
                throw .malformed(path: path, reason: "value \"\(field)\" of \(name) is not a number")
            }
            values[index] = value / userHZ
        }
        while cpus.count <= id { cpus.append(CPUTimes()) }
        cpus[id] = CPUTimes(
            user: values[0], nice: values[1], system: values[2], idle: values[3], iowait: values[4],
            irq: values[5], softirq: values[6], steal: values[7], guest: values[8], guestNice: values[9])
        return true
    }
    return cpus
}

/// Parses a sysfs CPU list such as `0-3,8` (the format of `devices/system/cpu/isolated`).
func parseCPUList(_ text: String, path: String) throws(CollectorError) -> [Int] {
    var cpus: [Int] = []
    for item in ProcText.trimmed(Substring(text)).split(separator: ",") where !item.isEmpty {
        let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count <= 2, let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
              low >= 0, high >= low, high < 65_536
        else { throw .malformed(path: path, reason: "invalid CPU range \"\(item)\"") }
        cpus.append(contentsOf: low...high)
    }
    return cpus
}

/// Builds the cpu families from (already guarded) CPU times, samples in node_exporter's order:
/// by CPU number compared as text ("10" before "2"), then by mode name.
func cpuFamilies(_ cpus: [CPUTimes], guest: Bool) -> [MetricFamily] {
    var seconds = MetricFamily(
        name: "node_cpu_seconds_total", help: "Seconds the CPUs spent in each mode.", type: .counter)
    seconds.samples.reserveCapacity(cpus.count * 8)
    var guestSeconds = MetricFamily(
        name: "node_cpu_guest_seconds_total",
        help: "Seconds the CPUs spent in guests (VMs) for each mode.", type: .counter)
    for id in textOrder(cpus.indices) {
        let cpu = Label("cpu", String(id))
        let times = cpus[id]
        let modes: [(String, Double)] = [
            ("idle", times.idle), ("iowait", times.iowait), ("irq", times.irq), ("nice", times.nice),
            ("softirq", times.softirq), ("steal", times.steal), ("system", times.system), ("user", times.user),
        ]
        for (mode, value) in modes {
            seconds.samples.append(Sample(labels: [cpu, Label("mode", mode)], value: value))
        }
        if guest {
            guestSeconds.samples.append(Sample(labels: [cpu, Label("mode", "nice")], value: times.guestNice))
            guestSeconds.samples.append(Sample(labels: [cpu, Label("mode", "user")], value: times.guest))
        }
    }
    return guest ? [seconds, guestSeconds] : [seconds]
}

/// `numbers` ordered as their decimal text sorts, the order Go's client prints label values in.
func textOrder<S: Sequence<Int>>(_ numbers: S) -> [Int] {
    numbers.map { (number: $0, text: String($0)) }
        .sorted { $0.text.utf8.lexicographicallyPrecedes($1.text.utf8) }
        .map(\.number)
}

/// The last CPU times reported, so that a counter the kernel lowers (iowait can go down, see
/// proc(5)) is not reported going backwards. Shared by every copy of a ``CPUCollector``.
final class CPUTimesGuard: Sendable {
    /// An idle time that drops by this many seconds means the CPU was replaced (hot-plug), and
    /// its cached times are dropped (node_exporter's `jumpBackSeconds`).
    static let jumpBackSeconds = 3.0

    private let last = Mutex<[CPUTimes]>([])

    /// Merges `fresh` into the cache and returns what to report: each value is the larger of the
    /// cached and the fresh one. A change in the number of CPUs resets the whole cache.
    func update(_ fresh: [CPUTimes]) -> [CPUTimes] {
        last.withLock { cache in
            if cache.count != fresh.count { cache = Array(repeating: CPUTimes(), count: fresh.count) }
            for (id, new) in fresh.enumerated() {
                var old = cache[id]
                if old.idle - new.idle >= Self.jumpBackSeconds { old = CPUTimes() }
                old.idle = max(old.idle, new.idle)
                old.user = max(old.user, new.user)
                old.nice = max(old.nice, new.nice)
                old.system = max(old.system, new.system)
                old.iowait = max(old.iowait, new.iowait)
                old.irq = max(old.irq, new.irq)
                old.softirq = max(old.softirq, new.softirq)
                old.steal = max(old.steal, new.steal)
                old.guest = max(old.guest, new.guest)
                old.guestNice = max(old.guestNice, new.guestNice)
                cache[id] = old
            }
            return cache
        }
    }
}

/// One CPU directory's thermal-throttle reading.
struct CPUThrottle: Equatable, Sendable {
    var package: UInt64
    var core: UInt64
    var coreCount: UInt64?
    var packageCount: UInt64?
}

/// Where a CPU sits (package and core ids) and whether sysfs has throttle counters for it.
struct CPUPlace: Equatable, Sendable {
    var package: UInt64
    var core: UInt64
    var hasThrottleCounts: Bool
}

/// Topology never changes while a CPU directory exists (a hot-plugged CPU keeps its ids), so each
/// `cpuN` directory's place is read once instead of on every scrape; only the counters are read
/// each time. A directory whose topology was unreadable is asked again on the next scrape.
final class CPUTopologyCache: Sendable {
    private let places = Mutex<[String: CPUPlace]>([:])

    /// The cached place of `directory`, reading it with `read` the first time.
    func place(of directory: String, read: () -> CPUPlace?) -> CPUPlace? {
        if let known = places.withLock({ $0[directory] }) { return known }
        guard let place = read() else { return nil }
        places.withLock { $0[directory] = place }
        return place
    }
}

/// Builds the throttle families as node_exporter does: the first CPU of a (package, core) with a
/// readable count gives the core count, the first of a package gives the package count.
func throttleFamilies(_ readings: [CPUThrottle]) -> [MetricFamily] {
    var coreCounts: [UInt64: [UInt64: UInt64]] = [:]
    var packageCounts: [UInt64: UInt64] = [:]
    for reading in readings {
        // A count that cannot be read is looked for again on the next CPU of that core or package.
        if coreCounts[reading.package]?[reading.core] == nil, let count = reading.coreCount {
            coreCounts[reading.package, default: [:]][reading.core] = count
        }
        if packageCounts[reading.package] == nil, let count = reading.packageCount {
            packageCounts[reading.package] = count
        }
    }
    var families: [MetricFamily] = []
    if !coreCounts.isEmpty {
        var family = MetricFamily(
            name: "node_cpu_core_throttles_total",
            help: "Number of times this CPU core has been throttled.", type: .counter)
        let series = coreCounts.flatMap { package, cores in
            cores.map { core, count in (core: String(core), package: String(package), count: count) }
        }.sorted { ($0.core, $0.package) < ($1.core, $1.package) }
        for item in series {
            family.samples.append(Sample(
                labels: [Label("core", item.core), Label("package", item.package)], value: Double(item.count)))
        }
        families.append(family)
    }
    if !packageCounts.isEmpty {
        var family = MetricFamily(
            name: "node_cpu_package_throttles_total",
            help: "Number of times this CPU package has been throttled.", type: .counter)
        for (package, count) in packageCounts.map({ (String($0.key), $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            family.samples.append(Sample(labels: [Label("package", package)], value: Double(count)))
        }
        families.append(family)
    }
    return families
}

/// node_exporter's `cpu` collector: time spent per CPU and mode, guest time, isolated CPUs and
/// thermal throttling counts.
struct CPUCollector: MetricCollector {
    /// The collector's name, as in `--collector.cpu`.
    package let name = "cpu"
    /// The roots read under.
    package let paths: HostPaths
    /// Whether `node_cpu_guest_seconds_total` is reported (`--collector.cpu.guest`, on by default).
    package let guest: Bool
    private let isolated: [Int]?
    private let cache = CPUTimesGuard()
    private let topology = CPUTopologyCache()

    /// Creates the collector. The isolated-CPU list is read once here, as node_exporter does; a
    /// missing or unreadable list means no `node_cpu_isolated` samples.
    package init(paths: HostPaths, guest: Bool = true) {
        self.paths = paths
        self.guest = guest
        let isolatedPath = paths.sys("devices/system/cpu/isolated")
        if let text = try? SourceFile.read(isolatedPath) {
            isolated = try? parseCPUList(text, path: isolatedPath)
        } else {
            isolated = nil
        }
    }

    /// Reads /proc/stat and the sysfs CPU directories.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("stat")
        let times = cache.update(try parseCPUStat(try SourceFile.read(path), path: path))
        var families = cpuFamilies(times, guest: guest)
        if let isolated, !isolated.isEmpty {
            var family = MetricFamily(
                name: "node_cpu_isolated",
                help: "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
                type: .gauge)
            for id in textOrder(Set(isolated)) {
                family.samples.append(Sample(labels: [Label("cpu", String(id))], value: 1))
            }
            families.append(family)
        }
        families += throttleFamilies(readThrottles())
        return families
    }

    /// The topology and throttle counts of every `cpuN` directory; CPUs without topology are
    /// skipped and missing counts left out, as node_exporter logs them at debug level only.
    private func readThrottles() -> [CPUThrottle] {
        let directory = paths.sys("devices/system/cpu")
        guard let names = try? SourceFile.list(directory) else { return [] }
        var readings: [CPUThrottle] = []
        // Go's filepath.Glob("cpu[0-9]*") returns names in byte order; `list` sorts the same way.
        for name in names where name.utf8.count > 3 && name.hasPrefix("cpu") {
            let digit = name.utf8[name.utf8.index(name.utf8.startIndex, offsetBy: 3)]
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { continue }
            let cpu = directory + "/" + name
            let place = topology.place(of: cpu) {
                guard let package = readUInt(cpu + "/topology/physical_package_id"),
                      let core = readUInt(cpu + "/topology/core_id") else { return nil }
                return CPUPlace(
                    package: package, core: core,
                    hasThrottleCounts: SourceFile.exists(cpu + "/thermal_throttle"))
            }
            guard let place else { continue }
            readings.append(CPUThrottle(
                package: place.package, core: place.core,
                coreCount: place.hasThrottleCounts ? readUInt(cpu + "/thermal_throttle/core_throttle_count") : nil,
                packageCount: place.hasThrottleCounts ? readUInt(cpu + "/thermal_throttle/package_throttle_count") : nil))
        }
        return readings
    }

    private func readUInt(_ path: String) -> UInt64? {
        guard let text = try? SourceFile.read(path) else { return nil }
        return UInt64(ProcText.trimmed(Substring(text)))
    }
}

extension CPUCollector {
    /// The `cpu` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(
        name: "cpu", readsProcfs: true,
        options: [CollectorOption("guest", .boolean, help: "Report node_cpu_guest_seconds_total (default: enabled).") { $0.cpuGuest = $1.boolean }]
    ) { settings, _ in
        CPUCollector(paths: settings.paths, guest: settings.cpuGuest)
    }
}
