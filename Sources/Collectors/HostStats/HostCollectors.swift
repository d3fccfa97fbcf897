import MetricModel

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
    /// `--collector.microvm.state-dir`: microvm.nix's state directory (not under `--path.rootfs`).
    public var microvmStateDirectory = MicroVMCollector.defaultStateDirectory
    /// `--collector.microvm.socket-timeout`: how long a scrape waits for the hypervisors' control
    /// sockets, all of them together.
    public var microvmSocketTimeout = MicroVMCollector.defaultSocketTimeout

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
    /// Whether it reads procfs, so that an unreadable `--path.procfs` stops the start.
    public let readsProcfs: Bool
    /// Builds the collector from the settings and the counters its recoverable errors go to;
    /// throws when a setting (e.g. a regular expression) is invalid.
    public let make: @Sendable (HostCollectorSettings, ComponentErrors) throws -> any MetricCollector
}

/// Every host collector, in the order they are registered. Adding a collector means adding its
/// file under `HostStats/` and one line here.
public enum HostCollectors {
    /// The catalog of host collectors.
    public static let catalog: [HostCollectorSpec] = [
        HostCollectorSpec(name: "cpu", enabledByDefault: true, readsProcfs: true) { settings, _ in
            CPUCollector(paths: settings.paths, guest: settings.cpuGuest)
        },
        HostCollectorSpec(name: "diskstats", enabledByDefault: true, readsProcfs: true) { settings, _ in
            try DiskstatsCollector.validatePattern(settings.diskstatsDeviceExclude)
            return DiskstatsCollector(paths: settings.paths, deviceExclude: settings.diskstatsDeviceExclude, udevData: settings.udevData)
        },
        HostCollectorSpec(name: "filefd", enabledByDefault: true, readsProcfs: true) { settings, _ in
            FilefdCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "filesystem", enabledByDefault: true, readsProcfs: true) { settings, _ in
            try FilesystemCollector.validatePattern(settings.filesystemMountPointsExclude)
            try FilesystemCollector.validatePattern(settings.filesystemFSTypesExclude)
            return FilesystemCollector(
                paths: settings.paths, mountPointsExclude: settings.filesystemMountPointsExclude,
                fsTypesExclude: settings.filesystemFSTypesExclude)
        },
        HostCollectorSpec(name: "loadavg", enabledByDefault: true, readsProcfs: true) { settings, _ in
            LoadavgCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "meminfo", enabledByDefault: true, readsProcfs: true) { settings, _ in
            MeminfoCollector(paths: settings.paths)
        },
        // On by default: on a host without microvm.nix it reports no data and costs one access(2).
        HostCollectorSpec(name: "microvm", enabledByDefault: true, readsProcfs: false) { settings, errors in
            MicroVMCollector(paths: settings.paths, stateDirectory: settings.microvmStateDirectory,
                             socketTimeout: settings.microvmSocketTimeout, componentErrors: errors)
        },
        HostCollectorSpec(name: "netdev", enabledByDefault: true, readsProcfs: true) { settings, _ in
            try NetdevCollector.validate(deviceInclude: settings.netdevDeviceInclude, deviceExclude: settings.netdevDeviceExclude)
            return NetdevCollector(
                paths: settings.paths, deviceInclude: settings.netdevDeviceInclude, deviceExclude: settings.netdevDeviceExclude)
        },
        HostCollectorSpec(name: "os", enabledByDefault: true, readsProcfs: false) { settings, _ in
            OSCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "pressure", enabledByDefault: true, readsProcfs: true) { settings, _ in
            PressureCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "stat", enabledByDefault: true, readsProcfs: true) { settings, _ in
            StatCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "textfile", enabledByDefault: true, readsProcfs: false) { settings, errors in
            TextfileCollector(directories: settings.textfileDirectories, componentErrors: errors)
        },
        HostCollectorSpec(name: "time", enabledByDefault: true, readsProcfs: false) { settings, _ in
            TimeCollector(paths: settings.paths)
        },
        HostCollectorSpec(name: "uname", enabledByDefault: true, readsProcfs: false) { _, _ in
            UnameCollector()
        },
    ]

    /// The names of every known host collector, sorted.
    public static var names: [String] { catalog.map(\.name).sorted() }
}
