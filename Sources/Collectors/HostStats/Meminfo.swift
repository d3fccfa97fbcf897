// The `meminfo` collector: every field of /proc/meminfo.
//
// Reads: `<procfs>/meminfo`.
// Emits: `node_memory_<Field>_bytes` for each field with a `kB` unit (value × 1024) and
// `node_memory_<Field>` for unit-less fields such as `HugePages_Total`. A parenthesised part
// becomes `_part` (`Active(anon)` → `node_memory_Active_anon_bytes`). All are gauges, except a
// name ending in lower-case `_total`, which node_exporter 1.5.0 types as a counter. HELP is
// `Memory information field <Field>.` with the suffixed field name.

import MetricModel
import Synchronization

/// One parsed line of /proc/meminfo: the metric-name part after `node_memory_`, and the value in
/// bytes (or the bare number when the line has no unit).
struct MeminfoField: Equatable, Sendable {
    var key: String
    var value: Double
}

/// Parses /proc/meminfo as node_exporter 1.5.0 does: `Key: value [unit]`, the key's last
/// character (the colon) dropped, `(x)` (outermost parentheses) turned into `_x`, a unit taken as
/// kB. Blank lines are skipped; a later duplicate key replaces the earlier one's value. Fields come
/// back in file order (the registry sorts families by name).
func parseMeminfo(_ text: String, path: String = "/proc/meminfo") throws(CollectorError) -> [MeminfoField] {
    var fields: [MeminfoField] = []
    var positions: [String: Int] = [:]
    fields.reserveCapacity(64)
    positions.reserveCapacity(64)
    var failure: CollectorError?
    var text = text
    // Byte offsets over the contiguous UTF-8, with no array per line: this file is read on every
    // scrape and has some sixty lines.
    text.withUTF8 { bytes in
        var lineStart = 0
        while lineStart < bytes.count, failure == nil {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var parts = (0..<0, 0..<0, 0..<0)
            var count = 0
            var index = lineStart
            while index < lineEnd {
                while index < lineEnd, ProcText.isSpace(bytes[index]) { index += 1 }
                if index == lineEnd { break }
                var end = index
                while end < lineEnd, !ProcText.isSpace(bytes[end]) { end += 1 }
                switch count {
                case 0: parts.0 = index..<end
                case 1: parts.1 = index..<end
                case 2: parts.2 = index..<end
                default: break
                }
                count += 1
                index = end
            }
            if count == 0 { continue }
            func text(_ range: Range<Int>) -> String {
                ProcText.string(bytes, range.prefix(200))
            }
            guard count == 2 || count == 3 else {
                failure = .malformed(path: path, reason: "line \"\(text(lineStart..<lineEnd))\" is not \"Key: value [kB]\"")
                return
            }
            guard var value = ProcText.number(bytes, parts.1) else {
                failure = .malformed(path: path, reason: "value \"\(text(parts.1))\" of \(text(parts.0)) is not a number")
                return
            }
            var key = meminfoKey(ProcText.string(bytes, parts.0.dropLast()))
            if count == 3 {
                value *= 1024
                key += "_bytes"
            }
            guard isMetricNameTail(key) else {
                failure = .malformed(path: path, reason: "field \"\(text(parts.0))\" does not make a metric name")
                return
            }
            if let position = positions[key] {
                fields[position].value = value
            } else {
                positions[key] = fields.count
                fields.append(MeminfoField(key: key, value: value))
            }
        }
    }
    if let failure { throw failure }
    return fields
}

/// `Active(anon)` → `Active_anon`: the regular expression `\((.*)\)` replaced by `_$1`, greedy,
/// so only the first `(` and the last `)` go.
private func meminfoKey(_ raw: String) -> String {
    let bytes = raw.utf8
    guard let open = bytes.firstIndex(of: UInt8(ascii: "(")), let close = bytes.lastIndex(of: UInt8(ascii: ")")),
          open < close else { return String(raw) }
    return String(Substring(bytes[..<open])) + "_" + String(Substring(bytes[bytes.index(after: open)..<close]))
        + String(Substring(bytes[bytes.index(after: close)...]))
}

/// Whether `node_memory_` + `tail` is a valid metric name (node_exporter would panic otherwise).
private func isMetricNameTail(_ tail: String) -> Bool {
    !tail.isEmpty && tail.utf8.allSatisfy { byte in
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }
}

/// One family per meminfo field, its name, HELP and type from `texts`.
func meminfoFamilies(_ fields: [MeminfoField], texts: MeminfoTexts = MeminfoTexts()) -> [MetricFamily] {
    let known = texts.forKeys(fields.map(\.key))
    return zip(fields, known).map { field, text in
        MetricFamily(name: text.name, help: text.help, type: text.type, samples: [Sample(value: field.value)])
    }
}

/// The family name, HELP and type of each meminfo key, made the first time the key is read: the
/// kernel's set of fields does not change while it runs, so only the values are new on each
/// scrape (building two strings per field per scrape showed in profiles).
final class MeminfoTexts: Sendable {
    /// What a key's family is called and how it is typed.
    struct Text: Sendable {
        var name: String
        var help: String
        var type: MetricType
    }

    private let known = Mutex<[String: Text]>([:])

    /// An empty cache.
    init() {}

    /// The texts of `keys`, in order, made for the keys not seen before.
    func forKeys(_ keys: [String]) -> [Text] {
        known.withLock { known in
            keys.map { key in
                if let text = known[key] { return text }
                let text = Text(name: "node_memory_" + key, help: "Memory information field \(key).",
                                type: key.hasSuffix("_total") ? .counter : .gauge)
                // Bounded by the kernel's fields; a file that changes its keys cannot grow it far.
                if known.count < 1024 { known[key] = text }
                return text
            }
        }
    }
}

/// node_exporter's `meminfo` collector: one family per /proc/meminfo field.
struct MeminfoCollector: MetricCollector {
    /// The collector's name, as in `--collector.meminfo`.
    package let name = "meminfo"
    /// The roots read under.
    package let paths: HostPaths
    private let texts = MeminfoTexts()

    /// Creates the collector.
    package init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads /proc/meminfo.
    package func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("meminfo")
        return meminfoFamilies(try parseMeminfo(try SourceFile.read(path), path: path), texts: texts)
    }
}

extension MeminfoCollector {
    /// The `meminfo` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(name: "meminfo", readsProcfs: true) { settings, _ in
        MeminfoCollector(paths: settings.paths)
    }
}
