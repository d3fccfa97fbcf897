import Synchronization
import MetricModel
import PromQL

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
package final class SampleHistory: Sendable {
    /// A series as rule evaluation sees it: its name, its labels (sorted by name, without
    /// `__name__`), and its handle for reading points.
    package struct Series: Sendable, Equatable {
        /// The metric name, with a histogram's or summary's suffix (`x_bucket`, `x_sum`, …).
        package var name: String
        /// The labels, sorted by name.
        package var labels: [Label]
        /// Where its values are.
        let slot: Int
    }

    /// The time between rounds the window is sized for, milliseconds.
    package let stepMilliseconds: Int64
    /// How long a reading is kept, milliseconds.
    package let retentionMilliseconds: Int64
    /// Rounds the window holds.
    package let capacity: Int

    private let state: Mutex<State>

    /// A history of `retention` at one round per `step` (both positive; retention at least one
    /// step).
    package init(step: Duration, retention: Duration) {
        precondition(step > .zero && retention >= step, "a history needs a positive step and a retention of at least one step")
        stepMilliseconds = step.milliseconds
        retentionMilliseconds = retention.milliseconds
        capacity = Int(retentionMilliseconds / stepMilliseconds) + 1
        state = Mutex(State(capacity: capacity))
    }

    /// Records one round: every sample of `families`, at `timestamp` (milliseconds since the
    /// epoch, later than the previous round's; an earlier or equal one is ignored, as Prometheus
    /// refuses out-of-order samples).
    /// `extraLabels` (the same every round) are added to every sample that lacks a label of
    /// their name: the rule engine's `job` and `instance`, as a Prometheus scrape adds them.
    package func record(_ families: [MetricFamily], at timestamp: Int64, adding extraLabels: [Label] = []) {
        state.withLock { state in
            guard state.rounds == 0 || timestamp > state.timestamps[state.newestSlot] else { return }
            state.rounds += 1
            let round = state.rounds
            let slot = state.newestSlot
            state.timestamps[slot] = timestamp
            for family in families {
                // Collectors give a family's samples in the same order round after round: the
                // columns of last round's samples, checked against each sample as it comes, spare
                // sorting and hashing its labels.
                let previous = state.layout[family.name] ?? []
                var layout: [Int] = []
                layout.reserveCapacity(family.samples.count)
                for (position, sample) in family.samples.enumerated() {
                    let index: Int
                    if position < previous.count, state.columns[previous[position]].matches(sample, of: family.name) {
                        index = previous[position]
                    } else {
                        var labels = sample.labels
                        for extra in extraLabels where !labels.contains(where: { $0.name == extra.name }) { labels.append(extra) }
                        let key = SeriesKey(name: family.name + sample.suffix, labels: labels.sorted())
                        index = state.index[key] ?? state.add(key)
                        state.columns[index].suffix = sample.suffix
                        state.columns[index].rawLabels = sample.labels
                    }
                    layout.append(index)
                    // A real NaN is kept as the one quiet NaN, so it is never taken for a marker.
                    state.columns[index].values[slot] = sample.value.isNaN ? .nan : sample.value
                    state.columns[index].lastSeen = round
                }
                state.layout[family.name] = layout
            }
            for index in state.columns.indices where state.columns[index].lastSeen != round {
                if state.columns[index].lastSeen > 0 { state.columns[index].values[slot] = Marker.stale }
            }
            state.forget(olderThan: round - Int64(capacity))
        }
    }

    /// The series (present anywhere in the window) that `predicate` accepts, given the metric
    /// name and the sorted labels; only those called `name` when it is given.
    package func series(named name: String? = nil, where predicate: (_ name: String, _ labels: [Label]) -> Bool) -> [Series] {
        state.withLock { state in
            let candidates: [Int] = name.map { state.byName[$0] ?? [] } ?? Array(state.columns.indices)
            return candidates.compactMap { index in
                guard state.columns[index].lastSeen > 0, predicate(state.columns[index].key.name, state.columns[index].key.labels) else { return nil }
                return Series(name: state.columns[index].key.name, labels: state.columns[index].key.labels, slot: index)
            }
        }
    }

    /// The points of `series` with timestamps in `from...through`, oldest first, stale markers
    /// left out — what a range selector reads.
    package func points(of series: Series, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)] {
        state.withLock { state in state.holds(series) } ? points(of: series.slot, from: from, through: through) : []
    }

    /// The points of the series in `slot` (a handle from ``selectSeries(named:where:)``).
    package func points(of slot: Int, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)] {
        state.withLock { state in
            guard slot < state.columns.count, state.columns[slot].lastSeen > 0 else { return [] }
            var points: [(timestamp: Int64, value: Double)] = []
            let rounds = state.rounds(from: from, through: through)
            points.reserveCapacity(rounds.count)
            state.columns[slot].values.withUnsafeBufferPointer { values in
                for round in rounds {
                    let position = state.slot(of: round)
                    let value = values[position]
                    if !Marker.isMarker(value) { points.append((state.timestamps[position], value)) }
                }
            }
            return points
        }
    }

    /// The newest reading of `series` in `from...through`, or nil when there is none or the
    /// newest is a stale marker — what an instant selector reads, with `from` = the evaluation
    /// time minus the lookback.
    package func latest(of series: Series, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)? {
        state.withLock { state in state.holds(series) } ? latest(of: series.slot, from: from, through: through) : nil
    }

    /// The newest reading of the series in `slot` (a handle from ``selectSeries(named:where:)``).
    package func latest(of slot: Int, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)? {
        state.withLock { state in
            guard slot < state.columns.count, state.columns[slot].lastSeen > 0 else { return nil }
            for round in state.rounds(from: from, through: through).reversed() {
                let position = state.slot(of: round)
                let timestamp = state.timestamps[position]
                let value = state.columns[slot].values[position]
                if value.bitPattern == Marker.absent.bitPattern { continue }
                return value.bitPattern == Marker.stale.bitPattern ? nil : (timestamp, value)
            }
            return nil
        }
    }

    /// How many series the window holds.
    package var seriesCount: Int { state.withLock { $0.index.count } }

    /// The memory the history holds, in bytes, roughly: values, timestamps, names and labels.
    package var approximateBytes: Int {
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
        /// The sample's name suffix and labels as the collector gave them (unsorted).
        var suffix = ""
        var rawLabels: [Label] = []

        /// Whether `sample` of the family `family` is this column's series.
        func matches(_ sample: Sample, of family: String) -> Bool {
            lastSeen > 0 && sample.suffix == suffix && sample.labels == rawLabels && key.name.hasPrefix(family)
                && key.name.utf8.count == family.utf8.count + suffix.utf8.count
        }
    }

    private struct State {
        let capacity: Int
        var timestamps: [Int64]
        var rounds: Int64 = 0
        var columns: [Column] = []
        var index: [SeriesKey: Int] = [:]
        /// The columns of each metric name, for selectors that name one.
        var byName: [String: [Int]] = [:]
        /// The columns of each family's samples in last round's order.
        var layout: [String: [Int]] = [:]
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

        /// The held rounds with timestamps in `from...through`, found by binary search (round
        /// timestamps only grow).
        func rounds(from: Int64, through: Int64) -> Range<Int64> {
            let held = heldRounds
            func firstRound(where isAfter: (Int64) -> Bool) -> Int64 {
                var low = held.lowerBound, high = held.upperBound
                while low < high {
                    let middle = (low + high) / 2
                    if isAfter(timestamps[slot(of: middle)]) { high = middle } else { low = middle + 1 }
                }
                return low
            }
            let start = firstRound { $0 >= from }
            let end = firstRound { $0 > through }
            return start..<max(start, end)
        }

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
            byName[key.name, default: []].append(index)
            return index
        }

        /// Forgets the series last seen in round `round` or before: all their readings have left
        /// the window.
        mutating func forget(olderThan round: Int64) {
            guard round > 0 else { return }
            for index in columns.indices where columns[index].lastSeen > 0 && columns[index].lastSeen <= round {
                self.index.removeValue(forKey: columns[index].key)
                byName[columns[index].key.name]?.removeAll { $0 == index }
                if byName[columns[index].key.name]?.isEmpty == true { byName[columns[index].key.name] = nil }
                columns[index].lastSeen = 0
                columns[index].values = []
                columns[index].key = SeriesKey(name: "", labels: [])
                freeSlots.append(index)
            }
        }
    }
}

extension SampleHistory: PromQLSeriesSource {
    /// The series `predicate` accepts; their handles are their slots, good until the next
    /// ``record(_:at:)`` (the rule engine never records while it evaluates).
    package func selectSeries(named name: String?, where predicate: (_ name: String, _ labels: [Label]) -> Bool)
        -> [(name: String, labels: [Label], handle: Int)]
    {
        series(named: name, where: predicate).map { ($0.name, $0.labels, $0.slot) }
    }
}
