#if canImport(Glibc)
import Glibc
#endif
import Pipeline
@testable import Collectors

/// The committed fixture tree `Tests/Fixtures`, laid out as node_exporter's flags expect:
/// `--path.procfs=Tests/Fixtures/proc --path.sysfs=Tests/Fixtures/sys --path.rootfs=Tests/Fixtures`
/// (so os-release is `Tests/Fixtures/etc/os-release`).
///
/// `Tests/Fixtures/node-exporter-1.5.0/<collector>.prom` is what Debian's node_exporter 1.5.0 served
/// for that tree with only `--collector.<collector>` enabled and `--web.disable-exporter-metrics`,
/// less the `node_scrape_collector_*` and `node_exporter_build_info` families. Setting
/// `LOOKOUT_UPDATE_GOLDEN=1` rewrites those files from Lookout's own output instead of comparing;
/// use it only after checking the difference against node_exporter again.
enum FixtureTree {
    /// The absolute path of `Tests/Fixtures`, found from this source file.
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    /// The roots node_exporter was pointed at for the golden files.
    static let paths = HostPaths(procfs: root + "/proc", sysfs: root + "/sys", rootfs: root)

    /// Text 0.0.4 exposition of `families`, sorted by name as both registries do.
    static func exposition(_ families: [MetricFamily]) -> String {
        let sorted = families.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return String(decoding: ExpositionEncoder(format: .text).encode(sorted), as: UTF8.self)
    }

    /// node_exporter's output for `collector` on this tree, or — with `LOOKOUT_UPDATE_GOLDEN=1` —
    /// `actual`, after writing it to the golden file.
    static func golden(_ collector: String, actual: String) throws -> String {
        let path = root + "/node-exporter-1.5.0/" + collector + ".prom"
        if getenv("LOOKOUT_UPDATE_GOLDEN") != nil {
            let file = fopen(path, "w")
            defer { fclose(file) }
            fputs(actual, file)
            return actual
        }
        return try SourceFile.read(path)
    }

    /// A scratch directory under /tmp holding `files` (relative path → content).
    static func scratch(_ files: [String: String]) -> String {
        var template = Array("/tmp/lookout-collectors-XXXXXX".utf8CString)
        let directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        for (relative, content) in files {
            let path = directory + "/" + relative
            var prefix = ""
            for component in path.split(separator: "/").dropLast() {
                prefix += "/" + component
                mkdir(prefix, 0o755)
            }
            write(content, to: path)
        }
        return directory
    }

    /// Replaces the file at `path` with `content`.
    static func write(_ content: String, to path: String) {
        let file = fopen(path, "w")
        fputs(content, file)
        fclose(file)
    }
}
