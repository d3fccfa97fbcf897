// The `filefd` collector: the kernel's file-handle counts.
//
// Reads: `<procfs>/sys/fs/file-nr` (three tab-separated numbers: allocated, free — always 0
// since Linux 2.6 — and maximum).
// Emits: `node_filefd_allocated`, `node_filefd_maximum` gauges.

import MetricModel

/// The allocated and maximum file handles of /proc/sys/fs/file-nr. Fields are separated by tabs
/// only, as node_exporter splits them.
func parseFileNr(_ text: String, path: String = "/proc/sys/fs/file-nr") throws(CollectorError) -> (allocated: Double, maximum: Double) {
    let parts = ProcText.trimmed(Substring(text)).split(separator: "\t", omittingEmptySubsequences: false)
    guard parts.count >= 3 else {
        throw .malformed(path: path, reason: "expected three tab-separated numbers, found \(parts.count)")
    }
    guard let allocated = Double(parts[0]), let maximum = Double(parts[2]) else {
        throw .malformed(path: path, reason: "\"\(parts[0].prefix(100))\" or \"\(parts[2].prefix(100))\" is not a number")
    }
    return (allocated, maximum)
}

/// node_exporter's `filefd` collector.
struct FilefdCollector: MetricCollector {
    /// The collector's name, as in `--collector.filefd`.
    package let name = "filefd"
    /// The roots read under.
    package let paths: HostPaths

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads /proc/sys/fs/file-nr.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("sys/fs/file-nr")
        let counts = try parseFileNr(try SourceFile.read(path), path: path)
        return [
            .single("node_filefd_allocated", help: "File descriptor statistics: allocated.", value: counts.allocated),
            .single("node_filefd_maximum", help: "File descriptor statistics: maximum.", value: counts.maximum),
        ]
    }
}

extension FilefdCollector {
    /// The `filefd` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "filefd", readsProcfs: true) { settings, _ in
        FilefdCollector(paths: settings.paths)
    }
}
