// The cgroup v2 interface files the microVM collector reads for a VM's unit (Linux
// Documentation/admin-guide/cgroup-v2.rst, "Interface Files" and "Format"):
//
// - flat keyed, `KEY VALUE` per line: `cpu.stat`, `memory.stat`, `memory.events`. Parsed by key,
//   never by position: the kernel adds keys, "new entries can show up in the middle".
// - single value: `memory.current`, `memory.peak`, `pids.current`; `memory.max` may be `max`.
// - nested keyed, `MAJ:MIN KEY=VALUE…` per line, in no order: `io.stat`.
// - PSI, `some|full avg10=… avg60=… avg300=… total=N`: `cpu.pressure`, `memory.pressure`,
//   `io.pressure` (the /proc/pressure format, parsed by ``parsePressure(_:path:)``).
//
// A file that does not exist means its controller is off for the cgroup: "no data" for its
// families, not an error.

import MetricModel

/// The keys a flat keyed file is read for, kept as bytes too, so that a line whose key is not
/// wanted costs neither a string nor a dictionary entry (memory.stat has some sixty lines, read
/// for every microVM on every scrape, and the collector reports twenty-one of them).
struct FlatKeys: Sendable {
    /// The keys.
    let names: [String]
    private let bytes: [[UInt8]]

    /// Keys `names`.
    init(_ names: [String]) {
        self.names = names
        bytes = names.map { Array($0.utf8) }
    }

    /// The position in ``names`` of the key spelled by `key`, if it is one.
    func position(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        bytes.firstIndex { $0.count == key.count && $0.elementsEqual(key) }
    }
}

/// Parses a flat keyed file: every line `KEY VALUE` with an unsigned integer value.
func parseFlatKeyed(_ text: String, path: String) throws(CollectorError) -> [String: UInt64] {
    try parseFlatKeyed(text, path: path, keeping: nil)
}

/// Parses a flat keyed file, keeping only `keys` (every key when nil); every line is still checked.
func parseFlatKeyed(_ text: String, path: String, keeping keys: FlatKeys?) throws(CollectorError) -> [String: UInt64] {
    var values: [String: UInt64] = [:]
    values.reserveCapacity(keys?.names.count ?? 64)
    // Three fields at most: a third makes the line malformed.
    try ProcText.forEachLineFields(text, limit: 3, separatedBy: ProcText.isSpace) { bytes, fields, line, _ throws(CollectorError) in
        if fields.isEmpty { return }
        guard fields.count == 2, let value = parseDecimal(bytes[fields[1]], as: UInt64.self) else {
            let shown = ProcText.string(bytes, line.prefix(200))
            throw .malformed(path: path, reason: "line \"\(shown)\" is not \"KEY VALUE\"")
        }
        let key = UnsafeBufferPointer(rebasing: bytes[fields[0]])
        if let keys {
            if let wanted = keys.position(of: key) { values[keys.names[wanted]] = value }
        } else {
            values[String(decoding: key, as: UTF8.self)] = value
        }
    }
    return values
}

/// Parses a single-value file holding an unsigned integer.
func parseSingleValue(_ text: String, path: String) throws(CollectorError) -> UInt64 {
    let trimmed = ProcText.trimmed(Substring(text))
    guard let value = UInt64(trimmed) else {
        throw .malformed(path: path, reason: "\"\(trimmed.prefix(200))\" is not a number")
    }
    return value
}

/// A limit such as `memory.max`: a number of bytes, or nil for `max` (no limit).
func parseLimit(_ text: String, path: String) throws(CollectorError) -> UInt64? {
    if ProcText.trimmed(Substring(text)) == "max" { return nil }
    return try parseSingleValue(text, path: path)
}

/// One device's line of `io.stat`. Keys an older kernel lacks (`dbytes`, `dios`) read as zero.
struct IOStatDevice: Equatable, Sendable {
    /// `MAJ:MIN` of the block device.
    var device: String
    /// `rbytes`.
    var readBytes: UInt64 = 0
    /// `wbytes`.
    var writtenBytes: UInt64 = 0
    /// `rios`.
    var reads: UInt64 = 0
    /// `wios`.
    var writes: UInt64 = 0
    /// `dbytes`.
    var discardedBytes: UInt64 = 0
    /// `dios`.
    var discards: UInt64 = 0
}

