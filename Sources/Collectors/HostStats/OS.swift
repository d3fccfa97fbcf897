// The `os` collector: the distribution's identity from os-release(5).
//
// Reads: `<rootfs>/etc/os-release`, or `<rootfs>/usr/lib/os-release` when the first is absent.
// Emits (gauges):
//   - `node_os_info{build_id,id,id_like,image_id,image_version,name,pretty_name,variant,variant_id,
//     version,version_codename,version_id}` = 1
//   - `node_os_version{id,id_like,name}` = the leading `major.minor` of VERSION_ID, when it is > 0
// Neither file → `CollectorError.noData`, as node_exporter reports ErrNoData. The parsed file is
// kept by path and modification time, as node_exporter keeps it.

#if canImport(Glibc)
import Glibc
#endif
import MetricModel
import Synchronization

/// Parses os-release text with the rules of hashicorp/go-envparse, which node_exporter 1.5.0 uses:
/// each line is trimmed; blank lines and lines starting with `#` are skipped; `KEY=VALUE` with an
/// optional `export ` before the key; in the value `"…"` allows the escapes `\"` `\\` `\n` `\t`,
/// `'…'` is literal, an unquoted `#` starts a comment, and a control character is an error.
/// A later key replaces an earlier one.
func parseOSRelease(_ text: String, path: String = "/etc/os-release") throws(CollectorError) -> [String: String] {
    var values: [String: String] = [:]
    var lineNumber = 0
    for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        let line = ProcText.trimmed(Substring(rawLine))
        if line.isEmpty || line.utf8.first == UInt8(ascii: "#") { continue }
        func fail(_ reason: String) -> CollectorError {
            .malformed(path: path, reason: "line \(lineNumber): \(reason)")
        }
        guard let equals = line.utf8.firstIndex(of: UInt8(ascii: "=")) else { throw fail("missing \"=\"") }
        var key = ProcText.trimmed(line[..<equals])
        if key.hasPrefix("export ") { key = key.dropFirst(7) }
        guard let first = key.utf8.first else { throw fail("empty key") }
        let letter = (first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z"))
            || (first >= UInt8(ascii: "a") && first <= UInt8(ascii: "z")) || first == UInt8(ascii: "_")
        guard letter else { throw fail("key must start with [A-Za-z_]") }
        values[String(key)] = try unquote(ProcText.trimmed(line[line.index(after: equals)...]), fail)
    }
    return values
}

/// The value part of one os-release line, with quotes and escapes resolved.
private func unquote(_ value: Substring, _ fail: (String) -> CollectorError) throws(CollectorError) -> String {
    enum Mode { case plain, double, single, escape }
    var mode = Mode.plain
    var bytes: [UInt8] = []
    bytes.reserveCapacity(value.utf8.count)
    // Where an unquoted value ends if a comment follows: after its last non-blank character.
    var significant = 0
    for byte in value.utf8 {
        if byte < 32 { throw fail("control character in value") }
        if byte > 127 {
            if mode == .escape { throw fail("multibyte character in an escape sequence") }
            bytes.append(byte)
            significant = bytes.count
            continue
        }
        switch mode {
        case .plain:
            switch byte {
            case UInt8(ascii: "\""): mode = .double
            case UInt8(ascii: "'"): mode = .single
            case UInt8(ascii: "#"): return String(decoding: bytes[..<significant], as: UTF8.self)
            case UInt8(ascii: " "): bytes.append(byte)
            default:
                bytes.append(byte)
                significant = bytes.count
            }
        case .double:
            switch byte {
            case UInt8(ascii: "\""): mode = .plain
            case UInt8(ascii: "\\"): mode = .escape
            default:
                bytes.append(byte)
                significant = bytes.count
            }
        case .escape:
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
            case UInt8(ascii: "n"): bytes.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): bytes.append(UInt8(ascii: "\t"))
            default: throw fail("invalid escape sequence \\\(Character(Unicode.Scalar(byte)))")
            }
            significant = bytes.count
            mode = .double
        case .single:
            if byte == UInt8(ascii: "'") {
                mode = .plain
            } else {
                bytes.append(byte)
                significant = bytes.count
            }
        }
    }
    switch mode {
    case .plain: return String(decoding: bytes, as: UTF8.self)
    case .double: throw fail("unmatched \"")
    case .single: throw fail("unmatched '")
    case .escape: throw fail("incomplete escape sequence")
    }
}

