import CSystemd
#if canImport(Glibc)
import Glibc
#endif

/// Which journal files to read.
package enum JournalSource: Sendable, Equatable, CustomStringConvertible {
    /// The local system journal (`/var/log/journal`, `/run/log/journal`), as `journalctl` reads it.
    case local
    /// Every journal file in these directories, merged by time.
    case directories([String])
    /// These journal files, merged by time.
    case files([String])

    /// The source as a user would name it in a log line.
    package var description: String {
        switch self {
        case .local: "the local journal"
        case .directories(let paths): "journal directory \(paths.joined(separator: ", "))"
        case .files(let paths): "journal file \(paths.joined(separator: ", "))"
        }
    }
}

/// A failure of the journal library, with what was being done and the system's reason.
package struct JournalError: Error, Equatable, CustomStringConvertible {
    /// What Lookout was doing (`open journal directory /x`, `read the next entry`).
    package var operation: String
    /// The positive errno the library returned.
    package var code: Int32

    /// One line naming the operation and the reason; when libsystemd could not be loaded, why.
    package var description: String {
        if code == ELIBACC, let reason = lookout_systemd_load_error() {
            return "cannot \(operation): \(String(cString: reason))"
        }
        return "cannot \(operation): \(String(cString: strerror(code)))"
    }

    /// True for a corrupt entry or file (EBADMSG and its relatives), which a reader skips. EIO
    /// is not one: it may pass, so the reader reopens and tries the same entry again.
    var isCorruption: Bool { [EBADMSG, EPROTONOSUPPORT, ENODATA].contains(code) }
}

/// One entry as the journal stores it: every field as raw bytes, plus its position.
///
/// The fields live in one byte buffer (`NAME=value` items back to back) so reading an entry
/// allocates nothing once the buffer has grown to the largest entry seen.
package struct JournalEntry: Sendable {
    /// Where one field's name and value lie in ``bytes``.
    package struct Field: Sendable, Equatable {
        /// Start of the name.
        package var start: Int
        /// Index of the `=` between name and value.
        package var separator: Int
        /// End of the value (exclusive).
        package var end: Int
    }

    /// The `NAME=value` items of every field, back to back.
    package var bytes: [UInt8] = []
    /// The fields in the order the journal enumerates them; a name may repeat.
    package var fields: [Field] = []
    /// The entry's cursor (`s=…;i=…;b=…;m=…;t=…;x=…`) as bytes, reused from entry to entry.
    var cursorBytes: [UInt8] = []
    /// `__REALTIME_TIMESTAMP`: when journald received the entry, µs since the epoch.
    package var realtime: UInt64 = 0
    /// `__MONOTONIC_TIMESTAMP`: µs since boot.
    package var monotonic: UInt64 = 0

    /// Creates an empty entry to read into.
    package init() {}

    /// Creates an entry from `NAME=value` items (tests and fixtures).
    package init(items: [[UInt8]], cursor: String, realtime: UInt64, monotonic: UInt64) {
        for item in items { append(item) }
        cursorBytes = Array(cursor.utf8)
        self.realtime = realtime
        self.monotonic = monotonic
    }

    /// Appends one `NAME=value` item; an item without `=` is ignored (the journal never has one).
    mutating func append(_ item: UnsafeRawBufferPointer) {
        guard let base = item.baseAddress, let equals = memchr(base, Int32(UInt8(ascii: "=")), item.count) else { return }
        let start = bytes.count
        bytes.append(contentsOf: item)
        fields.append(Field(start: start, separator: start + (UnsafeRawPointer(equals) - base), end: bytes.count))
    }

    /// Appends one `NAME=value` item.
    mutating func append(_ item: [UInt8]) {
        item.withUnsafeBytes { append($0) }
    }

    /// Forgets the fields, keeping the buffers' capacity.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
    }

    /// The entry's cursor.
    package var cursor: String { String(decoding: cursorBytes, as: UTF8.self) }
}

