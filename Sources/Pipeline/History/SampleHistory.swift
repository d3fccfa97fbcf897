import Synchronization

/// The daemon's recent past: every series it exposed, one reading per evaluation step, for a
/// bounded time, so that alert rules can take rates and `*_over_time` over it.
///
/// Readings are *rounds*: each `record(_:at:)` is one round at one timestamp, as one scrape is
/// for Prometheus. A series missing from a round gets a stale marker there, as Prometheus writes
/// one for a series that disappears from a scrape, so an instant selector stops returning it at
/// once instead of five minutes later. A series whose last reading has left the window is
/// forgotten.
///
/// Memory: the round timestamps are kept once, so a series costs one 8-byte value per round of
/// the window (`retention / step + 1` rounds: 241 for the default hour at 15 s, 1.9 KiB per
/// series) plus its name and labels. `approximateBytes` adds it up.
public final class SampleHistory: Sendable {
    /// A series as rule evaluation sees it: its name, its labels (sorted by name, without
    /// `__name__`), and its handle for reading points.
    public struct Series: Sendable, Equatable {
        /// The metric name, with a histogram's or summary's suffix (`x_bucket`, `x_sum`, …).
        public var name: String
        /// The labels, sorted by name.
        public var labels: [Label]
        /// Where its values are.
        let slot: Int
    }

    /// The time between rounds the window is sized for, milliseconds.
    public let stepMilliseconds: Int64
    /// How long a reading is kept, milliseconds.
    public let retentionMilliseconds: Int64
    /// Rounds the window holds.
    public let capacity: Int

    private let state: Mutex<State>

    /// A history of `retention` at one round per `step` (both positive; retention at least one
    /// step).
    public init(step: Duration, retention: Duration) {
        precondition(step > .zero && retention >= step, "a history needs a positive step and a retention of at least one step")
        stepMilliseconds = Self.milliseconds(step)
        retentionMilliseconds = Self.milliseconds(retention)
        capacity = Int(retentionMilliseconds / stepMilliseconds) + 1
        state = Mutex(State(capacity: capacity))
    }

    /// Records one round: every sample of `families`, at `timestamp` (milliseconds since the
    /// epoch, later than the previous round's; an earlier or equal one is ignored, as Prometheus
    /// refuses out-of-order samples).
    public func record(_ families: [MetricFamily], at timestamp: Int64) {
        state.withLock { state in
            guard state.rounds == 0 || timestamp > state.timestamps[state.newestSlot] else { return }
            state.rounds += 1
            let round = state.rounds
            let slot = state.newestSlot
            state.timestamps[slot] = timestamp
            for family in families {
                for sample in family.samples {
                    let key = SeriesKey(name: family.name + sample.suffix, labels: sample.labels.sorted())
                    let index: Int
                    if let known = state.index[key] {
                        index = known
                    } else {
                        index = state.add(key)
                    }
                    // A real NaN is kept as the one quiet NaN, so it is never taken for a marker.
                    state.columns[index].values[slot] = sample.value.isNaN ? .nan : sample.value
                    state.columns[index].lastSeen = round
                }
            }
            for index in state.columns.indices where state.columns[index].lastSeen != round {
                if state.columns[index].lastSeen > 0 { state.columns[index].values[slot] = Marker.stale }
            }
            state.forget(olderThan: round - Int64(capacity))
        }
    }

    /// The series (present anywhere in the window) that `predicate` accepts, given the metric
    /// name and the sorted labels.
    public func series(where predicate: (_ name: String, _ labels: [Label]) -> Bool) -> [Series] {
        state.withLock { state in
            state.columns.indices.compactMap { index in
                let column = state.columns[index]
                guard column.lastSeen > 0, predicate(column.key.name, column.key.labels) else { return nil }
                return Series(name: column.key.name, labels: column.key.labels, slot: index)
            }
        }
    }

