// The `meminfo` collector: every field of /proc/meminfo.
//
// Reads: `<procfs>/meminfo`.
// Emits: `node_memory_<Field>_bytes` for each field with a `kB` unit (value × 1024) and
// `node_memory_<Field>` for unit-less fields such as `HugePages_Total`. A parenthesised part
// becomes `_part` (`Active(anon)` → `node_memory_Active_anon_bytes`). All are gauges, except a
// name ending in lower-case `_total`, which node_exporter 1.5.0 types as a counter. HELP is
// `Memory information field <Field>.` with the suffixed field name.

import Pipeline

/// One parsed line of /proc/meminfo: the metric-name part after `node_memory_`, and the value in
/// bytes (or the bare number when the line has no unit).
struct MeminfoField: Equatable, Sendable {
    var key: String
    var value: Double
}

/// Parses /proc/meminfo as node_exporter 1.5.0 does: `Key: value [unit]`, the key's last
/// character (the colon) dropped, `(x)` (outermost parentheses) turned into `_x`, a unit taken as
/// kB. Blank lines are skipped; a later duplicate key replaces the earlier one. Fields come back
/// sorted by key.
func parseMeminfo(_ text: String, path: String = "/proc/meminfo") throws(CollectorError) -> [MeminfoField] {
    var fields: [String: Double] = [:]
    for line in ProcText.lines(text) {
        let parts = ProcText.fields(line)
        if parts.isEmpty { continue }
        guard parts.count == 2 || parts.count == 3 else {
            throw .malformed(path: path, reason: "line \"\(line.prefix(200))\" is not \"Key: value [kB]\"")
        }
        guard var value = Double(parts[1]) else {
            throw .malformed(path: path, reason: "value \"\(parts[1].prefix(200))\" of \(parts[0]) is not a number")
        }
        var key = meminfoKey(parts[0].dropLast())
        if parts.count == 3 {
            value *= 1024
            key += "_bytes"
        }
        guard isMetricNameTail(key) else {
            throw .malformed(path: path, reason: "field \"\(parts[0].prefix(200))\" does not make a metric name")
        }
        fields[key] = value
    }
    return fields.map { MeminfoField(key: $0.key, value: $0.value) }.sorted { $0.key < $1.key }
}

/// `Active(anon)` → `Active_anon`: the regular expression `\((.*)\)` replaced by `_$1`, greedy,
/// so only the first `(` and the last `)` go.
private func meminfoKey(_ raw: Substring) -> String {
    guard let open = raw.firstIndex(of: "("), let close = raw.lastIndex(of: ")"), open < close else {
        return String(raw)
    }
    return String(raw[..<open]) + "_" + String(raw[raw.index(after: open)..<close])
        + String(raw[raw.index(after: close)...])
}

/// Whether `node_memory_` + `tail` is a valid metric name (node_exporter would panic otherwise).
private func isMetricNameTail(_ tail: String) -> Bool {
    !tail.isEmpty && tail.utf8.allSatisfy { byte in
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }
}

/// One family per meminfo field.
func meminfoFamilies(_ fields: [MeminfoField]) -> [MetricFamily] {
    fields.map { field in
        .single(
            "node_memory_" + field.key, help: "Memory information field \(field.key).",
            type: field.key.hasSuffix("_total") ? .counter : .gauge, value: field.value)
    }
}

/// node_exporter's `meminfo` collector: one family per /proc/meminfo field.
public struct MeminfoCollector: MetricCollector {
    /// The collector's name, as in `--collector.meminfo`.
    public let name = "meminfo"
    /// The roots read under.
    public let paths: HostPaths

    /// Creates the collector.
    public init(paths: HostPaths) {
        self.paths = paths
    }

    /// Reads /proc/meminfo.
    public func collect() throws(CollectorError) -> [MetricFamily] {
        let path = paths.proc("meminfo")
        return meminfoFamilies(try parseMeminfo(try SourceFile.read(path), path: path))
    }
}
