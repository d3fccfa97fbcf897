import MetricModel

/// The settings host collectors are built from: the roots they read under and the options
/// node_exporter exposes as `--collector.NAME.OPTION` flags.
package struct HostCollectorSettings: Sendable, Equatable {
    /// procfs, sysfs and rootfs roots.
    package var paths = HostPaths()
    /// `--path.udev.data`: udev's device database, read for `node_disk_info` and friends.
    package var udevData = "/run/udev/data"
    /// `--collector.cpu.guest`: also report `node_cpu_guest_seconds_total`.
    package var cpuGuest = true
    /// `--collector.textfile.directory`: directories whose `*.prom` files are merged in.
    package var textfileDirectories: [String] = []
    /// `--collector.filesystem.mount-points-exclude`.
    var filesystemMountPointsExclude = FilesystemCollector.defaultMountPointsExclude
    /// `--collector.filesystem.fs-types-exclude`.
    var filesystemFSTypesExclude = FilesystemCollector.defaultFSTypesExclude
    /// `--collector.diskstats.device-exclude`.
    var diskstatsDeviceExclude = DiskstatsCollector.defaultDeviceExclude
    /// `--collector.netdev.device-include`; mutually exclusive with the exclude pattern.
    package var netdevDeviceInclude: String? = nil
    /// `--collector.netdev.device-exclude`; mutually exclusive with the include pattern.
    package var netdevDeviceExclude: String? = nil
    /// `--collector.microvm.state-dir`: microvm.nix's state directory (not under `--path.rootfs`).
    package var microvmStateDirectory = MicroVMCollector.defaultStateDirectory
    /// `--collector.microvm.socket-timeout`: how long a scrape waits for the hypervisors' control
    /// sockets, all of them together.
    package var microvmSocketTimeout = MicroVMCollector.defaultSocketTimeout
    /// `--[no-]collector.microvm.netlink`: whether the VMs' interface counters come from an
    /// rtnetlink dump; nil for the default, ``microvmInterfaceCounters``.
    package var microvmNetlink: Bool? = nil

    /// Where the microvm collector reads the VMs' interface counters: as `microvmNetlink` says,
    /// else from an rtnetlink dump when `--path.sysfs` is this process's own `/sys`, and from that
    /// sysfs when it points elsewhere (a host's sysfs mounted into a container of another network
    /// namespace, or a fixture tree), where the dump would not see the VMs' taps.
    package var microvmInterfaceCounters: InterfaceCounterSource {
        (microvmNetlink ?? (paths.sysfs == "/sys")) ? .netlink : .sysfs
    }

    /// Settings with node_exporter's defaults.
    package init() {}
}

/// One option of a collector: `--collector.NAME.OPTION` on the command line and
/// `collector: {NAME: {OPTION: …}}` in the configuration file. Each is declared once, in its
/// collector's file, beside the collector: the configuration file and `check-config` read options
/// through ``HostCollectors/catalog``, and `lookout serve`'s flags (which ArgumentParser needs
/// spelled out) take their help from here and store their values through ``set``.
package struct CollectorOption: Sendable {
    /// What the option takes.
    package enum Kind: Sendable, Equatable {
        /// On or off: `--[no-]collector.NAME.OPTION`, `true`/`false` in YAML.
        case boolean
        /// One text.
        case text
        /// Texts: a repeatable flag, a list (or one text) in YAML.
        case texts
        /// A regular expression, checked when it is read.
        case pattern
        /// A duration like `500ms` or `2s`.
        case duration
    }

    /// A value read for an option, of its kind (a pattern is a `.text`).
    package enum Value: Sendable, Equatable {
        /// On or off.
        case boolean(Bool)
        /// One text, or a pattern.
        case text(String)
        /// Texts.
        case texts([String])
        /// A duration.
        case duration(Duration)
    }

    /// The name after `--collector.NAME.`, e.g. `guest`.
    package let name: String
    /// What it takes.
    package let kind: Kind
    /// One line for help texts.
    package let help: String
    /// Stores a value of this option's kind in the settings.
    package let set: @Sendable (inout HostCollectorSettings, Value) -> Void

    /// An option; `set` gets values of `kind` only.
    package init(_ name: String, _ kind: Kind, help: String, set: @escaping @Sendable (inout HostCollectorSettings, Value) -> Void) {
        self.name = name
        self.kind = kind
        self.help = help
        self.set = set
    }
}

extension CollectorOption.Value {
    /// The value of a `.boolean` option.
    package var boolean: Bool { if case .boolean(let value) = self { value } else { preconditionFailure("not a boolean: \(self)") } }
    /// The value of a `.text` or `.pattern` option.
    package var text: String { if case .text(let value) = self { value } else { preconditionFailure("not a text: \(self)") } }
    /// The value of a `.texts` option.
    package var texts: [String] { if case .texts(let value) = self { value } else { preconditionFailure("not texts: \(self)") } }
    /// The value of a `.duration` option.
    package var duration: Duration { if case .duration(let value) = self { value } else { preconditionFailure("not a duration: \(self)") } }
}

/// One host collector Lookout knows: its flag name, whether it runs without being asked for,
/// its options, and how to build it. Each collector's file declares its own (`spec`).
package struct HostCollectorSpec: Sendable {
    /// The name used in `--collector.NAME` and in the `collector` label.
    package let name: String
    /// Whether it runs unless `--no-collector.NAME` or `--collector.disable-defaults` is given.
    package let enabledByDefault: Bool
    /// Whether it reads procfs, so that an unreadable `--path.procfs` stops the start.
    package let readsProcfs: Bool
    /// Its `--collector.NAME.OPTION` options.
    package let options: [CollectorOption]
    /// Builds the collector from the settings and the counters its recoverable errors go to;
    /// throws when a setting (e.g. a regular expression) is invalid.
    package let make: @Sendable (HostCollectorSettings, ComponentErrors) throws -> any MetricCollector

    /// A collector's entry.
    package init(name: String, enabledByDefault: Bool = true, readsProcfs: Bool, options: [CollectorOption] = [],
                make: @escaping @Sendable (HostCollectorSettings, ComponentErrors) throws -> any MetricCollector) {
        self.name = name
        self.enabledByDefault = enabledByDefault
        self.readsProcfs = readsProcfs
        self.options = options
        self.make = make
    }

    /// The option called `name`, if the collector has one.
    package func option(named name: String) -> CollectorOption? {
        options.first { $0.name == name }
    }
}

/// Every host collector, in the order they are registered. Adding a collector means adding its
/// file (with its `spec`), one line here, and its `--collector.NAME` switch (and a flag per
/// option) in `lookout serve`'s flags, which CollectorFlagsTests checks against this catalog.
package enum HostCollectors {
    /// The catalog of host collectors.
    package static let catalog: [HostCollectorSpec] = [
        CPUCollector.spec, DiskstatsCollector.spec, FilefdCollector.spec, FilesystemCollector.spec, LoadavgCollector.spec,
        MeminfoCollector.spec, MicroVMCollector.spec, NetdevCollector.spec, OSCollector.spec, PressureCollector.spec,
        StatCollector.spec, TextfileCollector.spec, TimeCollector.spec, UnameCollector.spec,
    ]

    /// The names of every known host collector, sorted.
    package static var names: [String] { catalog.map(\.name).sorted() }

    /// The collector called `name`, if there is one.
    package static func spec(named name: String) -> HostCollectorSpec? {
        catalog.first { $0.name == name }
    }
}
