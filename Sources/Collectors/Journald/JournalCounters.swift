import MetricModel
import Synchronization

/// What the journal reader has seen, as metrics; fed whether or not shipping is on.
///
/// Families: `lookout_journal_entries_total{unit,priority}`, `lookout_journal_entries_lost_total`,
/// `lookout_journal_read_errors_total{error_type}`, `lookout_journal_binary_fields_total`,
/// `lookout_journal_lag_seconds` and `lookout_journal_unacknowledged_entries`.
package final class JournalCounters: MetricCollector {
    /// The collector name (`--collector.journal` shows these families).
    package let name = "journal"
    /// How many units get their own `unit` label; entries of later units count as `other`.
    package let maximumUnits: Int
    private let errors: ComponentErrors

    private struct State {
        var unitIndex: [UInt64: Int] = [:]
        var unitNames: [String] = []
        /// entries[unit][priority 0–7, 8 = none]
        var entries: [[UInt64]] = []
        var other = [UInt64](repeating: 0, count: 9)
        var noUnit = [UInt64](repeating: 0, count: 9)
        var lost: UInt64 = 0
        // Every kind the reader counts, at 0 until it happens (a dashboard shows 0, not no data).
        var readErrors: [String: UInt64] = Dictionary(
            uniqueKeysWithValues: [ErrorType.badMessage, .sigbus, .readError, .badCursor, .skippedRegion].map { ($0.name, 0) })
        var binaryFields: UInt64 = 0
        var newest: UInt64 = 0
        var acknowledged: UInt64 = 0
        /// The receive time of the first entry read since start.
        var firstRead: UInt64 = 0
        var read: UInt64 = 0
        var acknowledgedCount: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates empty counters; `errors` also receives every read error (component `journal`).
    package init(maximumUnits: Int = 100, errors: ComponentErrors = ComponentErrors()) {
        self.maximumUnits = maximumUnits
        self.errors = errors
    }

    /// Counts one entry read, with its `_SYSTEMD_UNIT` bytes (nil when it has none) and
    /// PRIORITY, its receive time, and how many of its fields were not UTF-8.
    func recordEntry(unit: UnsafeRawBufferPointer?, priority: Int?, realtime: UInt64, binaryFields: Int) {
        let slot = priority.map { min(max($0, 0), 7) } ?? 8
        let hash = unit.map { JournalDocumentEncoder.hash($0) }
        state.withLock { state in
            if let unit, let hash {
                if let index = state.unitIndex[hash] {
                    state.entries[index][slot] += 1
                } else if state.unitNames.count < maximumUnits {
                    state.unitIndex[hash] = state.unitNames.count
                    state.unitNames.append(String(decoding: unit, as: UTF8.self))
                    var counts = [UInt64](repeating: 0, count: 9)
                    counts[slot] = 1
                    state.entries.append(counts)
                } else {
                    state.other[slot] += 1
                }
            } else {
                state.noUnit[slot] += 1
            }
            state.binaryFields += UInt64(binaryFields)
            state.newest = max(state.newest, realtime)
            if state.read == 0 { state.firstRead = realtime }
            state.read += 1
        }
    }

    /// Counts entries that were vacuumed before they could be read.
    func recordLost(_ count: UInt64) {
        state.withLock { $0.lost += count }
    }

    /// Counts one read error of a bounded type (`bad_message`, `sigbus`, `read_error`, …).
    func recordReadError(_ type: ErrorType) {
        state.withLock { $0.readErrors[type.name, default: 0] += 1 }
        errors.record(.journal, type)
    }

    /// Notes `count` more entries acknowledged, and the receive time of the newest entry whose
    /// whole prefix now is.
    package func recordAcknowledged(realtime: UInt64, count: Int) {
        state.withLock { state in
            state.acknowledged = max(state.acknowledged, realtime)
            state.acknowledgedCount += UInt64(count)
        }
    }

    /// The families, every one present from the start so dashboards see zeros, not gaps.
    package func collect() -> [MetricFamily] {
        let state = state.withLock { $0 }
        var entrySamples: [Sample] = []
        let labelled = zip(state.unitNames, state.entries).sorted { $0.0 < $1.0 }
            + [("other", state.other), ("", state.noUnit)]
        for (unit, counts) in labelled {
            for (slot, count) in counts.enumerated() where count > 0 {
                entrySamples.append(Sample(
                    labels: [Label("priority", slot == 8 ? "" : String(slot)), Label("unit", unit)], value: Double(count)))
            }
        }
        // Until something is acknowledged (Elasticsearch down since start), the first entry read
        // stands in for the newest acknowledged one, so that the lag shows the backlog's span.
        let baseline = state.acknowledged > 0 ? state.acknowledged : state.firstRead
        let lag = state.newest > baseline && state.read > state.acknowledgedCount ? Double(state.newest - baseline) / 1e6 : 0
        return [
            MetricFamily(name: "lookout_journal_entries_total", help: "Journal entries read, by unit and priority.",
                         type: .counter, samples: entrySamples),
            MetricFamily(name: "lookout_journal_entries_lost_total",
                         help: "Journal entries vacuumed or rotated away before Lookout read them.",
                         type: .counter, samples: [Sample(labels: [], value: Double(state.lost))]),
            MetricFamily(name: "lookout_journal_read_errors_total",
                         help: "Journal read errors: corrupt entries skipped, truncated files reopened.",
                         type: .counter,
                         samples: state.readErrors.sorted { $0.key < $1.key }.map {
                             Sample(labels: [Label("error_type", $0.key)], value: Double($0.value))
                         }),
            MetricFamily(name: "lookout_journal_binary_fields_total",
                         help: "Journal field values that were not valid UTF-8, shipped as base64.",
                         type: .counter, samples: [Sample(labels: [], value: Double(state.binaryFields))]),
            MetricFamily(name: "lookout_journal_lag_seconds",
                         help: "Receive time of the newest entry read minus that of the newest entry acknowledged.",
                         type: .gauge, samples: [Sample(labels: [], value: lag)]),
            MetricFamily(name: "lookout_journal_unacknowledged_entries",
                         help: "Journal entries read and not yet acknowledged by Elasticsearch (or, without shipping, handled).",
                         type: .gauge, samples: [Sample(labels: [], value: Double(state.read - state.acknowledgedCount))]),
        ]
    }
}
