import ArgumentParser
import Dispatch
import Collectors
import LookoutSupport
#if canImport(Glibc)
import Glibc
#endif

/// The journal source flags, shared by `lookout journal` and `lookout serve`.
struct JournalFlags: ParsableArguments {
    @Option(name: [.customLong("journal.directory"), .customLong("directory")],
            help: "Read the journal files in this directory instead of the local journal; repeatable.")
    var directories: [String] = []

    @Option(name: [.customLong("journal.file"), .customLong("file")], help: "Read this journal file; repeatable.")
    var files: [String] = []

    @Option(name: [.customLong("journal.match"), .customLong("match")],
            help: "A journalctl match, FIELD=VALUE, or + between alternatives; repeatable.")
    var matches: [String] = []

    @Option(name: [.customLong("journal.unit"), .customLong("unit")],
            help: "Only entries of this unit (sshd means sshd.service); repeatable.")
    var units: [String] = []

    @Option(name: [.customLong("journal.priority"), .customLong("priority")],
            help: "Only entries at least this important: emerg, alert, crit, err, warning, notice, info, debug or 0-7.")
    var priority: String?

    /// The selection these flags describe, on their own.
    func selection() throws(ConfigurationError) -> JournalSelection {
        var selection = JournalSelection()
        try apply(to: &selection)
        return selection
    }

    /// Overrides what these flags set in `selection` (from the configuration file).
    func apply(to selection: inout JournalSelection) throws(ConfigurationError) {
        guard directories.isEmpty || files.isEmpty else {
            throw ConfigurationError(key: "--journal.file", line: nil, message: "cannot be combined with --journal.directory")
        }
        if !directories.isEmpty { selection.source = .directories(directories) }
        if !files.isEmpty { selection.source = .files(files) }
        if !matches.isEmpty {
            for term in matches { _ = try SettingValue.checked(term, flag: "--journal.match", SettingValue.journalMatch) }
            selection.matches = matches
        }
        if !units.isEmpty { selection.units = units }
        if let priority {
            selection.maximumPriority = try SettingValue.checked(priority, flag: "--journal.priority", SettingValue.journalPriority)
        }
    }
}

/// Syslog priority names as journalctl accepts them.
enum JournalPriority {
    /// The accepted words, for error messages.
    static let choices = "emerg, alert, crit, err, warning, notice, info, debug or 0-7"
    private static let names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    /// The number `text` names, or nil.
    static func parse(_ text: String) -> Int? {
        if let number = Int(text), (0...7).contains(number) { return number }
        let aliases = ["panic": 0, "error": 3, "warn": 4]
        return names.firstIndex(of: text.lowercased()) ?? aliases[text.lowercased()]
    }
}

/// Times as journalctl's --since takes them, in UTC: `2026-11-26 10:00:00`, `2026-11-26`,
/// RFC 3339 (`2026-11-26T10:00:00Z`, `…+01:00`), `@1764150000` (Unix seconds), `-1h`, `-2d`, `now`.
enum TimeText {
    /// Microseconds since the epoch for `text`, relative forms counted back from `now`.
    static func parse(_ text: String, now: Int64) -> Int64? {
        if text == "now" { return now }
        if text.hasPrefix("@"), let seconds = Double(text.dropFirst()), seconds.isFinite, seconds >= 0 {
            return Int64(seconds * 1e6)
        }
        if text.hasPrefix("-") {
            let body = text.dropFirst()
            if body.hasSuffix("d"), let days = Double(body.dropLast()), days.isFinite, days >= 0 {
                return now - Int64(days * 86_400e6)
            }
            if let duration = DurationText.parse(String(body)) {
                return now - duration.components.seconds * 1_000_000 - duration.components.attoseconds / 1_000_000_000_000
            }
            return nil
        }
        return CivilTime.parseMicroseconds(text)
    }
}