/// What `sd_journal_wait` saw.
package enum JournalChange: Sendable, Equatable {
    /// Nothing within the timeout.
    case none
    /// New entries were appended.
    case appended
    /// Files were added, removed or rotated.
    case invalidated
}

/// An open journal (libsystemd `sd_journal`): the one place Lookout calls into libsystemd.
///
/// Not thread-safe, as `sd_journal` is not: one reader owns it. Calls block on file I/O, so the
/// owner runs it on a thread of its own, never on the cooperative pool.
package final class Journal {
    private var handle: OpaquePointer?
    /// What was opened, for messages.
    package let source: JournalSource

    /// Opens `source` with no data size threshold, so no field is truncated
    /// (`sd_journal_set_data_threshold(3)`: the default 64 KiB would cut long values).
    package init(_ source: JournalSource) throws(JournalError) {
        Self.absorbFaults()
        self.source = source
        var opened: OpaquePointer?
        let result: Int32
        switch source {
        case .local:
            result = lookout_sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY))
        case .directories(let paths) where paths.count == 1:
            result = lookout_sd_journal_open_directory(&opened, paths[0], 0)
        case .directories(let paths):
            // sd-journal opens one directory at a time; several are merged as their files.
            let files = Self.journalFiles(in: paths)
            result = files.isEmpty ? -ENOENT : Self.openFiles(files, into: &opened)
        case .files(let paths):
            result = Self.openFiles(paths, into: &opened)
        }
        guard result >= 0, let opened else { throw JournalError(operation: "open \(source)", code: -result) }
        handle = opened
        let threshold = lookout_sd_journal_set_data_threshold(opened, 0)
        guard threshold >= 0 else { throw JournalError(operation: "lift the data size threshold", code: -threshold) }
    }

    deinit {
        lookout_sd_journal_close(handle)
    }

    /// The journal files (`*.journal`, `*.journal~`) directly inside `directories`, sorted.
    static func journalFiles(in directories: [String]) -> [String] {
        var files: [String] = []
        for directory in directories {
            guard let names = try? SourceFile.list(directory) else { continue }
            for name in names where name.hasSuffix(".journal") || name.hasSuffix(".journal~") {
                files.append(directory.hasSuffix("/") ? directory + name : directory + "/" + name)
            }
        }
        return files.sorted()
    }

    private static func openFiles(_ paths: [String], into opened: inout OpaquePointer?) -> Int32 {
        var pointers = paths.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        pointers.append(nil)
        return pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                lookout_sd_journal_open_files(&opened, $0, 0)
            }
        }
    }

    /// Adds journalctl-style matches: each term is `FIELD=VALUE`, or `+` to start an alternative.
    /// Terms on the same field are alternatives; terms on different fields must all hold.
    func addMatches(_ terms: [String]) throws(JournalError) {
        for term in terms {
            let result: Int32 = if term == "+" {
                lookout_sd_journal_add_disjunction(handle)
            } else {
                term.utf8CString.withUnsafeBufferPointer { lookout_sd_journal_add_match(handle, $0.baseAddress, $0.count - 1) }
            }
            guard result >= 0 else { throw JournalError(operation: "add match \(term)", code: -result) }
        }
    }

    /// Makes the matches added so far one group that must hold together with the next group.
    func addConjunction() throws(JournalError) {
        let result = lookout_sd_journal_add_conjunction(handle)
        guard result >= 0 else { throw JournalError(operation: "combine matches", code: -result) }
    }

    /// Positions before the first entry.
    func seekHead() throws(JournalError) {
        try check(lookout_sd_journal_seek_head(handle), "seek to the head")
    }

    /// Positions after the last entry.
    func seekTail() throws(JournalError) {
        try check(lookout_sd_journal_seek_tail(handle), "seek to the tail")
    }

    /// Positions before the first entry received at or after `microseconds` since the epoch.
    func seek(realtime microseconds: UInt64) throws(JournalError) {
        try check(lookout_sd_journal_seek_realtime_usec(handle, microseconds), "seek to a time")
    }

    /// Positions at `cursor`'s entry, or where it would be if it is gone.
    func seek(cursor: String) throws(JournalError) {
        try check(lookout_sd_journal_seek_cursor(handle, cursor), "seek to cursor \(cursor)")
    }

    /// True when the current entry is the one `cursor` names.
    func isAt(cursor: String) throws(JournalError) -> Bool {
        let result = lookout_sd_journal_test_cursor(handle, cursor)
        try check(result, "test cursor \(cursor)")
        return result > 0
    }

    /// Moves to the next entry; false at the end.
    package func next() throws(JournalError) -> Bool {
        let result = lookout_sd_journal_next(handle)
        try check(result, "read the next entry")
        return result > 0
    }

    /// Moves to the previous entry; false at the start.
    package func previous() throws(JournalError) -> Bool {
        let result = lookout_sd_journal_previous(handle)
        try check(result, "read the previous entry")
        return result > 0
    }

    /// The cursor of the entry the journal stands on, as bytes.
    func currentCursorBytes() throws(JournalError) -> [UInt8] {
        var bytes: [UInt8] = []
        try withCursor { bytes = Array($0) }
        return bytes
    }

    /// Calls `body` with the current entry's cursor (sd-journal's allocation, freed after).
    private func withCursor(_ body: (UnsafeRawBufferPointer) -> Void) throws(JournalError) {
        var cursor: UnsafeMutablePointer<CChar>?
        try check(lookout_sd_journal_get_cursor(handle, &cursor), "read an entry's cursor")
        guard let cursor else { return }
        defer { free(cursor) }
        body(UnsafeRawBufferPointer(start: cursor, count: strlen(cursor)))
    }

    /// Reads the current entry's fields and position into `entry`, replacing what it held.
    package func read(into entry: inout JournalEntry) throws(JournalError) {
        entry.removeAll()
        lookout_sd_journal_restart_data(handle)
        var data: UnsafeRawPointer?
        var length = 0
        while true {
            let result = lookout_sd_journal_enumerate_available_data(handle, &data, &length)
            try check(result, "read the fields of an entry")
            guard result > 0, let data else { break }
            entry.append(UnsafeRawBufferPointer(start: data, count: length))
        }
        try withCursor { cursor in
            entry.cursorBytes.removeAll(keepingCapacity: true)
            entry.cursorBytes.append(contentsOf: cursor)
        }
        var realtime: UInt64 = 0
        try check(lookout_sd_journal_get_realtime_usec(handle, &realtime), "read an entry's time")
        var monotonic: UInt64 = 0
        var boot = sd_id128_t()
        try check(lookout_sd_journal_get_monotonic_usec(handle, &monotonic, &boot), "read an entry's boot time")
        entry.realtime = realtime
        entry.monotonic = monotonic
    }

    /// Waits up to `microseconds` for the journal to change.
    package func wait(microseconds: UInt64) throws(JournalError) -> JournalChange {
        let result = lookout_sd_journal_wait(handle, microseconds)
        try check(result, "wait for new entries")
        switch result {
        case Int32(SD_JOURNAL_APPEND): return .appended
        case Int32(SD_JOURNAL_INVALIDATE): return .invalidated
        default: return .none
        }
    }

    /// Installs the SIGBUS handler (opening a journal does it too): a read from a mapped file
    /// that was truncated meanwhile gets zeros and is counted in ``absorbedFaults`` instead of
    /// killing the process, as journalctl arranges for itself.
    static func absorbFaults() {
        _ = lookout_sigbus_install()
    }

    /// How many SIGBUS faults (reads of a file truncated under us) the process has absorbed.
    package static var absorbedFaults: UInt { lookout_sigbus_count() }

    private func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(JournalError) {
        if result < 0 { throw JournalError(operation: operation(), code: -result) }
    }
}
