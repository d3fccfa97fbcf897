import LookoutSupport
import MetricModel

// Diskstats reads `/proc/diskstats` (Documentation/admin-guide/iostats.rst) and, per device, udev's
// database entry `<udev data>/b<major>:<minor>` (the `E:` property lines), as node_exporter 1.5.0's
// `diskstats_linux.go` does.
//
// Families (all labelled `device`; counters unless noted):
// node_disk_reads_completed_total, node_disk_reads_merged_total, node_disk_read_bytes_total,
// node_disk_read_time_seconds_total, node_disk_writes_completed_total, node_disk_writes_merged_total,
// node_disk_written_bytes_total, node_disk_write_time_seconds_total, node_disk_io_now (gauge),
// node_disk_io_time_seconds_total, node_disk_io_time_weighted_seconds_total — every kernel;
// node_disk_discards_completed_total, node_disk_discards_merged_total, node_disk_discarded_sectors_total,
// node_disk_discard_time_seconds_total — lines with 18+ fields (4.18+);
// node_disk_flush_requests_total, node_disk_flush_requests_time_seconds_total — 20 fields (5.5+);
// node_disk_info{device,major,minor,model,path,revision,serial,wwn} (gauge 1, udev labels "" if absent);
// node_disk_filesystem_info{device,type,usage,uuid,version} when udev has ID_FS_TYPE;
// node_disk_device_mapper_info{device,lv_layer,lv_name,name,uuid,vg_name} when udev has DM_NAME;
// node_disk_ata_write_cache, node_disk_ata_write_cache_enabled, node_disk_ata_rotation_rate_rpm
// (gauges) when udev has ID_ATA and the property parses as a number.

/// One line of `/proc/diskstats`: the device and its 11 to 17 statistics, in kernel order.
struct DiskstatsLine: Equatable {
    var major: UInt32
    var minor: UInt32
    var device: String
    /// reads, reads merged, sectors read, read ms, writes, writes merged, sectors written, write ms,
    /// I/Os in progress, I/O ms, weighted I/O ms [, discards, discards merged, sectors discarded,
    /// discard ms [, flushes, flush ms]].
    var stats: [UInt64]
}

/// Parses `/proc/diskstats` like procfs' `ProcDiskstats` (a `%d %d %s %d…` scan): lines with fewer
/// than 14 fields are skipped, fields past the 20th are ignored, and a field that is not an unsigned
/// integer (or overflows 64 bits) makes the whole file malformed, naming `path` and the line.
func parseDiskstats(_ text: String, path: String = "diskstats") throws(CollectorError) -> [DiskstatsLine] {
    var lines: [DiskstatsLine] = []
    // Fields past the 20th are never looked at.
    try ProcText.forEachLineFields(text, limit: 20) { bytes, fields, _, lineNumber throws(CollectorError) in
        if fields.isEmpty { return }
        func number<T: FixedWidthInteger>(_ index: Int, as: T.Type) throws(CollectorError) -> T {
            let field = UnsafeBufferPointer(rebasing: bytes[fields[index]])
            guard let value = parseDecimal(field, as: T.self) else {
                throw .malformed(
                    path: path,
                    reason: "line \(lineNumber): field \(index + 1) \"\(String(decoding: field, as: UTF8.self))\" is not an unsigned integer")
            }
            return value
        }
        // Numbers are checked before the length, as a sequential scan meets them.
        let major = try number(0, as: UInt32.self)
        let minor = fields.count > 1 ? try number(1, as: UInt32.self) : 0
        var stats: [UInt64] = []
        stats.reserveCapacity(17)
        if fields.count > 3 {
            for index in 3..<fields.count { stats.append(try number(index, as: UInt64.self)) }
        }
        guard fields.count >= 14 else { return }
        lines.append(DiskstatsLine(
            major: major, minor: minor, device: ProcText.string(bytes, fields[2]),
            stats: stats))
    }
    return lines
}

/// An unsigned decimal without sign or spaces; nil on anything else or on overflow.
func parseDecimal<T: FixedWidthInteger, Bytes: Collection<UInt8>>(_ bytes: Bytes, as: T.Type) -> T? {
    guard !bytes.isEmpty else { return nil }
    var value: T = 0
    for byte in bytes {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (sum, overflow2) = times10.addingReportingOverflow(T(byte - UInt8(ascii: "0")))
        if overflow1 || overflow2 { return nil }
        value = sum
    }
    return value
}