/// Parses `io.stat`: one line per device, `MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N
/// dios=N`, then whatever keys the kernel adds (`cost.vrate=100.00` with blk-iocost, `depth=max`
/// with blk-iolatency): those are skipped unread. Sorted by device number.
func parseIOStat(_ text: String, path: String) throws(CollectorError) -> [IOStatDevice] {
    var devices: [(number: (major: UInt32, minor: UInt32), stat: IOStatDevice)] = []
    try ProcText.forEachLineFields(text, limit: 32, separatedBy: ProcText.isSpace) { bytes, fields, line, _ throws(CollectorError) in
        guard let device = fields.first else { return }
        guard let colon = bytes[device].firstIndex(of: UInt8(ascii: ":")),
              let major = parseDecimal(bytes[device.lowerBound..<colon], as: UInt32.self),
              let minor = parseDecimal(bytes[colon + 1..<device.upperBound], as: UInt32.self)
        else {
            throw .malformed(path: path, reason: "line \"\(ProcText.string(bytes, line.prefix(200)))\" does not start with MAJ:MIN")
        }
        var stat = IOStatDevice(device: ProcText.string(bytes, device))
        for pair in fields.dropFirst() {
            guard let equals = bytes[pair].firstIndex(of: UInt8(ascii: "=")) else {
                throw .malformed(path: path, reason: "\"\(ProcText.string(bytes, pair.prefix(100)))\" in line \"\(ProcText.string(bytes, line.prefix(200)))\" is not KEY=VALUE")
            }
            guard let key = IOStatDevice.keys.position(of: UnsafeBufferPointer(rebasing: bytes[pair.lowerBound..<equals])) else { continue }
            guard let value = parseDecimal(bytes[equals + 1..<pair.upperBound], as: UInt64.self) else {
                throw .malformed(path: path, reason: "\"\(ProcText.string(bytes, pair.prefix(100)))\" in line \"\(ProcText.string(bytes, line.prefix(200)))\" is not KEY=N")
            }
            switch key {
            case 0: stat.readBytes = value
            case 1: stat.writtenBytes = value
            case 2: stat.reads = value
            case 3: stat.writes = value
            case 4: stat.discardedBytes = value
            default: stat.discards = value
            }
        }
        devices.append(((major, minor), stat))
    }
    return devices.sorted { $0.number < $1.number }.map(\.stat)
}

extension IOStatDevice {
    /// The keys of an `io.stat` line Lookout reads, in the order ``parseIOStat(_:path:)`` stores them.
    fileprivate static let keys = FlatKeys(["rbytes", "wbytes", "rios", "wios", "dbytes", "dios"])
}

/// Everything Lookout reads from one unit's cgroup directory; nil where the file is absent
/// (controller off, or a kernel too old for it).
struct CgroupStats: Equatable, Sendable {
    /// `cpu.stat` (always present while the cgroup exists), by key: the keys of ``cpuKeys``.
    var cpu: [String: UInt64]
    /// `memory.current`, bytes.
    var memoryCurrent: UInt64?
    /// `memory.peak`, bytes (Linux 5.19+).
    var memoryPeak: UInt64?
    /// `memory.max`: `.some(nil)` for `max`, nil when the file is absent.
    var memoryMax: UInt64??
    /// `memory.stat`, by key: the keys of ``MicroVMCollector/memoryKinds`` that are present.
    var memoryStat: [String: UInt64]?
    /// `memory.events`, by key: the keys of ``memoryEventKeys``.
    var memoryEvents: [String: UInt64]?
    /// `io.stat`, by device.
    var io: [IOStatDevice]?
    /// `pids.current`: tasks (threads) in the cgroup.
    var tasks: UInt64?
    /// `cpu.pressure`.
    var cpuPressure: PressureTotals?
    /// `memory.pressure`.
    var memoryPressure: PressureTotals?
    /// `io.pressure`.
    var ioPressure: PressureTotals?

    /// The `cpu.stat` keys Lookout reports.
    static let cpuKeys = FlatKeys(["system_usec", "user_usec"])
    /// The `memory.events` keys Lookout reports.
    static let memoryEventKeys = FlatKeys(["oom_kill"])

    /// How much of a unit's cgroup to read.
    enum Extent {
        /// Every file ``CgroupStats`` holds.
        case everything
        /// `cpu.stat` and `memory.current` only.
        case usage
    }

    /// Reads the cgroup at `directory`. Throws `CollectorError.noData` when the directory (the
    /// unit's cgroup) does not exist: the unit is not running.
    static func read(_ directory: String, _ extent: Extent = .everything) throws(CollectorError) -> CgroupStats {
        guard let cgroup = SourceDirectory(directory) else { throw .noData("no cgroup at \(directory)") }
        return try read(cgroup, extent)
    }

    /// Reads the cgroup open as `cgroup`; `extent` says which files. Throws `CollectorError.noData`
    /// when it has no `cpu.stat` (the cgroup is being removed).
    static func read(_ cgroup: SourceDirectory, _ extent: Extent = .everything) throws(CollectorError) -> CgroupStats {
        guard let cpu = try cgroup.parseIfPresent("cpu.stat", { text, path throws(CollectorError) in try parseFlatKeyed(text, path: path, keeping: cpuKeys) })
        else { throw .noData("no cgroup at \(cgroup.path)") }
        let memoryCurrent = try cgroup.parseIfPresent("memory.current", parseSingleValue)
        guard extent == .everything else { return CgroupStats(cpu: cpu, memoryCurrent: memoryCurrent) }
        return CgroupStats(
            cpu: cpu,
            memoryCurrent: memoryCurrent,
            memoryPeak: try cgroup.parseIfPresent("memory.peak", parseSingleValue),
            memoryMax: try cgroup.parseIfPresent("memory.max", parseLimit),
            memoryStat: try cgroup.parseIfPresent("memory.stat") { text, path throws(CollectorError) in
                try parseFlatKeyed(text, path: path, keeping: MicroVMCollector.memoryStatKeys)
            },
            memoryEvents: try cgroup.parseIfPresent("memory.events") { text, path throws(CollectorError) in
                try parseFlatKeyed(text, path: path, keeping: memoryEventKeys)
            },
            io: try cgroup.parseIfPresent("io.stat", parseIOStat),
            tasks: try cgroup.parseIfPresent("pids.current", parseSingleValue),
            cpuPressure: try cgroup.parseIfPresent("cpu.pressure", parsePressure),
            memoryPressure: try cgroup.parseIfPresent("memory.pressure", parsePressure),
            ioPressure: try cgroup.parseIfPresent("io.pressure", parsePressure))
    }
}
