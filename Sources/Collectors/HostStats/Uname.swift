// The `uname` collector: the kernel's identity.
//
// Reads: the uname(2) system call (no files).
// Emits: `node_uname_info{domainname,machine,nodename,release,sysname,version}` = 1 (gauge).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LookoutSupport
import MetricModel

/// The fields of `struct utsname`.
struct KernelIdentity: Equatable, Sendable {
    var sysname: String
    var nodename: String
    var release: String
    var version: String
    var machine: String
    var domainname: String
}

/// The `node_uname_info` family, labels in the alphabetical order node_exporter prints them.
func unameFamily(_ identity: KernelIdentity) -> MetricFamily {
    MetricFamily(
        name: "node_uname_info", help: "Labeled system information as provided by the uname system call.",
        type: .gauge,
        samples: [Sample(labels: [
            Label("domainname", identity.domainname), Label("machine", identity.machine),
            Label("nodename", identity.nodename), Label("release", identity.release),
            Label("sysname", identity.sysname), Label("version", identity.version),
        ], value: 1)])
}

/// node_exporter's `uname` collector.
struct UnameCollector: MetricCollector {
    /// The collector's name, as in `--collector.uname`.
    package let name = "uname"

    /// Creates the collector; uname(2) has no root path to point elsewhere.
    package init() {}

    /// Calls uname(2).
    package func collect() throws(CollectorError) -> [MetricFamily] {
        var names = utsname()
        guard uname(&names) == 0 else {
            throw .unreadable(path: "uname(2)", reason: TextFile.errnoText(errno))
        }
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { raw in
                let bytes = raw.prefix { $0 != 0 }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        #if canImport(Glibc)
        // Without _GNU_SOURCE glibc names the field `__domainname`.
        let domainname = text(names.__domainname)
        #else
        let domainname = "(none)"
        #endif
        return [unameFamily(KernelIdentity(
            sysname: text(names.sysname), nodename: text(names.nodename), release: text(names.release),
            version: text(names.version), machine: text(names.machine), domainname: domainname))]
    }
}

extension UnameCollector {
    /// The `uname` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "uname", readsProcfs: false) { _, _ in
        UnameCollector()
    }
}