/// `lookout journal`: prints journal entries as the NDJSON documents `lookout serve` ships.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Print journal entries as the JSON documents Lookout ships, one per line.",
        discussion: """
            ECS names where ECS has one (@timestamp, message, log.level, host.name, process.pid, \
            systemd.unit, ...), every other field under journald.* with its journal name; values \
            that are not UTF-8 are base64 and listed in journald.base64. See the README for the table.
            """)

    @OptionGroup var source: JournalFlags

    @Option(help: "Start at this time instead of the oldest entry (see --help of serve for the forms).")
    var since: String?

    @Option(name: .customLong("after-cursor"), help: "Start after the entry with this cursor.")
    var afterCursor: String?

    @Flag(help: "Keep running and print new entries as they arrive.")
    var follow = false

    func run() throws {
        let selection: JournalSelection
        var start = JournalStart.head
        do throws(ConfigurationError) {
            selection = try source.selection()
            if let since {
                guard let time = TimeText.parse(since, now: CivilTime.nowMicroseconds()), time >= 0 else {
                    throw ConfigurationError(key: "--since", line: nil, message: "'\(since)' is not a time")
                }
                start = .since(UInt64(time))
            }
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }

        let counters = JournalCounters()
        let reader: JournalReader
        do {
            reader = try JournalReader(selection: selection, start: start, after: afterCursor, counters: counters)
        } catch {
            printError(error.description)
            throw ExitCode.failure
        }
        // Reading (libsystemd) and encoding run on two threads: each is about half the work.
        let relay = EntryRelay(reader: reader, follow: follow)
        var encoder = JournalDocumentEncoder()
        var output: [UInt8] = []
        output.reserveCapacity(1 << 20)
        var faultsReported = Journal.absorbedFaults
        do {
            try relay.run { entries, caughtUp in
                if Journal.absorbedFaults != faultsReported {
                    faultsReported = Journal.absorbedFaults
                    printWarning("a journal file was truncated while being read (SIGBUS); reopened after the last entry read")
                }
                for entry in entries {
                    _ = encoder.encode(entry, into: &output, identify: false)
                    output.append(UInt8(ascii: "\n"))
                    if output.count >= 1 << 20 { try StandardOutput.write(&output) }
                }
                if caughtUp { try StandardOutput.write(&output) }
            }
            try StandardOutput.write(&output)
        } catch {
            throw ExitCode.failure  // stdout closed: the reader of our output is gone
        }
        if let error = relay.failure {
            printError(error.description)
            throw ExitCode.failure
        }
    }
}

/// Hands entries from a reading thread to the calling thread in chunks, through a small ring of
/// reusable chunks (their entries keep their buffers, so the steady state allocates nothing).
///
/// The two semaphores order every access to a slot: the reader writes a slot only between
/// `free.wait()` and `filled.signal()`, the consumer reads it only between `filled.wait()` and
/// `free.signal()`.
final class EntryRelay: @unchecked Sendable {
    private static let slotCount = 4
    private static let chunkSize = 256
    private let reader: JournalReader
    private let follow: Bool
    private var slots: [[JournalEntry]]
    private var counts: [Int]
    private var finished: [Bool]
    private let free = DispatchSemaphore(value: 0)
    private let filled = DispatchSemaphore(value: 0)
    /// The error that ended reading, if one did; read it after ``run(_:)`` returns.
    private(set) var failure: JournalError?

    /// A relay for `reader`; with `follow` it keeps waiting for new entries.
    init(reader: JournalReader, follow: Bool) {
        self.reader = reader
        self.follow = follow
        slots = Array(repeating: Array(repeating: JournalEntry(), count: Self.chunkSize), count: Self.slotCount)
        counts = Array(repeating: 0, count: Self.slotCount)
        finished = Array(repeating: false, count: Self.slotCount)
        for _ in 0..<Self.slotCount { free.signal() }
    }

    /// Reads on a thread of its own and calls `consume` on this one with each chunk and whether
    /// the reader had caught up with the journal (time to flush output), until the journal ends
    /// (without `follow`), reading fails, or `consume` throws.
    func run(_ consume: (ArraySlice<JournalEntry>, _ caughtUp: Bool) throws -> Void) rethrows {
        DispatchQueue(label: "lookout.journal.read").async { [self] in fill() }
        var slot = 0
        while true {
            filled.wait()
            let isLast = finished[slot]
            let caughtUp = isLast || counts[slot] < Self.chunkSize
            try consume(slots[slot][0..<counts[slot]], caughtUp)
            free.signal()
            if isLast { return }
            slot = (slot + 1) % Self.slotCount
        }
    }

    private func fill() {
        var slot = 0
        while true {
            free.wait()
            var count = 0
            var last = false
            do {
                while count < Self.chunkSize, try reader.next(into: &slots[slot][count]) { count += 1 }
                if count == 0 && follow {
                    try reader.wait(microseconds: 1_000_000)
                    free.signal()  // nothing to hand over yet: keep the slot
                    continue
                }
                last = count < Self.chunkSize && !follow
            } catch {
                failure = error
                last = true
            }
            counts[slot] = count
            finished[slot] = last
            filled.signal()
            if last { return }
            slot = (slot + 1) % Self.slotCount
        }
    }
}

/// Standard output written in large blocks, bypassing stdio's buffering.
enum StandardOutput {
    /// Standard output could not be written (closed pipe, full disk).
    struct Closed: Error {}

    /// Writes and empties `buffer`.
    static func write(_ buffer: inout [UInt8]) throws {
        var written = 0
        try buffer.withUnsafeBytes { bytes in
            while written < bytes.count {
                let result = Glibc.write(1, bytes.baseAddress! + written, bytes.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw Closed()
                }
                written += result
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
