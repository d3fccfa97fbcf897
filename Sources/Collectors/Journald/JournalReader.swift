/// Which entries to read: the files, and journalctl-style filters on them.
package struct JournalSelection: Sendable, Equatable {
    /// The journal files to read.
    package var source: JournalSource
    /// Match terms as journalctl takes them: `FIELD=VALUE`, `+` between alternatives.
    package var matches: [String]
    /// Only entries about these units, as `journalctl -u` selects them (a name without a suffix
    /// means `.service`).
    package var units: [String]
    /// Only entries at least this important (PRIORITY 0 = emerg … 7 = debug).
    package var maximumPriority: Int?

    /// Creates a selection; by default every entry of the local journal.
    package init(source: JournalSource = .local, matches: [String] = [], units: [String] = [], maximumPriority: Int? = nil) {
        self.source = source
        self.matches = matches
        self.units = units
        self.maximumPriority = maximumPriority
    }

    /// The unit name journalctl would match for `name` (`sshd` → `sshd.service`).
    static func unitName(_ name: String) -> String {
        let suffixes = [".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".timer", ".path",
                        ".slice", ".scope"]
        return suffixes.contains(where: name.hasSuffix) ? name : name + ".service"
    }

    /// The entries about `unit` as `journalctl -u` finds them (systemd's
    /// `add_matches_for_unit`): the unit's own, its coredumps, PID 1's messages about it, and
    /// privileged daemons' messages about it; for a slice, everything in the slice.
    static func unitTerms(_ unit: String) -> [String] {
        var terms = [
            "_SYSTEMD_UNIT=\(unit)",
            "+", "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1", "_UID=0", "COREDUMP_UNIT=\(unit)",
            "+", "_PID=1", "UNIT=\(unit)",
            "+", "_UID=0", "OBJECT_SYSTEMD_UNIT=\(unit)",
        ]
        if unit.hasSuffix(".slice") { terms += ["+", "_SYSTEMD_SLICE=\(unit)"] }
        return terms
    }

    /// Applies the filters to a freshly opened journal: the user's matches, then (each as its own
    /// group that must also hold) units and priorities.
    func apply(to journal: Journal) throws(JournalError) {
        try journal.addMatches(matches)
        if !units.isEmpty {
            if !matches.isEmpty { try journal.addConjunction() }
            for (index, unit) in units.enumerated() {
                if index > 0 { try journal.addMatches(["+"]) }
                try journal.addMatches(Self.unitTerms(Self.unitName(unit)))
            }
        }
        if let maximumPriority {
            if !matches.isEmpty || !units.isEmpty { try journal.addConjunction() }
            try journal.addMatches((0...max(0, min(maximumPriority, 7))).map { "PRIORITY=\($0)" })
        }
    }
}

/// Where a reader starts when it has no saved cursor.
package enum JournalStart: Sendable, Equatable {
    /// The oldest entry still in the journal.
    case head
    /// Only entries written after the reader starts.
    case tail
    /// Entries received at or after this time (µs since the epoch).
    case since(UInt64)
}

