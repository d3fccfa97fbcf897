import LookoutSupport
#if canImport(Glibc)
import Glibc
#endif

/// Turns journal entries into the JSON documents Lookout ships: ECS names where ECS has one,
/// every other field under `journald.*` with the journal's own name, nothing dropped.
///
/// - `@timestamp` is `_SOURCE_REALTIME_TIMESTAMP` (when the program logged) if present and
///   valid, else `__REALTIME_TIMESTAMP` (when journald received it); both stay in `journald.*`.
/// - A field moves to its ECS name (``mappings``) only when it has exactly one value, that value
///   is valid UTF-8 and, for numeric ECS fields, a plain decimal number. Otherwise it stays under
///   `journald.*` unchanged, so the ECS field never changes type between documents.
/// - A field that appears several times becomes a JSON array, in journal order.
/// - A value that is not valid UTF-8 is written as base64 (RFC 4648) and its field name is listed
///   in `journald.base64`; every value of such a field is base64, so one field has one encoding.
///   Valid UTF-8 with control characters (colour escapes) stays a string, JSON-escaped.
/// - `journald.__CURSOR`, `__REALTIME_TIMESTAMP`, `__MONOTONIC_TIMESTAMP`, `__SEQNUM` and
///   `__SEQNUM_ID` come from the entry's position, as `journalctl -o json` writes them.
package struct JournalDocumentEncoder {
    /// How a journal field is written at its ECS name.
    enum Rendering {
        /// A JSON string.
        case string
        /// A JSON number (the value must be a plain decimal).
        case integer
        /// `PRIORITY` 0–7 as its syslog keyword (`err`, `info`, …).
        case levelName
    }

    /// One journal field with an ECS name.
    struct Mapping {
        var journalField: String
        /// Where it goes, outermost object first; mappings sharing a prefix must be adjacent.
        var outputs: [(path: [String], rendering: Rendering)]
    }

    /// The ECS names, in the order they are written.
    static let mappings: [Mapping] = [
        Mapping(journalField: "MESSAGE", outputs: [(["message"], .string)]),
        Mapping(journalField: "PRIORITY", outputs: [
            (["log", "level"], .levelName), (["log", "syslog", "severity", "code"], .integer),
        ]),
        Mapping(journalField: "SYSLOG_FACILITY", outputs: [(["log", "syslog", "facility", "code"], .integer)]),
        Mapping(journalField: "SYSLOG_IDENTIFIER", outputs: [(["log", "syslog", "appname"], .string)]),
        Mapping(journalField: "CODE_FILE", outputs: [(["log", "origin", "file", "name"], .string)]),
        Mapping(journalField: "CODE_LINE", outputs: [(["log", "origin", "file", "line"], .integer)]),
        Mapping(journalField: "CODE_FUNC", outputs: [(["log", "origin", "function"], .string)]),
        Mapping(journalField: "_HOSTNAME", outputs: [(["host", "name"], .string)]),
        Mapping(journalField: "_MACHINE_ID", outputs: [(["host", "id"], .string)]),
        Mapping(journalField: "_BOOT_ID", outputs: [(["host", "boot", "id"], .string)]),
        Mapping(journalField: "_PID", outputs: [(["process", "pid"], .integer)]),
        Mapping(journalField: "_COMM", outputs: [(["process", "name"], .string)]),
        Mapping(journalField: "_EXE", outputs: [(["process", "executable"], .string)]),
        Mapping(journalField: "_CMDLINE", outputs: [(["process", "command_line"], .string)]),
        Mapping(journalField: "_UID", outputs: [(["user", "id"], .string)]),
        Mapping(journalField: "_GID", outputs: [(["user", "group", "id"], .string)]),
        Mapping(journalField: "_SYSTEMD_UNIT", outputs: [(["systemd", "unit"], .string)]),
        Mapping(journalField: "_SYSTEMD_USER_UNIT", outputs: [(["systemd", "user_unit"], .string)]),
        Mapping(journalField: "_SYSTEMD_SLICE", outputs: [(["systemd", "slice"], .string)]),
        Mapping(journalField: "_SYSTEMD_CGROUP", outputs: [(["systemd", "cgroup"], .string)]),
        Mapping(journalField: "_SYSTEMD_INVOCATION_ID", outputs: [(["systemd", "invocation_id"], .string)]),
        Mapping(journalField: "_TRANSPORT", outputs: [(["systemd", "transport"], .string)]),
    ]


    /// Syslog severity keywords by PRIORITY value (RFC 5424 §6.2.1, as journalctl names them),
    /// eight bytes each: the name, zero padding, and its length in the last byte.
    private let levelNames: [UInt8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
        .flatMap { Array($0.utf8) + [UInt8](repeating: 0, count: 7 - $0.utf8.count) + [UInt8($0.utf8.count)] }

    /// What encoding one entry found out, for the document's id and for metrics.
    package struct Facts: Sendable, Equatable {
        /// The deterministic `_id`: seqnum id, seqnum and boot id from the cursor.
        package var id: String
        /// `@timestamp` in microseconds since the epoch.
        package var timestampMicroseconds: Int64
        /// PRIORITY 0–7 when the entry has a valid one.
        package var priority: Int?
        /// The `_SYSTEMD_UNIT` field's position in the entry, when it has exactly one.
        package var unit: JournalEntry.Field?
        /// How many fields had a value that is not valid UTF-8 (written as base64).
        var base64Fields: Int
    }

    // Per-mapping lookup by a hash of the field name (open addressing, linear probing, a table
    // mostly empty so a miss ends at once), verified byte for byte.
    private let mappingSlots: [Int]
    private let mappingHashes: [UInt64]
    private let mappingNames: [[UInt8]]
    private let sourceRealtimeHash = Self.hash(Array("_SOURCE_REALTIME_TIMESTAMP".utf8))
    private let writer: NestedKeys
    private let priorityMapping: Int
    private let unitMapping: Int
    /// Per mapping, the indices of its outputs in ``renderings`` (flattened: no nested arrays to
    /// retain per entry).
    private let mappingOutputs: [Range<Int>]
    private let renderings: [Rendering]

    // Scratch space reused across entries.
    private var fieldHashes: [UInt64] = []
    private var fieldMapping: [Int] = []
    private var mappingField: [Int] = []
    private var handled: [Bool] = []

    /// Creates an encoder; keep one per reader and reuse it.
    package init() {
        mappingHashes = Self.mappings.map { Self.hash(Array($0.journalField.utf8)) }
        var slots = [Int](repeating: -1, count: 256)
        for (index, hash) in mappingHashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & (slots.count - 1)
            while slots[slot] != -1 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = index
        }
        mappingSlots = slots
        priorityMapping = Self.mappings.firstIndex { $0.journalField == "PRIORITY" }!
        unitMapping = Self.mappings.firstIndex { $0.journalField == "_SYSTEMD_UNIT" }!
        mappingNames = Self.mappings.map { Array($0.journalField.utf8) }
        var outputs: [Range<Int>] = []
        var renderings: [Rendering] = []
        for mapping in Self.mappings {
            outputs.append(renderings.count..<(renderings.count + mapping.outputs.count))
            renderings += mapping.outputs.map(\.rendering)
        }
        mappingOutputs = outputs
        self.renderings = renderings
        writer = NestedKeys(paths: [["@timestamp"]] + Self.mappings.flatMap { $0.outputs.map(\.path) } + [["journald"]])
    }

    /// Appends `entry` as one line of JSON (no newline) to `output`. `identify: false` leaves
    /// ``Facts/id`` empty, for callers that print documents rather than ship them.
    package mutating func encode(_ entry: JournalEntry, into output: inout [UInt8], identify: Bool = true) -> Facts {
        let fieldCount = entry.fields.count
        fieldHashes.removeAll(keepingCapacity: true)
        fieldMapping.removeAll(keepingCapacity: true)
        handled.removeAll(keepingCapacity: true)
        mappingField.removeAll(keepingCapacity: true)
        mappingField.append(contentsOf: repeatElement(-1, count: Self.mappings.count))
        var timestamp = Int64(clamping: entry.realtime)
        let position = entry.cursorBytes.withUnsafeBytes { CursorFields.ranges(in: $0) }
        var facts = Facts(id: identify ? Self.documentID(cursor: entry.cursorBytes, position) : "", timestampMicroseconds: 0, priority: nil,
                          unit: nil, base64Fields: 0)

        entry.bytes.withUnsafeBytes { bytes in
            // Which fields have an ECS name, and whether each such field is single-valued.
            for field in entry.fields {
                let name = UnsafeRawBufferPointer(rebasing: bytes[field.start..<field.separator])
                let hash = Self.hash(name)
                fieldHashes.append(hash)
                var mapping = -1
                var slot = Int(truncatingIfNeeded: hash) & (mappingSlots.count - 1)
                var candidate = mappingSlots[slot]
                while candidate >= 0 && mappingHashes[candidate] != hash {
                    slot = (slot + 1) & (mappingSlots.count - 1)
                    candidate = mappingSlots[slot]
                }
                if candidate >= 0, Self.equal(name, mappingNames[candidate]) {
                    mapping = candidate
                    mappingField[candidate] = mappingField[candidate] == -1 ? fieldHashes.count - 1 : -2
                } else if hash == sourceRealtimeHash, let source = Self.decimal(Self.value(field, in: bytes)),
                          source <= UInt64(Int64.max) {
                    timestamp = Int64(source)
                }
                fieldMapping.append(mapping)
                handled.append(false)
            }
            facts.timestampMicroseconds = timestamp

            var keys = writer.start(into: &output)
            keys.key(0, into: &output)
            output.append(UInt8(ascii: "\""))
            CivilTime(microseconds: timestamp).appendRFC3339(to: &output)
            output.append(UInt8(ascii: "\""))

            for mappingIndex in 0..<mappingOutputs.count {
                let fieldIndex = mappingField[mappingIndex]
                guard fieldIndex >= 0 else { continue }
                let value = Self.value(entry.fields[fieldIndex], in: bytes)
                let outputs = mappingOutputs[mappingIndex]
                guard let rendered = renderable(value, outputs) else { continue }
                handled[fieldIndex] = true
                if mappingIndex == priorityMapping { facts.priority = Int(rendered) }
                if mappingIndex == unitMapping { facts.unit = entry.fields[fieldIndex] }
                for target in outputs {
                    // Path 0 is @timestamp; the mappings' paths follow in order.
                    keys.key(1 + target, into: &output)
                    switch renderings[target] {
                    case .string: JSONText.appendString(value, to: &output)
                    case .integer: JSONText.appendInteger(rendered, to: &output)
                    case .levelName:
                        output.append(UInt8(ascii: "\""))
                        levelNames.withUnsafeBytes { names in
                            let name = Int(rendered) * 8
                            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: names[name..<(name + Int(names[name + 7]))]))
                        }
                        output.append(UInt8(ascii: "\""))
                    }
                }
            }

            keys.key(1 + renderings.count, into: &output)
            facts.base64Fields = writeJournaldObject(entry, position, bytes: bytes, fieldCount: fieldCount, into: &output)
            keys.finish(into: &output)
        }
        return facts
    }

    /// Writes `{…}` for `journald`: the position fields, then every field not moved to ECS.
    /// Returns how many fields were written as base64.
    private mutating func writeJournaldObject(
        _ entry: JournalEntry, _ position: CursorFields.Ranges, bytes: UnsafeRawBufferPointer, fieldCount: Int,
        into output: inout [UInt8]
    ) -> Int {
        output.append(UInt8(ascii: "{"))
        Self.appendKey("__CURSOR", to: &output, first: true)
        entry.cursorBytes.withUnsafeBytes { cursor in
            JSONText.appendString(cursor, to: &output)
            Self.appendKey("__REALTIME_TIMESTAMP", to: &output)
            Self.appendQuotedInteger(entry.realtime, to: &output)
            Self.appendKey("__MONOTONIC_TIMESTAMP", to: &output)
            Self.appendQuotedInteger(entry.monotonic, to: &output)
            if let seqnum = position.seqnum, let value = CursorFields.hexValue(UnsafeRawBufferPointer(rebasing: cursor[seqnum])) {
                Self.appendKey("__SEQNUM", to: &output)
                Self.appendQuotedInteger(value, to: &output)
            }
            if let seqnumID = position.seqnumID {
                Self.appendKey("__SEQNUM_ID", to: &output)
                JSONText.appendString(UnsafeRawBufferPointer(rebasing: cursor[seqnumID]), to: &output)
            }
        }

        var base64Names: [Int] = []
        for index in 0..<fieldCount where !handled[index] {
            let field = entry.fields[index]
            let name = UnsafeRawBufferPointer(rebasing: bytes[field.start..<field.separator])
            // Every later value of the same field joins this one.
            var members = [index]
            var binary = !JSONText.isValidUTF8(Self.value(field, in: bytes))
            for later in (index + 1)..<max(fieldCount, index + 1) where !handled[later] && fieldHashes[later] == fieldHashes[index] {
                let other = entry.fields[later]
                guard Self.equal(UnsafeRawBufferPointer(rebasing: bytes[other.start..<other.separator]), name) else { continue }
                members.append(later)
                handled[later] = true
                if !binary && !JSONText.isValidUTF8(Self.value(other, in: bytes)) { binary = true }
            }
            handled[index] = true
            output.append(UInt8(ascii: ","))
            JSONText.appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            if members.count > 1 { output.append(UInt8(ascii: "[")) }
            for (position, member) in members.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                let value = Self.value(entry.fields[member], in: bytes)
                if binary {
                    output.append(UInt8(ascii: "\""))
                    Base64.append(value, to: &output)
                    output.append(UInt8(ascii: "\""))
                } else {
                    JSONText.appendString(value, to: &output)
                }
            }
            if members.count > 1 { output.append(UInt8(ascii: "]")) }
            if binary { base64Names.append(index) }
        }
        if !base64Names.isEmpty {
            Self.appendKey("base64", to: &output)
            output.append(UInt8(ascii: "["))
            for (position, index) in base64Names.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                let field = entry.fields[index]
                JSONText.appendString(UnsafeRawBufferPointer(rebasing: bytes[field.start..<field.separator]), to: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        output.append(UInt8(ascii: "}"))
        return base64Names.count
    }

    /// The number to write for a mapped value, or nil when it must stay under `journald.*`.
    /// Strings answer 0 (unused).
    private func renderable(_ value: UnsafeRawBufferPointer, _ outputs: Range<Int>) -> UInt64? {
        var number: UInt64 = 0
        for output in outputs {
            switch renderings[output] {
            case .string:
                guard JSONText.isValidUTF8(value) else { return nil }
            case .integer:
                guard let parsed = Self.decimal(value), parsed <= UInt64(Int64.max) else { return nil }
                number = parsed
            case .levelName:
                guard value.count == 1, value[0] >= UInt8(ascii: "0"), value[0] <= UInt8(ascii: "7") else { return nil }
                number = UInt64(value[0] - UInt8(ascii: "0"))
            }
        }
        return number
    }

    /// A plain decimal: digits only, no sign, no leading zero (so writing it back is lossless).
    static func decimal(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 19, bytes[0] != UInt8(ascii: "0") || bytes.count == 1 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func value(_ field: JournalEntry.Field, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(field.separator + 1)..<field.end])
    }

    private static func appendKey(_ key: StaticString, to output: inout [UInt8], first: Bool = false) {
        if !first { output.append(UInt8(ascii: ",")) }
        output.append(UInt8(ascii: "\""))
        output.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private static func appendQuotedInteger(_ value: UInt64, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        JSONText.appendInteger(value, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    private static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        left.count == right.count && (left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
    }

    private static func equal(_ left: UnsafeRawBufferPointer, _ right: [UInt8]) -> Bool {
        right.withUnsafeBytes { equal(left, $0) }
    }

    /// FNV-1a, 64 bit: cheap, and good enough to find a candidate that is then compared in full.
    static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// `<seqnum id>-<seqnum>-<boot id>` from a cursor: the same entry always gets the same id, in
    /// whatever file or order it is read. Falls back to the whole cursor if a part is missing.
    static func documentID(cursor: [UInt8], _ position: CursorFields.Ranges) -> String {
        guard let seqnumID = position.seqnumID, let seqnum = position.seqnum, let boot = position.bootID else {
            return String(decoding: cursor, as: UTF8.self)
        }
        let length = seqnumID.count + seqnum.count + boot.count + 2
        return String(unsafeUninitializedCapacity: length) { buffer in
            var index = 0
            for (offset, range) in [seqnumID, seqnum, boot].enumerated() {
                if offset > 0 {
                    buffer[index] = UInt8(ascii: "-")
                    index += 1
                }
                for byte in cursor[range] {
                    buffer[index] = byte
                    index += 1
                }
            }
            return index
        }
    }

    /// The document id for a cursor given as text.
    static func documentID(cursor: String) -> String {
        let bytes = Array(cursor.utf8)
        return documentID(cursor: bytes, bytes.withUnsafeBytes { CursorFields.ranges(in: $0) })
    }
}

/// The parts of a journal cursor (`s=<seqnum id>;i=<seqnum, hex>;b=<boot id>;m=…;t=…;x=…`), as
/// sd-journal writes it (src/libsystemd/sd-journal/sd-journal.c, `sd_journal_get_cursor`).
struct CursorFields {
    private let bytes: [UInt8]
    private let parts: Ranges

    /// Finds the parts of `cursor` (one parser: ``ranges(in:)``, the per-entry path's).
    init(_ cursor: String) {
        bytes = Array(cursor.utf8)
        parts = bytes.withUnsafeBytes { Self.ranges(in: $0) }
    }

    /// `s=`: the id of the sequence the seqnum counts in.
    var seqnumID: String? { parts.seqnumID.map { String(decoding: bytes[$0], as: UTF8.self) } }

    /// `i=`: the entry's sequence number, decoded.
    var seqnum: UInt64? { hex(parts.seqnum) }

    /// `t=`: the receive time (µs since the epoch), decoded.
    var realtime: UInt64? { hex(parts.realtime) }

    private func hex(_ range: Range<Int>?) -> UInt64? {
        guard let range else { return nil }
        return bytes.withUnsafeBytes { Self.hexValue(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Where the parts lie in a cursor's bytes.
    struct Ranges {
        var seqnumID: Range<Int>?
        var seqnum: Range<Int>?
        var bootID: Range<Int>?
        var realtime: Range<Int>?
    }

    /// Finds `s=`, `i=`, `b=` and `t=` in a cursor without allocating: the per-entry path.
    static func ranges(in cursor: UnsafeRawBufferPointer) -> Ranges {
        var ranges = Ranges()
        var start = 0
        while start < cursor.count {
            var end = start
            while end < cursor.count && cursor[end] != UInt8(ascii: ";") { end += 1 }
            if end - start > 2 && cursor[start + 1] == UInt8(ascii: "=") {
                let value = (start + 2)..<end
                switch cursor[start] {
                case UInt8(ascii: "s"): ranges.seqnumID = value
                case UInt8(ascii: "i"): ranges.seqnum = value
                case UInt8(ascii: "b"): ranges.bootID = value
                case UInt8(ascii: "t"): ranges.realtime = value
                default: break
                }
            }
            start = end + 1
        }
        return ranges
    }

    /// A hex number's value; nil for anything else or more than 16 digits.
    static func hexValue(_ digits: UnsafeRawBufferPointer) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let nibble: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}

/// Writes the ECS part of a document as nested objects from a fixed list of key paths: only the
/// paths present in one document are written, and objects open and close around them.
struct NestedKeys {
    private let paths: [[Int]]
    private let keyBytes: [[UInt8]]

    /// `paths` in writing order; paths that share a prefix must be adjacent.
    init(paths: [[String]]) {
        var keyBytes: [[UInt8]] = []
        var prefixIDs: [[String]: Int] = [:]
        var resolved: [[Int]] = []
        for path in paths {
            var ids: [Int] = []
            for depth in path.indices {
                let prefix = Array(path[...depth])
                if let known = prefixIDs[prefix] {
                    ids.append(known)
                    continue
                }
                let id = keyBytes.count
                var quoted: [UInt8] = []
                JSONText.appendString(path[depth], to: &quoted)
                quoted.append(UInt8(ascii: ":"))
                keyBytes.append(quoted)
                prefixIDs[prefix] = id
                ids.append(id)
            }
            resolved.append(ids)
        }
        self.paths = resolved
        self.keyBytes = keyBytes
    }

    /// Opens the document's outer object.
    func start(into output: inout [UInt8]) -> Cursor {
        output.append(UInt8(ascii: "{"))
        return Cursor(keys: self)
    }

    /// Where the writer is inside the nested objects.
    struct Cursor {
        let keys: NestedKeys
        private var open: [Int] = []
        private var wroteAny = false

        init(keys: NestedKeys) { self.keys = keys }

        /// Writes the key for path `index` (closing and opening objects as needed), ready for its value.
        mutating func key(_ index: Int, into output: inout [UInt8]) {
            let path = keys.paths[index]
            var common = 0
            while common < open.count && common < path.count - 1 && open[common] == path[common] { common += 1 }
            for _ in common..<open.count { output.append(UInt8(ascii: "}")) }
            open.removeLast(open.count - common)
            if wroteAny { output.append(UInt8(ascii: ",")) }
            for depth in common..<(path.count - 1) {
                output.append(contentsOf: keys.keyBytes[path[depth]])
                output.append(UInt8(ascii: "{"))
                open.append(path[depth])
            }
            output.append(contentsOf: keys.keyBytes[path[path.count - 1]])
            wroteAny = true
        }

        /// Closes every object still open, and the document.
        mutating func finish(into output: inout [UInt8]) {
            for _ in open { output.append(UInt8(ascii: "}")) }
            open.removeAll()
            output.append(UInt8(ascii: "}"))
        }
    }
}
