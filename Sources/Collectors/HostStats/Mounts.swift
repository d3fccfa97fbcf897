#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Pipeline
import Synchronization

// Mounts reads the mount table `/proc/1/mounts` (falling back to `/proc/mounts` when PID 1's is
// hidden, e.g. by hidepid) and calls statfs(2) on each mount point under the root filesystem, as
// node_exporter 1.5.0's `filesystem_linux.go` does.
//
// Families, gauges labelled {device,fstype,mountpoint}:
// node_filesystem_device_error (every mount that passes the filters: 1 when statfs failed, timed out
// or the mount is known stuck), and, only for mounts whose statfs succeeded:
// node_filesystem_size_bytes, node_filesystem_free_bytes, node_filesystem_avail_bytes,
// node_filesystem_files, node_filesystem_files_free, node_filesystem_readonly.

/// One line of a mount table: what node_exporter keeps of it.
struct MountEntry: Equatable {
    var device: String
    /// The mount point with `\040` and `\011` decoded (the only escapes node_exporter decodes).
    var mountPoint: String
    var fsType: String
    var options: String

    /// Whether the options contain exactly `ro`.
    var isReadOnly: Bool {
        options.split(separator: ",").contains("ro")
    }
}

/// Parses a mount table (proc(5) `/proc/[pid]/mounts`): whitespace-separated fields, of which the
/// first four are device, mount point, type and options. A line with fewer is malformed.
func parseMounts(_ text: String, path: String = "mounts") throws(CollectorError) -> [MountEntry] {
    var entries: [MountEntry] = []
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        lineNumber += 1
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if fields.isEmpty { continue }
        guard fields.count >= 4 else {
            throw .malformed(path: path, reason: "line \(lineNumber): malformed mount point information \"\(line)\"")
        }
        entries.append(MountEntry(
            device: String(fields[0]), mountPoint: decodeMountPoint(fields[1]),
            fsType: String(fields[2]), options: String(fields[3])))
    }
    return entries
}

/// Decodes the fstab(5) octal escapes node_exporter decodes: `\040` (space) and `\011` (tab).
func decodeMountPoint(_ field: Substring) -> String {
    guard field.contains("\\") else { return String(field) }
    return String(field.replacing("\\040", with: " ").replacing("\\011", with: "\t"))
}

/// node_exporter's `rootfsStripPrefix`: the mount point as seen from the root filesystem `rootfs`.
func strippingRootfs(_ mountPoint: String, rootfs: String) -> String {
    guard !rootfs.isEmpty, rootfs != "/", mountPoint.hasPrefix(rootfs) else { return mountPoint }
    let stripped = String(mountPoint.dropFirst(rootfs.count))
    return stripped.isEmpty ? "/" : stripped
}

/// node_exporter's `filesystem` collector for Linux 1.5.0.
public struct FilesystemCollector: MetricCollector {
    /// The collector name, `filesystem`.
    public let name = "filesystem"
    /// Upstream node_exporter 1.5.0's default `--collector.filesystem.mount-points-exclude`
    /// (Debian's package patches in `run|mnt|media`).
    public static let defaultMountPointsExclude =
        "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
    /// Upstream node_exporter 1.5.0's default `--collector.filesystem.fs-types-exclude`.
    public static let defaultFSTypesExclude =
        "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$"

    /// The roots read under; mount points are statfs'd under `paths.rootfs`.
    public let paths: HostPaths
    private let mountPointFilter: NameFilter
    private let fsTypeFilter: NameFilter
    private(set) var statter: MountStatter

    /// Creates the collector. The patterns are regular expressions, compiled once. An invalid one
    /// does not crash: every `collect()` then throws ``CollectorError/malformed(path:reason:)``
    /// naming the setting; check patterns up front with ``validatePattern(_:)``.
    /// `mountTimeout` and `statWorkers` are node_exporter's hidden `mount-timeout` (5s) and
    /// `stat-workers` (4).
    public init(
        paths: HostPaths, mountPointsExclude: String, fsTypesExclude: String,
        mountTimeout: Duration = .seconds(5), statWorkers: Int = 4
    ) {
        self.paths = paths
        mountPointFilter = NameFilter(
            include: nil, exclude: mountPointsExclude, includeSetting: "",
            excludeSetting: "collector.filesystem.mount-points-exclude")
        fsTypeFilter = NameFilter(
            include: nil, exclude: fsTypesExclude, includeSetting: "",
            excludeSetting: "collector.filesystem.fs-types-exclude")
        statter = MountStatter(timeout: mountTimeout, workers: max(1, statWorkers))
    }

