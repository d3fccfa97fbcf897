import MetricModel

// The `netdev` collector reads `/proc/net/dev` (proc(5)) as node_exporter 1.5.0 does with
// `--no-collector.netdev.netlink` (its default is netlink, which a fixture tree cannot stand in for).
//
// Families, counters labelled `device`, help "Network device statistic <key>.":
// node_network_receive_{bytes,packets,errs,drop,fifo,frame,compressed,multicast}_total and
// node_network_transmit_{bytes,packets,errs,drop,fifo,colls,carrier,compressed}_total.

/// One interface line of `/proc/net/dev`: the name and its 16 counters in column order.
struct NetDevLine: Equatable {
    var device: String
    var counters: [UInt64]
}

/// Parses `/proc/net/dev` like procfs' `NetDev`: the two header lines are skipped, the name is
/// everything before the line's last `:` (trimmed), and exactly 16 unsigned counters must follow.
/// A later line for the same name replaces an earlier one.
func parseNetDev(_ text: String, path: String = "net/dev") throws(CollectorError) -> [NetDevLine] {
    var result: [NetDevLine] = []
    var positions: [String: Int] = [:]
    var lineNumber = 0
    for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        if lineNumber <= 2 { continue }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
        guard let colon = line.lastIndex(of: UInt8(ascii: ":")) else {
            throw .malformed(path: path, reason: "line \(lineNumber): missing colon")
        }
        let device = String(decoding: trimmingBlanks(line[line.startIndex..<colon]), as: UTF8.self)
        guard !device.isEmpty else { throw .malformed(path: path, reason: "line \(lineNumber): empty interface name") }
        let fields = line[line.index(after: colon)...]
            .split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
        guard fields.count >= 16 else {
            throw .malformed(path: path, reason: "line \(lineNumber): \(fields.count) counters for \(device), expected 16")
        }
        var counters: [UInt64] = []
        counters.reserveCapacity(16)
        for field in fields.prefix(16) {
            guard let value = parseDecimal(field, as: UInt64.self) else {
                throw .malformed(
                    path: path,
                    reason: "line \(lineNumber): counter \"\(String(decoding: field, as: UTF8.self))\" of \(device) is not an unsigned integer")
            }
            counters.append(value)
        }
        if let existing = positions[device] {
            result[existing].counters = counters
        } else {
            positions[device] = result.count
            result.append(NetDevLine(device: device, counters: counters))
        }
    }
    return result
}

private func trimmingBlanks(_ bytes: Substring.UTF8View.SubSequence) -> Substring.UTF8View.SubSequence {
    var bytes = bytes
    while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { bytes = bytes.dropFirst() }
    while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { bytes = bytes.dropLast() }
    return bytes
}

/// node_exporter's `netdev` collector for Linux 1.5.0, reading procfs.
struct NetdevCollector: MetricCollector {
    /// The collector name, `netdev`.
    package let name = "netdev"

    /// node_exporter's names for the 16 columns (the non-"detailed" legacy names).
    static let keys = [
        "receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo", "receive_frame",
        "receive_compressed", "receive_multicast",
        "transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo", "transmit_colls",
        "transmit_carrier", "transmit_compressed",
    ]

    /// The roots read under.
    package let paths: HostPaths
    private let filter: NameFilter

    /// Creates the collector. `deviceInclude` and `deviceExclude` are regular expressions and are
    /// mutually exclusive; nil or empty means unset (Lookout's default: no exclude, unlike Debian's
    /// `^lo$`). A bad pattern or both set does not crash: every `collect()` then throws
    /// ``CollectorError/malformed(path:reason:)``; check up front with ``validate(deviceInclude:deviceExclude:)``.
    package init(paths: HostPaths, deviceInclude: String?, deviceExclude: String?) {
        self.paths = paths
        filter = NameFilter(
            include: deviceInclude, exclude: deviceExclude,
            includeSetting: "collector.netdev.device-include", excludeSetting: "collector.netdev.device-exclude")
    }

    /// Throws ``InvalidPatternError`` when a pattern does not compile or both are set.
    package static func validate(deviceInclude: String?, deviceExclude: String?) throws(InvalidPatternError) {
        let filter = NameFilter(
            include: deviceInclude, exclude: deviceExclude,
            includeSetting: "collector.netdev.device-include", excludeSetting: "collector.netdev.device-exclude")
        if let problem = filter.problem { throw problem }
    }

    /// Reads `/proc/net/dev`.
    package func collect() throws -> [MetricFamily] {
        try filter.check()
        let path = paths.proc("net/dev")
        let lines = try parseNetDev(SourceFile.read(path), path: path)
        return NetdevCollector.families(lines.filter { !filter.ignores($0.device) })
    }

    /// Each column's family name and HELP, made once.
    private static let familyTexts = keys.map { ("node_network_\($0)_total", "Network device statistic \($0).") }

    static func families(_ lines: [NetDevLine]) -> [MetricFamily] {
        // One sort of the devices and one label set per device serve all sixteen families (the
        // device is their only label, so each is in client_golang's order).
        let devices = lines.sorted { $0.device.utf8.lexicographicallyPrecedes($1.device.utf8) }
        let labels = devices.map { [Label("device", $0.device)] }
        return familyTexts.enumerated().map { index, texts in
            MetricFamily(name: texts.0, help: texts.1, type: .counter,
                         samples: devices.indices.map { Sample(labels: labels[$0], value: Double(devices[$0].counters[index])) })
        }.filter { !$0.samples.isEmpty }
    }
}

extension NetdevCollector {
    /// The `netdev` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(
        name: "netdev", readsProcfs: true,
        options: [
            CollectorOption("device-include", .pattern, help: "Regexp of network devices to include (exclusive with device-exclude).") {
                $0.netdevDeviceInclude = $1.text
            },
            CollectorOption("device-exclude", .pattern, help: "Regexp of network devices to exclude (exclusive with device-include).") {
                $0.netdevDeviceExclude = $1.text
            },
        ]
    ) { settings, _ in
        try NetdevCollector.validate(deviceInclude: settings.netdevDeviceInclude, deviceExclude: settings.netdevDeviceExclude)
        return NetdevCollector(paths: settings.paths, deviceInclude: settings.netdevDeviceInclude, deviceExclude: settings.netdevDeviceExclude)
    }
}
