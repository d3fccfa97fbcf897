/// The roots host collectors read under, node_exporter's `--path.procfs`, `--path.sysfs` and
/// `--path.rootfs`. Tests point them at `Tests/Fixtures`; a container points them at the host.
package struct HostPaths: Sendable, Equatable {
    /// Where procfs is mounted, `/proc` by default.
    package var procfs: String { didSet { procfs = HostPaths.normalized(procfs) } }
    /// Where sysfs is mounted, `/sys` by default.
    package var sysfs: String { didSet { sysfs = HostPaths.normalized(sysfs) } }
    /// Where the host's root filesystem is, `/` by default.
    package var rootfs: String { didSet { rootfs = HostPaths.normalized(rootfs) } }

    /// Creates a set of roots; trailing slashes are removed so paths join cleanly.
    package init(procfs: String = "/proc", sysfs: String = "/sys", rootfs: String = "/") {
        self.procfs = HostPaths.normalized(procfs)
        self.sysfs = HostPaths.normalized(sysfs)
        self.rootfs = HostPaths.normalized(rootfs)
    }

    /// `relative` under procfs, e.g. `proc("meminfo")` → `/proc/meminfo`.
    package func proc(_ relative: String) -> String { HostPaths.join(procfs, relative) }

    /// `relative` under sysfs, e.g. `sys("block")` → `/sys/block`.
    package func sys(_ relative: String) -> String { HostPaths.join(sysfs, relative) }

    /// `relative` under the root filesystem, e.g. `rootfs("etc/os-release")` → `/etc/os-release`.
    package func rootfs(_ relative: String) -> String { HostPaths.join(rootfs, relative) }

    private static func join(_ root: String, _ relative: String) -> String {
        let relative = relative.hasPrefix("/") ? String(relative.dropFirst()) : relative
        return root == "/" ? "/" + relative : root + "/" + relative
    }

    private static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path.isEmpty ? "/" : path
    }
}