    /// The collector with a given statfs runner (tests use a fake one that hangs).
    init(paths: HostPaths, mountPointsExclude: String, fsTypesExclude: String, statter: MountStatter) {
        self.init(paths: paths, mountPointsExclude: mountPointsExclude, fsTypesExclude: fsTypesExclude)
        self.statter = statter
    }

    /// Throws ``InvalidPatternError`` when `pattern` is not a valid regular expression.
    public static func validatePattern(_ pattern: String) throws(InvalidPatternError) {
        _ = try NameFilter.compile(pattern, setting: "collector.filesystem pattern")
    }

    /// The mount points currently considered stuck (a statfs that outlived the timeout and has not
    /// returned yet); they are reported with device_error 1 and not statfs'd again until it does.
    public var stuckMountPoints: Set<String> { statter.stuckMountPoints }

    /// Reads the mount table and statfs'es every mount that passes the filters.
    public func collect() throws -> [MetricFamily] {
        try mountPointFilter.check()
        try fsTypeFilter.check()
        let tablePath: String
        let table: String
        if let text = try SourceFile.readIfPresent(paths.proc("1/mounts")) {
            (tablePath, table) = (paths.proc("1/mounts"), text)
        } else {
            tablePath = paths.proc("mounts")
            table = try SourceFile.read(tablePath)
        }
        var mounts: [MountEntry] = []
        for var entry in try parseMounts(table, path: tablePath) {
            entry.mountPoint = strippingRootfs(entry.mountPoint, rootfs: paths.rootfs)
            if mountPointFilter.ignores(entry.mountPoint) || fsTypeFilter.ignores(entry.fsType) { continue }
            mounts.append(entry)
        }
        let outcomes = statter.stat(mounts.map { (mountPoint: $0.mountPoint, path: paths.rootfs(String($0.mountPoint.dropFirst()))) })
        return FilesystemFamilies.build(mounts: mounts, outcomes: outcomes)
    }
}

/// The result of one statfs call.
enum StatfsOutcome: Equatable {
    case success(blocks: UInt64, blockSize: UInt64, free: UInt64, available: UInt64, files: UInt64, filesFree: UInt64)
    /// statfs failed with this errno.
    case failure(Int32)
    /// statfs did not return within the timeout, or the mount was already known stuck.
    case stuck
}

enum FilesystemFamilies {
    static func build(mounts: [MountEntry], outcomes: [StatfsOutcome]) -> [MetricFamily] {
        var size = MetricFamily(name: "node_filesystem_size_bytes", help: "Filesystem size in bytes.", type: .gauge)
        var free = MetricFamily(name: "node_filesystem_free_bytes", help: "Filesystem free space in bytes.", type: .gauge)
        var avail = MetricFamily(
            name: "node_filesystem_avail_bytes", help: "Filesystem space available to non-root users in bytes.", type: .gauge)
        var files = MetricFamily(name: "node_filesystem_files", help: "Filesystem total file nodes.", type: .gauge)
        var filesFree = MetricFamily(
            name: "node_filesystem_files_free", help: "Filesystem total free file nodes.", type: .gauge)
        var readOnly = MetricFamily(name: "node_filesystem_readonly", help: "Filesystem read-only status.", type: .gauge)
        var deviceError = MetricFamily(
            name: "node_filesystem_device_error",
            help: "Whether an error occurred while getting statistics for the given device.", type: .gauge)

        // The same device, mount point and type twice (a mount over a mount) is reported once,
        // the first one winning, as client_golang keeps the first of duplicate series.
        var seen = Set<[String]>()
        for (mount, outcome) in zip(mounts, outcomes) {
            guard seen.insert([mount.device, mount.fsType, mount.mountPoint]).inserted else { continue }
            let labels = [Label("device", mount.device), Label("fstype", mount.fsType), Label("mountpoint", mount.mountPoint)]
            guard case let .success(blocks, blockSize, freeBlocks, availableBlocks, fileCount, freeFiles) = outcome else {
                deviceError.samples.append(Sample(labels: labels, value: 1))
                continue
            }
            deviceError.samples.append(Sample(labels: labels, value: 0))
            let blockBytes = Double(blockSize)
            size.samples.append(Sample(labels: labels, value: Double(blocks) * blockBytes))
            free.samples.append(Sample(labels: labels, value: Double(freeBlocks) * blockBytes))
            avail.samples.append(Sample(labels: labels, value: Double(availableBlocks) * blockBytes))
            files.samples.append(Sample(labels: labels, value: Double(fileCount)))
            filesFree.samples.append(Sample(labels: labels, value: Double(freeFiles)))
            readOnly.samples.append(Sample(labels: labels, value: mount.isReadOnly ? 1 : 0))
        }
        return [avail, deviceError, files, filesFree, free, readOnly, size]
            .filter { !$0.samples.isEmpty }
            .map { $0.sortedLikeClientGolang() }
    }
}

