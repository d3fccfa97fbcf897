import ArgumentParser
import Dispatch
import Collectors
import LookoutSupport
#if canImport(Glibc)
import Glibc
#endif

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

    // `-1h` is a value here, not a cluster of short flags.
    @Option(parsing: .unconditional, help: "Start at this time instead of the oldest entry (see --help of serve for the forms).")
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
            throw ExitCode(error.exitCode)
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
