/// The roots host collectors read under, node_exporter's `--path.procfs`, `--path.sysfs` and
/// `--path.rootfs`. Tests point them at `Tests/Fixtures`; a container points them at the host.
public struct HostPaths: Sendable, Equatable {
    /// Where procfs is mounted, `/proc` by default.
    public var procfs: String
    /// Where sysfs is mounted, `/sys` by default.
    public var sysfs: String
    /// Where the host's root filesystem is, `/` by default.
    public var rootfs: String

    /// Creates a set of roots; trailing slashes are removed so paths join cleanly.
    public init(procfs: String = "/proc", sysfs: String = "/sys", rootfs: String = "/") {
        self.procfs = HostPaths.trimmed(procfs)
        self.sysfs = HostPaths.trimmed(sysfs)
        self.rootfs = HostPaths.trimmed(rootfs)
    }

    /// `relative` under procfs, e.g. `proc("meminfo")` → `/proc/meminfo`.
    public func proc(_ relative: String) -> String { procfs + "/" + relative }

    /// `relative` under sysfs, e.g. `sys("block")` → `/sys/block`.
    public func sys(_ relative: String) -> String { sysfs + "/" + relative }

    /// `relative` under the root filesystem, e.g. `rootfs("etc/os-release")`.
    public func rootfs(_ relative: String) -> String {
        rootfs.isEmpty ? "/" + relative : rootfs + "/" + relative
    }

    private static func trimmed(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path == "/" ? "" : path
    }
}
