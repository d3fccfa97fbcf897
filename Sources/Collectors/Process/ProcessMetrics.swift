#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport
import MetricModel

/// The exporter's own `process_*` families, as client_golang's process collector writes them for
/// node_exporter (same names, types and HELP texts), so that the usual "exporter overhead" panels
/// and alerts work on Lookout. Read from the real `/proc/self` on every scrape, whatever
/// `--path.procfs` says (as client_golang reads its own process); `--web.disable-exporter-metrics`
/// turns them off, as it does in node_exporter.
package enum ProcessMetrics {
    /// client_golang's `userHZ`: /proc/self/stat counts CPU time and start time in 1/100 s.
    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    /// The families; one that cannot be read is left out (client_golang reports an error for it).
    package static func families() -> [MetricFamily] {
        var families: [MetricFamily] = []
        func gauge(_ name: String, _ help: String, _ value: Double?, type: MetricType = .gauge) {
            guard let value else { return }
            families.append(MetricFamily(name: name, help: help, type: type, samples: [Sample(labels: [], value: value)]))
        }
        let stat = selfStat()
        gauge("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
              stat.map { ($0.userTicks + $0.systemTicks) / ticksPerSecond }, type: .counter)
        gauge("process_max_fds", "Maximum number of open file descriptors.", softLimit(RLIMIT_NOFILE))
        gauge("process_open_fds", "Number of open file descriptors.", openDescriptors())
        gauge("process_resident_memory_bytes", "Resident memory size in bytes.", stat.map { $0.residentPages * pageSize })
        gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", startTime)
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", stat.map(\.virtualBytes))
        gauge("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", softLimit(RLIMIT_AS))
        return families
    }

    private struct SelfStat {
        var userTicks: Double
        var systemTicks: Double
        var startTicks: Double
        var virtualBytes: Double
        var residentPages: Double
    }

    /// proc(5) /proc/self/stat: the fields after the command name, which ends at the last ')'.
    private static func selfStat() -> SelfStat? {
        // fields[0] is field 3 (state); utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
        guard let text = try? HeldFiles.shared.read("/proc/self/stat"), let fields = ProcText.statFields(text, limit: 22),
              fields.count > 21, let user = ProcText.number(fields[11]), let system = ProcText.number(fields[12]),
              let start = ProcText.number(fields[19]), let virtual = ProcText.number(fields[20]),
              let resident = ProcText.number(fields[21]) else { return nil }
        return SelfStat(userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: resident)
    }

    /// When the process started, in seconds since the epoch: boot time plus the start ticks of
    /// /proc/self/stat. Neither changes while the process runs, so it is read once (it read the
    /// whole of /proc/stat, interrupt counts and all, on every scrape).
    private static let startTime: Double? = selfStat().flatMap { stat in bootTime().map { $0 + stat.startTicks / ticksPerSecond } }

    /// `btime` of /proc/stat: the boot time in seconds since the epoch.
    private static func bootTime() -> Double? {
        guard let text = try? TextFile.read("/proc/stat") else { return nil }
        for line in ProcText.lines(text) where line.hasPrefix("btime ") {
            return ProcText.number(ProcText.trimmed(line.dropFirst("btime ".count)))
        }
        return nil
    }

    /// The soft limit on `resource` (getrlimit(2): what /proc/self/limits shows, without reading
    /// and splitting that file); RLIM_INFINITY is the largest 64-bit value, as client_golang
    /// reports "unlimited".
    private static func softLimit(_ resource: __rlimit_resource) -> Double? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0 else { return nil }
        return Double(limit.rlim_cur)
    }

    /// The open descriptors, counted as client_golang counts the entries of /proc/self/fd: with
    /// the directory itself open, so its own descriptor included. Since Linux 6.2 the size
    /// stat(2) gives the directory is the number of open descriptors, read off the descriptor
    /// table without listing it (a listing costs the kernel a dentry per descriptor, and the
    /// collectors hold some twenty open, see ``HeldFiles``); an older kernel gives 0 there, and
    /// the directory is listed. The table also counts a descriptor that a call still in
    /// progress has reserved (a blocking accept(2), the open(2) of a FIFO), which a listing shows
    /// only once the call returns; the daemon makes no such calls (NIO accepts without blocking),
    /// and the reserved ones count against RLIMIT_NOFILE, `process_max_fds`, all the same.
    static func openDescriptors() -> Double? {
        var status = stat()
        if stat("/proc/self/fd", &status) == 0, status.st_size > 0 {
            return Double(status.st_size + 1)
        }
        return listedDescriptors()
    }

    /// The entries of /proc/self/fd, listed, the directory's own descriptor included.
    static func listedDescriptors() -> Double? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            // Every entry but "." and "..", told apart by their bytes (no string per entry).
            let isDots = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDots { count += 1 }
        }
        return Double(count)
    }
}