    /// The points of `series` with timestamps in `from...through`, oldest first, stale markers
    /// left out — what a range selector reads.
    public func points(of series: Series, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)] {
        state.withLock { state in
            guard state.holds(series) else { return [] }
            var points: [(timestamp: Int64, value: Double)] = []
            for round in state.heldRounds {
                let slot = state.slot(of: round)
                let timestamp = state.timestamps[slot]
                guard timestamp >= from, timestamp <= through else { continue }
                let value = state.columns[series.slot].values[slot]
                if !Marker.isMarker(value) { points.append((timestamp, value)) }
            }
            return points
        }
    }

    /// The newest reading of `series` in `from...through`, or nil when there is none or the
    /// newest is a stale marker — what an instant selector reads, with `from` = the evaluation
    /// time minus the lookback.
    public func latest(of series: Series, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)? {
        state.withLock { state in
            guard state.holds(series) else { return nil }
            for round in state.heldRounds.reversed() {
                let slot = state.slot(of: round)
                let timestamp = state.timestamps[slot]
                if timestamp > through { continue }
                guard timestamp >= from else { return nil }
                let value = state.columns[series.slot].values[slot]
                if value.bitPattern == Marker.absent.bitPattern { continue }
                return value.bitPattern == Marker.stale.bitPattern ? nil : (timestamp, value)
            }
            return nil
        }
    }

    /// How many series the window holds.
    public var seriesCount: Int { state.withLock { $0.index.count } }

    /// The memory the history holds, in bytes, roughly: values, timestamps, names and labels.
    public var approximateBytes: Int {
        state.withLock { state in
            var bytes = state.timestamps.count * 8
            for column in state.columns where column.lastSeen > 0 {
                bytes += column.values.count * 8 + 64  // array header and bookkeeping
                bytes += column.key.name.utf8.count + 16
                for label in column.key.labels { bytes += label.name.utf8.count + label.value.utf8.count + 32 }
            }
            return bytes + state.index.count * 48
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// The two values that are not readings, as NaNs with payloads no collector produces.
    private enum Marker {
        /// Prometheus' stale NaN: the series was missing from this round.
        static let stale = Double(bitPattern: 0x7FF0_0000_0000_0002)
        /// Nothing was ever recorded here (the series is newer than this round).
        static let absent = Double(bitPattern: 0x7FF0_0000_0000_0003)

        static func isMarker(_ value: Double) -> Bool {
            value.bitPattern == stale.bitPattern || value.bitPattern == absent.bitPattern
        }
    }

    private struct SeriesKey: Hashable {
        var name: String
        var labels: [Label]
    }

    private struct Column {
        var key: SeriesKey
        var values: [Double]
        /// The round it was last seen in; 0 once forgotten (its slot is then free).
        var lastSeen: Int64
    }

    private struct State {
        let capacity: Int
        var timestamps: [Int64]
        var rounds: Int64 = 0
        var columns: [Column] = []
        var index: [SeriesKey: Int] = [:]
        var freeSlots: [Int] = []

        init(capacity: Int) {
            self.capacity = capacity
            timestamps = Array(repeating: 0, count: capacity)
        }

        /// Whether `series` still names the column it was taken from (a forgotten series' column
        /// may hold another series by now).
        func holds(_ series: Series) -> Bool {
            series.slot < columns.count && columns[series.slot].key == SeriesKey(name: series.name, labels: series.labels)
        }

        /// The slot of the newest round.
        var newestSlot: Int { slot(of: rounds) }

        /// The numbers of the rounds held, oldest first (empty before the first).
        var heldRounds: Range<Int64> { max(1, rounds - Int64(capacity) + 1)..<(rounds + 1) }

        /// Where round `round`'s readings are.
        func slot(of round: Int64) -> Int { Int(round % Int64(capacity)) }

        /// A column for a new series, reusing a forgotten one's storage.
        mutating func add(_ key: SeriesKey) -> Int {
            let column = Column(key: key, values: Array(repeating: Marker.absent, count: capacity), lastSeen: 0)
            let index: Int
            if let free = freeSlots.popLast() {
                columns[free] = column
                index = free
            } else {
                columns.append(column)
                index = columns.count - 1
            }
            self.index[key] = index
            return index
        }

        /// Forgets the series last seen in round `round` or before: all their readings have left
        /// the window.
        mutating func forget(olderThan round: Int64) {
            guard round > 0 else { return }
            for index in columns.indices where columns[index].lastSeen > 0 && columns[index].lastSeen <= round {
                self.index.removeValue(forKey: columns[index].key)
                columns[index].lastSeen = 0
                columns[index].values = []
                columns[index].key = SeriesKey(name: "", labels: [])
                freeSlots.append(index)
            }
        }
    }
}
