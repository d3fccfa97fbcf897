#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import MetricModel
import Synchronization

// The `filesystem` collector reads the mount table `/proc/1/mounts` (falling back to `/proc/mounts` when PID 1's is
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
        options.utf8.split(separator: UInt8(ascii: ",")).contains { $0.elementsEqual("ro".utf8) }
    }
}

/// Parses a mount table (proc(5) `/proc/[pid]/mounts`): whitespace-separated fields, of which the
/// first four are device, mount point, type and options. A line with fewer is malformed.
func parseMounts(_ text: String, path: String = "mounts") throws(CollectorError) -> [MountEntry] {
    var entries: [MountEntry] = []
    try ProcText.forEachLineFields(text, limit: 4) { bytes, fields, line, lineNumber throws(CollectorError) in
        func string(_ range: Range<Int>) -> String { ProcText.string(bytes, range) }
        if fields.isEmpty { return }
        guard fields.count >= 4 else {
            throw .malformed(path: path, reason: "line \(lineNumber): malformed mount point information \"\(string(line))\"")
        }
        entries.append(MountEntry(
            device: string(fields[0]), mountPoint: decodeMountPoint(Substring(string(fields[1]))), fsType: string(fields[2]),
            options: string(fields[3])))
    }
    return entries
}

/// Decodes the fstab(5) octal escapes node_exporter decodes: `\040` (space) and `\011` (tab).
func decodeMountPoint(_ field: Substring) -> String {
    guard field.utf8.contains(UInt8(ascii: "\\")) else { return String(field) }
    return String(field.replacing("\\040", with: " ").replacing("\\011", with: "\t"))
}

/// node_exporter's `rootfsStripPrefix`: the mount point as seen from the root filesystem `rootfs`.
func strippingRootfs(_ mountPoint: String, rootfs: String) -> String {
    guard !rootfs.isEmpty, rootfs != "/", mountPoint.hasPrefix(rootfs) else { return mountPoint }
    let stripped = String(mountPoint.dropFirst(rootfs.count))
    return stripped.isEmpty ? "/" : stripped
}

/// node_exporter's `filesystem` collector for Linux 1.5.0.
struct FilesystemCollector: MetricCollector {
    /// The collector name, `filesystem`.
    package let name = "filesystem"
    /// Upstream node_exporter 1.5.0's default `--collector.filesystem.mount-points-exclude`
    /// (Debian's package patches in `run|mnt|media`).
    static let defaultMountPointsExclude =
        "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
    /// Upstream node_exporter 1.5.0's default `--collector.filesystem.fs-types-exclude`.
    static let defaultFSTypesExclude =
        "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$"

    /// The roots read under; mount points are statfs'd under `paths.rootfs`.
    package let paths: HostPaths
    private let mountPointFilter: NameFilter
    private let fsTypeFilter: NameFilter
    private(set) var statter: MountStatter