/// The `E:KEY=value` properties of one udev database file (udevadm(8)); other record types are
/// skipped and a later duplicate key wins. Lines end at `\n`, less one `\r` before it, as Go's
/// `bufio.ScanLines` in node_exporter reads them; split by byte, not by Character.
func parseUdevProperties(_ text: String) -> [String: String] {
    var properties: [String: String] = [:]
    for var line in text.utf8.split(separator: UInt8(ascii: "\n")) {
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard line.starts(with: "E:".utf8) else { continue }
        let body = line.dropFirst(2)
        guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else { continue }
        properties[String(Substring(body[..<equals]))] = String(Substring(body[body.index(after: equals)...]))
    }
    return properties
}

/// node_exporter's `diskstats` collector for Linux 1.5.0.
struct DiskstatsCollector: MetricCollector {
    /// The collector name, `diskstats`.
    package let name = "diskstats"
    /// node_exporter 1.5.0's default `--collector.diskstats.device-exclude`: partitions, RAM disks,
    /// loop and floppy devices. (zram is only excluded from 1.6.0 on.)
    static let defaultDeviceExclude = #"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$"#

    /// The roots read under.
    package let paths: HostPaths
    /// Where udev keeps its database, node_exporter's `--path.udev.data`.
    package let udevData: String
    private let filter: NameFilter

    /// Creates the collector. An invalid `deviceExclude` does not crash: every `collect()` then
    /// throws ``CollectorError/malformed(path:reason:)`` naming the setting; check it up front with
    /// ``validatePattern(_:)``.
    package init(paths: HostPaths, deviceExclude: String, udevData: String = "/run/udev/data") {
        self.paths = paths
        self.udevData = udevData
        filter = NameFilter(
            include: nil, exclude: deviceExclude,
            includeSetting: "collector.diskstats.device-include", excludeSetting: "collector.diskstats.device-exclude")
    }

    /// Throws ``InvalidPatternError`` when `pattern` is not a valid regular expression.
    static func validatePattern(_ pattern: String) throws(InvalidPatternError) {
        _ = try NameFilter.compile(pattern, setting: "collector.diskstats.device-exclude")
    }

    /// Reads `/proc/diskstats` and the udev entries of the devices not excluded.
    package func collect() throws -> [MetricFamily] {
        try filter.check()
        let path = paths.proc("diskstats")
        let lines = try parseDiskstats(SourceFile.read(path), path: path)
        var families = DiskstatsFamilies()
        for line in lines where !filter.ignores(line.device) {
            // A device without a udev entry (or no udev at all) still gets node_disk_info with
            // empty labels, as in node_exporter.
            let file = udevData + "/b\(line.major):\(line.minor)"
            let properties = (try? SourceFile.readIfPresent(file)).flatMap { $0 }.map(parseUdevProperties) ?? [:]
            families.add(line, udev: properties)
        }
        return families.all()
    }
}

/// Builds the diskstats families; node_exporter's names, help texts and value conversions.
struct DiskstatsFamilies {
    private static let secondsPerTick = 1.0 / 1000.0
    private static let sectorSize = 512.0

    /// Per statistic column: name, help, type and factor, in kernel column order.
    private static let columns: [(name: String, help: String, type: MetricType, factor: Double)] = [
        ("node_disk_reads_completed_total", "The total number of reads completed successfully.", .counter, 1),
        ("node_disk_reads_merged_total", "The total number of reads merged.", .counter, 1),
        ("node_disk_read_bytes_total", "The total number of bytes read successfully.", .counter, sectorSize),
        ("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", .counter, secondsPerTick),
        ("node_disk_writes_completed_total", "The total number of writes completed successfully.", .counter, 1),
        ("node_disk_writes_merged_total", "The number of writes merged.", .counter, 1),
        ("node_disk_written_bytes_total", "The total number of bytes written successfully.", .counter, sectorSize),
        ("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", .counter, secondsPerTick),
        ("node_disk_io_now", "The number of I/Os currently in progress.", .gauge, 1),
        ("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", .counter, secondsPerTick),
        ("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", .counter, secondsPerTick),
        ("node_disk_discards_completed_total", "The total number of discards completed successfully.", .counter, 1),
        ("node_disk_discards_merged_total", "The total number of discards merged.", .counter, 1),
        // node_exporter reports discarded sectors as sectors, not bytes.
        ("node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", .counter, 1),
        ("node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", .counter, secondsPerTick),
        ("node_disk_flush_requests_total", "The total number of flush requests completed successfully", .counter, 1),
        ("node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", .counter, secondsPerTick),
    ]

