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
        guard fields.count == 2, let value = parseDecimal(UnsafeBufferPointer(rebasing: bytes[fields[1]]), as: UInt64.self) else {
            let shown = String(decoding: UnsafeBufferPointer(rebasing: bytes[line.prefix(200)]), as: UTF8.self)
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
/// dios=N`; unknown keys (newer kernels add some) are skipped. Sorted by device number.
func parseIOStat(_ text: String, path: String) throws(CollectorError) -> [IOStatDevice] {
    var devices: [IOStatDevice] = []
    for line in ProcText.lines(text) {
        let fields = ProcText.fields(line)
        guard let device = fields.first else { continue }
        let numbers = device.split(separator: ":")
        guard numbers.count == 2, UInt32(numbers[0]) != nil, UInt32(numbers[1]) != nil else {
            throw .malformed(path: path, reason: "line \"\(line.prefix(200))\" does not start with MAJ:MIN")
        }
        var stat = IOStatDevice(device: String(device))
        for pair in fields.dropFirst() {
            guard let equals = pair.firstIndex(of: "="), let value = UInt64(pair[pair.index(after: equals)...]) else {
                throw .malformed(path: path, reason: "\"\(pair.prefix(100))\" in line \"\(line.prefix(200))\" is not KEY=N")
            }
            switch pair[..<equals] {
            case "rbytes": stat.readBytes = value
            case "wbytes": stat.writtenBytes = value
            case "rios": stat.reads = value
            case "wios": stat.writes = value
            case "dbytes": stat.discardedBytes = value
            case "dios": stat.discards = value
            default: continue
            }
        }
        devices.append(stat)
    }
    return devices.sorted { IOStatDevice.deviceOrder($0.device, $1.device) }
}

extension IOStatDevice {
    /// Orders `MAJ:MIN` numerically, so `8:16` comes before `259:0`.
    static func deviceOrder(_ left: String, _ right: String) -> Bool {
        let a = left.split(separator: ":").compactMap { UInt32($0) }
        let b = right.split(separator: ":").compactMap { UInt32($0) }
        return a.lexicographicallyPrecedes(b)
    }
}

/// Everything Lookout reads from one unit's cgroup directory; nil where the file is absent
/// (controller off, or a kernel too old for it).
struct CgroupStats: Equatable, Sendable {
    /// `cpu.stat` (always present while the cgroup exists).
    var cpu: [String: UInt64]
    /// `memory.current`, bytes.
    var memoryCurrent: UInt64?
    /// `memory.peak`, bytes (Linux 5.19+).
    var memoryPeak: UInt64?
    /// `memory.max`: `.some(nil)` for `max`, nil when the file is absent.
    var memoryMax: UInt64??
    /// `memory.stat`, by key: the keys of ``MicroVMCollector/memoryKinds`` that are present.
    var memoryStat: [String: UInt64]?
    /// `memory.events`, by key.
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

    /// Reads the cgroup at `directory`. Throws `CollectorError.noData` when the directory (the
    /// unit's cgroup) does not exist: the unit is not running.
    static func read(_ directory: String) throws(CollectorError) -> CgroupStats {
        guard let cgroup = SourceDirectory(directory) else { throw .noData("no cgroup at \(directory)") }
        func optional<Value>(_ file: String, _ parse: (String, String) throws(CollectorError) -> Value)
            throws(CollectorError) -> Value?
        {
            guard let text = try cgroup.readIfPresent(file) else { return nil }
            return try parse(text, directory + "/" + file)
        }
        guard let cpu = try optional("cpu.stat", parseFlatKeyed) else {
            throw .noData("no cgroup at \(directory)")
        }
        return CgroupStats(
            cpu: cpu,
            memoryCurrent: try optional("memory.current", parseSingleValue),
            memoryPeak: try optional("memory.peak", parseSingleValue),
            memoryMax: try optional("memory.max", parseLimit),
            memoryStat: try optional("memory.stat") { text, path throws(CollectorError) in
                try parseFlatKeyed(text, path: path, keeping: MicroVMCollector.memoryStatKeys)
            },
            memoryEvents: try optional("memory.events", parseFlatKeyed),
            io: try optional("io.stat", parseIOStat),
            tasks: try optional("pids.current", parseSingleValue),
            cpuPressure: try optional("cpu.pressure", parsePressure),
            memoryPressure: try optional("memory.pressure", parsePressure),
            ioPressure: try optional("io.pressure", parsePressure))
    }
}