/// Reads entries in order from a journal, resuming after a saved cursor, surviving corrupt
/// entries, truncated files (SIGBUS) and rotation; counts what it reads and what it lost.
///
/// Not thread-safe: one task or thread owns a reader.
package final class JournalReader {
    /// What is read.
    package let selection: JournalSelection
    /// The counters this reader feeds.
    package let counters: JournalCounters
    private let start: JournalStart
    private var journal: Journal
    private var openedFiles: [String]
    /// The current entry of the journal has not been returned yet (after a resume that found the
    /// cursor's entry gone, the journal already stands on the first unread one).
    private var currentIsUnread = false
    /// The cursor of the last entry returned, where a reopen resumes (bytes: copied per entry
    /// without allocating).
    private var lastCursorBytes: [UInt8] = []

    /// The cursor of the last entry returned, where a reopen resumes.
    var lastCursor: String? { lastCursorBytes.isEmpty ? nil : String(decoding: lastCursorBytes, as: UTF8.self) }
    private var faultsSeen: UInt
    private var consecutiveErrors = 0

    /// Opens the selection and positions the reader: after `cursor` when given (the entry it
    /// names was delivered already), else at `start`.
    package init(selection: JournalSelection, start: JournalStart, after cursor: String?, counters: JournalCounters) throws(JournalError) {
        self.selection = selection
        self.counters = counters
        self.start = start
        faultsSeen = Journal.absorbedFaults
        (journal, openedFiles) = try Self.open(selection)
        try position(after: cursor)
    }

    /// Positions after `cursor` when there is one, else at the start position.
    private func position(after cursor: String?) throws(JournalError) {
        if let cursor {
            try resume(after: cursor)
            return
        }
        switch start {
        case .head: try journal.seekHead()
        case .since(let time): try journal.seek(realtime: time)
        case .tail:
            // Stand on the last entry so that the first `next` returns only what comes after it;
            // its cursor is where a reopen (or, once saved, a restart) resumes, so entries written
            // before the first one read are not skipped by seeking the tail again.
            try journal.seekTail()
            if try journal.previous() { lastCursorBytes = try journal.currentCursorBytes() }
        }
    }

    private static func open(_ selection: JournalSelection) throws(JournalError) -> (Journal, [String]) {
        let journal = try Journal(selection.source)
        try selection.apply(to: journal)
        let files = if case .directories(let paths) = selection.source, paths.count > 1 { Journal.journalFiles(in: paths) } else { [String]() }
        return (journal, files)
    }

    /// Positions after `cursor` without skipping anything unread: seek, step, test (as Grafana
    /// Alloy does). If the cursor's entry is gone (vacuumed or rotated away), the step lands on
    /// the first entry after it, which is kept unread; entries missing in between are counted
    /// as lost when the sequence numbers tell how many.
    private func resume(after cursor: String) throws(JournalError) {
        lastCursorBytes = Array(cursor.utf8)
        try journal.seek(cursor: cursor)
        guard try journal.next() else { return }
        if try journal.isAt(cursor: cursor) { return }
        currentIsUnread = true
        // Count the gap only when sequence numbers can tell it: same sequence, and no filters
        // (with filters, entries that do not match look like a gap too). A landed entry that
        // cannot be read is skipped by `next`, which counts it.
        guard selection.matches.isEmpty, selection.units.isEmpty, selection.maximumPriority == nil else { return }
        var landed = JournalEntry()
        guard (try? journal.read(into: &landed)) != nil else { return }
        let saved = CursorFields(cursor)
        let found = CursorFields(landed.cursor)
        if saved.seqnumID == found.seqnumID, let before = saved.seqnum, let after = found.seqnum,
           after > before, after - before > 1 {
            counters.recordLost(after - before - 1)
        }
    }

    /// Reads the next entry into `entry`; false when there is nothing more for now.
    /// A corrupt entry is skipped and counted; a file truncated under the reader makes it reopen
    /// the journal and go on after the last entry it returned.
    package func next(into entry: inout JournalEntry) throws(JournalError) -> Bool {
        while true {
            // A fault absorbed since the last read may have left zeros where the journal was:
            // whatever the library says next is suspect, so start over from the last good entry.
            if Journal.absorbedFaults != faultsSeen {
                counters.recordReadError(.sigbus)
                try reopen()
            }
            do {
                if currentIsUnread {
                    currentIsUnread = false
                } else if try !journal.next() {
                    consecutiveErrors = 0
                    return false
                }
                try journal.read(into: &entry)
            } catch where error.isCorruption {
                counters.recordReadError(.badMessage)
                consecutiveErrors += 1
                // libsystemd moves past a bad entry on the next call. If it keeps failing, hand
                // the error to the owner, which waits, reopens, and skips the region if it must;
                // never a hot loop here.
                if consecutiveErrors >= 64 {
                    consecutiveErrors = 0
                    throw error
                }
                continue
            }
            if Journal.absorbedFaults != faultsSeen { continue }  // reopened at the top
            consecutiveErrors = 0
            lastCursorBytes.removeAll(keepingCapacity: true)
            lastCursorBytes.append(contentsOf: entry.cursorBytes)
            return true
        }
    }

    /// Waits up to `microseconds` for new entries; picks up files added to a multi-directory
    /// source, which sd-journal does not watch for us.
    package func wait(microseconds: UInt64) throws(JournalError) {
        let change = try journal.wait(microseconds: microseconds)
        if case .directories(let paths) = selection.source, paths.count > 1, change != .appended,
           Journal.journalFiles(in: paths) != openedFiles {
            try reopen()
        }
    }

    /// Closes and reopens the journal, positioned after the last entry returned.
    private func reopen() throws(JournalError) {
        faultsSeen = Journal.absorbedFaults
        consecutiveErrors = 0
        currentIsUnread = false
        (journal, openedFiles) = try Self.open(selection)
        try position(after: lastCursor)
    }
}