    /// Creates the collector. The patterns are regular expressions, compiled once. An invalid one
    /// does not crash: every `collect()` then throws ``CollectorError/malformed(path:reason:)``
    /// naming the setting; check patterns up front with ``validatePattern(_:)``.
    /// `mountTimeout` and `statWorkers` are node_exporter's hidden `mount-timeout` (5s) and
    /// `stat-workers` (4).
    package init(
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
    static func validatePattern(_ pattern: String) throws(InvalidPatternError) {
        _ = try NameFilter.compile(pattern, setting: "collector.filesystem pattern")
    }

    /// The mount points currently considered stuck (a statfs that outlived the timeout and has not
    /// returned yet); they are reported with device_error 1 and not statfs'd again until it does.
    var stuckMountPoints: Set<String> { statter.stuckMountPoints }

    /// Reads the mount table and statfs'es every mount that passes the filters.
    package func collect() throws -> [MetricFamily] {
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
        // Local filesystems answer statfs from memory in microseconds, so they are asked on this
        // thread; only those that can hang on a peer go through the timed worker pool, which
        // costs a thread hand-off per scrape.
        var outcomes = [StatfsOutcome](repeating: .stuck, count: mounts.count)
        var remote: [Int] = []
        for (index, mount) in mounts.enumerated() {
            if Self.mayHang(fsType: mount.fsType) {
                remote.append(index)
            } else {
                outcomes[index] = statter.statDirectly(statfsPath(mount))
            }
        }
        if !remote.isEmpty {
            let remoteOutcomes = statter.stat(remote.map { (mountPoint: mounts[$0].mountPoint, path: statfsPath(mounts[$0])) })
            for (index, outcome) in zip(remote, remoteOutcomes) { outcomes[index] = outcome }
        }
        return FilesystemFamilies.build(mounts: mounts, outcomes: outcomes)
    }

    private func statfsPath(_ mount: MountEntry) -> String {
        paths.rootfs(String(mount.mountPoint.dropFirst()))
    }

    /// Filesystem types whose statfs waits on a server or a userspace daemon and so can hang:
    /// network filesystems, FUSE, and the 9p/virtiofs shares microVMs mount from their host.
    static func mayHang(fsType: String) -> Bool {
        fsType.hasPrefix("fuse") || networkFSTypes.contains(fsType)
    }

    private static let networkFSTypes: Set<String> = [
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "virtiofs", "afs", "lustre",
        "gfs2", "ocfs2", "davfs", "sshfs", "beegfs", "gpfs", "cvmfs",
    ]
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

/// Runs statfs(2) calls on at most `workers` dispatch threads, which take mounts from a shared
/// queue, and stops waiting for a call after `timeout` (counted from when it started). A mount
/// that timed out is remembered as stuck and skipped until its call finally returns; its thread
/// stays blocked in the kernel meanwhile and a fresh worker takes its place, so the number of
/// threads is bounded by `workers` plus the number of stuck mounts. This is node_exporter's
/// `stuckMounts` / `mount-timeout` / `stat-workers`; unlike node_exporter, the scrape that meets
/// the hang does not wait for it either.
final class MountStatter: Sendable {
    private let timeout: Duration
    private let workers: Int
    private let stuck = Mutex<Set<String>>([])
    private let statfsCall: @Sendable (String) -> StatfsOutcome

    /// `statfs` is replaceable so tests can simulate a mount that hangs.
    init(
        timeout: Duration, workers: Int,
        statfs: @escaping @Sendable (String) -> StatfsOutcome = MountStatter.systemStatfs
    ) {
        self.timeout = timeout
        self.workers = workers
        statfsCall = statfs
    }

    var stuckMountPoints: Set<String> { stuck.withLock { $0 } }

    /// statfs on the calling thread, without a timeout: for filesystems that cannot hang.
    func statDirectly(_ path: String) -> StatfsOutcome {
        statfsCall(path)
    }

    /// One scrape's calls: a queue the workers drain and the outcomes they fill in.
    private final class Batch: Sendable {
        struct State {
            var next = 0
            var started: [ContinuousClock.Instant?]
            var outcomes: [StatfsOutcome?]
            var abandoned: [Bool]
            var remaining: Int
        }

        let requests: [(mountPoint: String, path: String)]
        let state: Mutex<State>
        let finished = DispatchSemaphore(value: 0)

        init(_ requests: [(mountPoint: String, path: String)]) {
            self.requests = requests
            state = Mutex(State(
                started: Array(repeating: nil, count: requests.count),
                outcomes: Array(repeating: nil, count: requests.count),
                abandoned: Array(repeating: false, count: requests.count),
                remaining: requests.count))
        }
    }

    /// statfs for each request, in request order.
    func stat(_ requests: [(mountPoint: String, path: String)]) -> [StatfsOutcome] {
        let stuckNow = stuck.withLock { $0 }
        var positions: [Int] = []
        var pending: [(mountPoint: String, path: String)] = []
        for (index, request) in requests.enumerated() where !stuckNow.contains(request.mountPoint) {
            positions.append(index)
            pending.append(request)
        }
        var results = Array(repeating: StatfsOutcome.stuck, count: requests.count)
        guard !pending.isEmpty else { return results }

        let batch = Batch(pending)
        for _ in 0..<min(workers, pending.count) { startWorker(batch) }
        let clock = ContinuousClock()
        while true {
            // Sleep until the earliest running call would time out (or a short poll while none
            // has started yet), unless everything finishes first.
            let earliest = batch.state.withLock { state in
                state.started.indices
                    .filter { state.outcomes[$0] == nil && !state.abandoned[$0] }
                    .compactMap { state.started[$0] }
                    .min()
            }
            let wait: Duration = earliest.map { $0 + timeout - clock.now } ?? .milliseconds(50)
            let nanoseconds = Int(max(0, min(wait.seconds, 3600)) * 1e9)
            if batch.finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success { break }

            let now = clock.now
            let (replacements, done) = batch.state.withLock { state -> (Int, Bool) in
                var replacements = 0
                for index in state.started.indices {
                    guard let started = state.started[index], state.outcomes[index] == nil, !state.abandoned[index],
                          now - started >= timeout else { continue }
                    state.abandoned[index] = true
                    state.remaining -= 1
                    replacements += 1
                    stuck.withLock { _ = $0.insert(batch.requests[index].mountPoint) }
                }
                return (replacements, state.remaining == 0)
            }
            if done { break }
            for _ in 0..<replacements { startWorker(batch) }
        }
        let outcomes = batch.state.withLock { state in
            state.outcomes.indices.map { state.abandoned[$0] ? nil : state.outcomes[$0] }
        }
        for (position, outcome) in zip(positions, outcomes) { results[position] = outcome ?? .stuck }
        return results
    }

    /// A worker takes the next queued mount until the queue is empty, or until the waiter gave up
    /// on its call and started a replacement.
    private func startWorker(_ batch: Batch) {
        // A queue of its own targets libdispatch's overcommitting pool: a worker stuck in the
        // kernel must not take one of the few threads of the global concurrent pool, which the
        // registry runs collectors on.
        DispatchQueue(label: "lookout.filesystem.statfs").async {
            let clock = ContinuousClock()
            while true {
                let index: Int? = batch.state.withLock { state in
                    guard state.next < batch.requests.count else { return nil }
                    defer { state.next += 1 }
                    state.started[state.next] = clock.now
                    return state.next
                }
                guard let index else { return }
                let outcome = self.statfsCall(batch.requests[index].path)
                let (replaced, allDone) = batch.state.withLock { state -> (Bool, Bool) in
                    state.outcomes[index] = outcome
                    if state.abandoned[index] {
                        self.stuck.withLock { _ = $0.remove(batch.requests[index].mountPoint) }
                        return (true, false)
                    }
                    state.remaining -= 1
                    return (false, state.remaining == 0)
                }
                if allDone { batch.finished.signal() }
                if replaced { return }
            }
        }
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
}

extension FilesystemCollector {
    /// The `filesystem` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(
        name: "filesystem", readsProcfs: true,
        options: [
            CollectorOption("mount-points-exclude", .pattern, help: "Regexp of mount points to ignore.") { $0.filesystemMountPointsExclude = $1.text },
            CollectorOption("fs-types-exclude", .pattern, help: "Regexp of filesystem types to ignore.") { $0.filesystemFSTypesExclude = $1.text },
        ]
    ) { settings, _ in
        try FilesystemCollector.validatePattern(settings.filesystemMountPointsExclude)
        try FilesystemCollector.validatePattern(settings.filesystemFSTypesExclude)
        return FilesystemCollector(
            paths: settings.paths, mountPointsExclude: settings.filesystemMountPointsExclude, fsTypesExclude: settings.filesystemFSTypesExclude)
    }
}