/// The leading `major[.minor]` of VERSION_ID as a number (node_exporter's `^[0-9]+\.?[0-9]*`),
/// or 0 when VERSION_ID does not start with a digit.
func osVersionNumber(_ versionID: String) -> Double {
    let bytes = versionID.utf8
    let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    var end = bytes.startIndex
    while end != bytes.endIndex, isDigit(bytes[end]) { end = bytes.index(after: end) }
    if end == bytes.startIndex { return 0 }
    if end != bytes.endIndex, bytes[end] == UInt8(ascii: ".") {
        end = bytes.index(after: end)
        while end != bytes.endIndex, isDigit(bytes[end]) { end = bytes.index(after: end) }
    }
    var number = String(Substring(bytes[bytes.startIndex..<end]))
    if number.hasSuffix(".") { number.removeLast() }
    return Double(number) ?? 0
}

/// The os families for parsed os-release values.
func osFamilies(_ release: [String: String]) -> [MetricFamily] {
    func value(_ key: String) -> String { release[key] ?? "" }
    var families = [MetricFamily(
        name: "node_os_info",
        help: "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, "
            + "name, pretty_name, variant, variant_id, version, version_codename, version_id.",
        type: .gauge,
        samples: [Sample(labels: [
            Label("build_id", value("BUILD_ID")), Label("id", value("ID")), Label("id_like", value("ID_LIKE")),
            Label("image_id", value("IMAGE_ID")), Label("image_version", value("IMAGE_VERSION")),
            Label("name", value("NAME")), Label("pretty_name", value("PRETTY_NAME")),
            Label("variant", value("VARIANT")), Label("variant_id", value("VARIANT_ID")),
            Label("version", value("VERSION")), Label("version_codename", value("VERSION_CODENAME")),
            Label("version_id", value("VERSION_ID")),
        ], value: 1)])]
    let version = osVersionNumber(value("VERSION_ID"))
    if version > 0 {
        families.append(MetricFamily(
            name: "node_os_version", help: "Metric containing the major.minor part of the OS version.",
            type: .gauge,
            samples: [Sample(labels: [
                Label("id", value("ID")), Label("id_like", value("ID_LIKE")), Label("name", value("NAME")),
            ], value: version)]))
    }
    return families
}

/// node_exporter's `os` collector.
struct OSCollector: MetricCollector {
    /// The collector's name, as in `--collector.os`.
    package let name = "os"
    /// The roots read under; os-release is looked up under `rootfs`.
    package let paths: HostPaths
    private let parsed = OSReleaseCache()

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads the first os-release file that exists; the file is parsed again only when its path
    /// or modification time changed since the last scrape, as node_exporter does
    /// (collector/os_release.go: it keeps the parsed file by name and mtime).
    package func collect() throws(CollectorError) -> [MetricFamily] {
        for relative in ["etc/os-release", "usr/lib/os-release"] {
            let path = paths.rootfs(relative)
            var status = stat()
            guard stat(path, &status) == 0 else {
                if errno == ENOENT { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            let modified = status.st_mtim
            if let families = parsed.families(path: path, modified: modified) { return families }
            guard let text = try SourceFile.readIfPresent(path) else { continue }
            let families = osFamilies(try parseOSRelease(text, path: path))
            parsed.keep(families, path: path, modified: modified)
            return families
        }
        throw .noData("neither \(paths.rootfs("etc/os-release")) nor \(paths.rootfs("usr/lib/os-release")) exists")
    }
}

/// The families of the os-release file last parsed, with its path and modification time: only a
/// file parsed without error is kept, so a broken one is read again on every scrape.
final class OSReleaseCache: Sendable {
    private struct Entry {
        var path: String
        var modified: timespec
        var families: [MetricFamily]
    }

    private let entry = Mutex<Entry?>(nil)

    /// The families kept for `path` if it still has modification time `modified`.
    func families(path: String, modified: timespec) -> [MetricFamily]? {
        entry.withLock { entry in
            guard let entry, entry.path == path, entry.modified.tv_sec == modified.tv_sec,
                  entry.modified.tv_nsec == modified.tv_nsec else { return nil }
            return entry.families
        }
    }

    /// Keeps `families`, parsed from `path` as it was at `modified`.
    func keep(_ families: [MetricFamily], path: String, modified: timespec) {
        entry.withLock { $0 = Entry(path: path, modified: modified, families: families) }
    }
}

extension OSCollector {
    /// The `os` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "os", readsProcfs: false) { settings, _ in
        OSCollector(paths: settings.paths)
    }
}