/// Runs statfs(2) calls on dispatch threads, at most `workers` at once, and stops waiting for one
/// after `timeout` (counted from when it started). A mount that timed out is remembered as stuck
/// and skipped until its call finally returns — the thread stays blocked in the kernel meanwhile,
/// so the number of such threads is bounded by the number of stuck mounts. node_exporter's
/// `stuckMounts`/`mount-timeout`; unlike node_exporter, the scrape that meets the hang does not
/// wait for it either.
final class MountStatter: Sendable {
    private let timeout: Duration
    private let slots: DispatchSemaphore
    private let stuck = Mutex<Set<String>>([])
    private let statfsCall: @Sendable (String) -> StatfsOutcome

    /// `statfs` is replaceable so tests can simulate a mount that hangs.
    init(
        timeout: Duration, workers: Int,
        statfs: @escaping @Sendable (String) -> StatfsOutcome = MountStatter.systemStatfs
    ) {
        self.timeout = timeout
        slots = DispatchSemaphore(value: workers)
        statfsCall = statfs
    }

    var stuckMountPoints: Set<String> { stuck.withLock { $0 } }

    /// One statfs in flight.
    private final class Call: Sendable {
        struct State {
            var started: ContinuousClock.Instant?
            var outcome: StatfsOutcome?
            var abandoned = false
            var slotReleased = false
        }

        let mountPoint: String
        let path: String
        let state = Mutex(State())
        let done = DispatchSemaphore(value: 0)

        init(mountPoint: String, path: String) {
            self.mountPoint = mountPoint
            self.path = path
        }
    }

    /// statfs for each request, in request order.
    func stat(_ requests: [(mountPoint: String, path: String)]) -> [StatfsOutcome] {
        let stuckNow = stuck.withLock { $0 }
        var calls: [Call?] = []
        for request in requests {
            if stuckNow.contains(request.mountPoint) {
                calls.append(nil)
                continue
            }
            let call = Call(mountPoint: request.mountPoint, path: request.path)
            calls.append(call)
            DispatchQueue.global(qos: .utility).async { self.run(call) }
        }
        let clock = ContinuousClock()
        return calls.map { call in
            guard let call else { return .stuck }
            while true {
                let started = call.state.withLock { $0.started }
                let wait: DispatchTime
                if let started {
                    let remaining: Duration = started + timeout - clock.now
                    let nanoseconds = Int(max(0, remaining.seconds) * 1e9)
                    wait = DispatchTime.now() + .nanoseconds(nanoseconds)
                } else {
                    wait = .now() + .milliseconds(50)
                }
                if call.done.wait(timeout: wait) == .success {
                    return call.state.withLock { $0.outcome } ?? .stuck
                }
                if let started, clock.now - started >= timeout {
                    return abandon(call)
                }
            }
        }
    }

    private func run(_ call: Call) {
        slots.wait()
        call.state.withLock { $0.started = ContinuousClock().now }
        let outcome = statfsCall(call.path)
        let releaseSlot = call.state.withLock { state -> Bool in
            state.outcome = outcome
            if state.abandoned { stuck.withLock { _ = $0.remove(call.mountPoint) } }
            defer { state.slotReleased = true }
            return !state.slotReleased
        }
        if releaseSlot { slots.signal() }
        call.done.signal()
    }

    /// statfs(2) through glibc's statvfs(3), whose f_bsize is statfs' f_bsize, the unit
    /// node_exporter multiplies block counts by.
    static func systemStatfs(_ path: String) -> StatfsOutcome {
        var buffer = statvfs()
        guard statvfs(path, &buffer) == 0 else { return .failure(errno) }
        return .success(
            blocks: UInt64(buffer.f_blocks), blockSize: UInt64(buffer.f_bsize), free: UInt64(buffer.f_bfree),
            available: UInt64(buffer.f_bavail), files: UInt64(buffer.f_files), filesFree: UInt64(buffer.f_ffree))
    }

    /// Gives up on a call that outlived the timeout: marks its mount stuck and frees its slot.
    private func abandon(_ call: Call) -> StatfsOutcome {
        let (outcome, releaseSlot) = call.state.withLock { state -> (StatfsOutcome?, Bool) in
            if let outcome = state.outcome { return (outcome, false) }
            state.abandoned = true
            stuck.withLock { _ = $0.insert(call.mountPoint) }
            defer { state.slotReleased = true }
            return (nil, !state.slotReleased)
        }
        if releaseSlot { slots.signal() }
        return outcome ?? .stuck
    }
}