    private static let ataProperties: [(property: String, name: String, help: String)] = [
        ("ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache", "ATA disk has a write cache."),
        ("ID_ATA_WRITE_CACHE_ENABLED", "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."),
        ("ID_ATA_ROTATION_RATE_RPM", "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."),
    ]

    private var stats = DiskstatsFamilies.columns.map { MetricFamily(name: $0.name, help: $0.help, type: $0.type) }
    private var info = MetricFamily(name: "node_disk_info", help: "Info of /sys/block/<block_device>.", type: .gauge)
    private var filesystemInfo = MetricFamily(name: "node_disk_filesystem_info", help: "Info about disk filesystem.", type: .gauge)
    private var deviceMapperInfo = MetricFamily(
        name: "node_disk_device_mapper_info", help: "Info about disk device mapper.", type: .gauge)
    private var ata = DiskstatsFamilies.ataProperties.map { MetricFamily(name: $0.name, help: $0.help, type: .gauge) }

    mutating func add(_ line: DiskstatsLine, udev: [String: String]) {
        let device = Label("device", line.device)
        let deviceOnly = [device]
        // Labels are written sorted by name, as client_golang does.
        info.samples.append(Sample(labels: [
            device,
            Label("major", String(line.major)), Label("minor", String(line.minor)),
            Label("model", udev["ID_MODEL"] ?? ""), Label("path", udev["ID_PATH"] ?? ""),
            Label("revision", udev["ID_REVISION"] ?? ""), Label("serial", udev["ID_SERIAL_SHORT"] ?? ""),
            Label("wwn", udev["ID_WWN"] ?? ""),
        ], value: 1))
        for (index, raw) in line.stats.prefix(DiskstatsFamilies.columns.count).enumerated() {
            stats[index].samples.append(Sample(labels: deviceOnly, value: Double(raw) * DiskstatsFamilies.columns[index].factor))
        }
        if let type = udev["ID_FS_TYPE"], !type.isEmpty {
            filesystemInfo.samples.append(Sample(labels: [
                device, Label("type", type), Label("usage", udev["ID_FS_USAGE"] ?? ""),
                Label("uuid", udev["ID_FS_UUID"] ?? ""), Label("version", udev["ID_FS_VERSION"] ?? ""),
            ], value: 1))
        }
        if let name = udev["DM_NAME"], !name.isEmpty {
            deviceMapperInfo.samples.append(Sample(labels: [
                device, Label("lv_layer", udev["DM_LV_LAYER"] ?? ""), Label("lv_name", udev["DM_LV_NAME"] ?? ""),
                Label("name", name), Label("uuid", udev["DM_UUID"] ?? ""), Label("vg_name", udev["DM_VG_NAME"] ?? ""),
            ], value: 1))
        }
        if let flag = udev["ID_ATA"], !flag.isEmpty {
            for (index, property) in DiskstatsFamilies.ataProperties.enumerated() {
                // node_exporter skips (and logs) a value ParseFloat rejects.
                if let text = udev[property.property], let value = PrometheusFloat.parse(text) {
                    ata[index].samples.append(Sample(labels: deviceOnly, value: value))
                }
            }
        }
    }

    func all() -> [MetricFamily] {
        (stats + [info, filesystemInfo, deviceMapperInfo] + ata)
            .filter { !$0.samples.isEmpty }
            .map { $0.sortedLikeClientGolang() }
    }
}

extension DiskstatsCollector {
    /// The `diskstats` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(
        name: "diskstats", readsProcfs: true,
        options: [CollectorOption("device-exclude", .pattern, help: "Regexp of block devices to ignore.") { $0.diskstatsDeviceExclude = $1.text }]
    ) { settings, _ in
        try DiskstatsCollector.validatePattern(settings.diskstatsDeviceExclude)
        return DiskstatsCollector(paths: settings.paths, deviceExclude: settings.diskstatsDeviceExclude, udevData: settings.udevData)
    }
}
