import Pipeline

/// The settings host collectors are built from: the roots they read under and the options
/// node_exporter exposes as `--collector.NAME.OPTION` flags.
public struct HostCollectorSettings: Sendable, Equatable {
    /// procfs, sysfs and rootfs roots.
    public var paths = HostPaths()
    /// `--path.udev.data`: udev's device database, read for `node_disk_info` and friends.
    public var udevData = "/run/udev/data"
    /// `--collector.cpu.guest`: also report `node_cpu_guest_seconds_total`.
    public var cpuGuest = true
    /// `--collector.textfile.directory`: directories whose `*.prom` files are merged in.
    public var textfileDirectories: [String] = []
    /// `--collector.filesystem.mount-points-exclude`.
    public var filesystemMountPointsExclude = FilesystemCollector.defaultMountPointsExclude
    /// `--collector.filesystem.fs-types-exclude`.
    public var filesystemFSTypesExclude = FilesystemCollector.defaultFSTypesExclude
    /// `--collector.diskstats.device-exclude`.
    public var diskstatsDeviceExclude = DiskstatsCollector.defaultDeviceExclude
    /// `--collector.netdev.device-include`; mutually exclusive with the exclude pattern.
    public var netdevDeviceInclude: String? = nil
    /// `--collector.netdev.device-exclude`; mutually exclusive with the include pattern.
    public var netdevDeviceExclude: String? = nil

    /// Settings with node_exporter's defaults.
    public init() {}
}

/// One host collector Lookout knows: its flag name, whether it runs without being asked for,
/// and how to build it.
public struct HostCollectorSpec: Sendable {
    /// The name used in `--collector.NAME` and in the `collector` label.
    public let name: String
    /// Whether it runs unless `--no-collector.NAME` or `--collector.disable-defaults` is given.
    public let enabledByDefault: Bool
    /// One line for `--help`.
    public let summary: String
    /// Builds the collector; throws when a setting (e.g. a regular expression) is invalid.
    public let make: @Sendable (HostCollectorSettings) throws -> any MetricCollector
}

/// Every host collector, in the order they are registered. Adding a collector means adding its
/// file under `HostStats/` and one line here.
public enum HostCollectors {
    /// The catalog of host collectors.
    public static let catalog: [HostCollectorSpec] = [
        HostCollectorSpec(name: "cpu", enabledByDefault: true, summary: "CPU time per mode (/proc/stat)") {
            CPUCollector(paths: $0.paths, guest: $0.cpuGuest)
        },
        HostCollectorSpec(name: "diskstats", enabledByDefault: true, summary: "Block device I/O (/proc/diskstats)") {
            try DiskstatsCollector.validatePattern($0.diskstatsDeviceExclude)
            return DiskstatsCollector(paths: $0.paths, deviceExclude: $0.diskstatsDeviceExclude, udevData: $0.udevData)
        },
        HostCollectorSpec(name: "filefd", enabledByDefault: true, summary: "File descriptor use (/proc/sys/fs/file-nr)") {
            FilefdCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "filesystem", enabledByDefault: true, summary: "Filesystem space and inodes (statfs of mounts)") {
            try FilesystemCollector.validatePattern($0.filesystemMountPointsExclude)
            try FilesystemCollector.validatePattern($0.filesystemFSTypesExclude)
            return FilesystemCollector(
                paths: $0.paths, mountPointsExclude: $0.filesystemMountPointsExclude,
                fsTypesExclude: $0.filesystemFSTypesExclude)
        },
        HostCollectorSpec(name: "loadavg", enabledByDefault: true, summary: "Load average (/proc/loadavg)") {
            LoadavgCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "meminfo", enabledByDefault: true, summary: "Memory statistics (/proc/meminfo)") {
            MeminfoCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "netdev", enabledByDefault: true, summary: "Network interface counters (/proc/net/dev)") {
            try NetdevCollector.validate(deviceInclude: $0.netdevDeviceInclude, deviceExclude: $0.netdevDeviceExclude)
            return NetdevCollector(
                paths: $0.paths, deviceInclude: $0.netdevDeviceInclude, deviceExclude: $0.netdevDeviceExclude)
        },
        HostCollectorSpec(name: "os", enabledByDefault: true, summary: "OS release (/etc/os-release)") {
            OSCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "pressure", enabledByDefault: true, summary: "Pressure stall information (/proc/pressure)") {
            PressureCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "stat", enabledByDefault: true, summary: "Boot time, context switches, forks, processes (/proc/stat)") {
            StatCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "textfile", enabledByDefault: true, summary: "Metrics from *.prom files") {
            TextfileCollector(directories: $0.textfileDirectories)
        },
        HostCollectorSpec(name: "time", enabledByDefault: true, summary: "System time and clock source") {
            TimeCollector(paths: $0.paths)
        },
        HostCollectorSpec(name: "uname", enabledByDefault: true, summary: "Kernel identity (uname(2))") { _ in
            UnameCollector()
        },
    ]

    /// The names of every known host collector, sorted.
    public static var names: [String] { catalog.map(\.name).sorted() }
}
