import MetricModel
import PromQL

/// Series with points at any times: the input series of a rule unit test, and the series rules
/// record (and `ALERTS`) in the daemon, which do not come in rounds like the history's.
///
/// A stale marker is kept as a point, so that an instant selector stops at it; range selectors
/// skip it. A reference, so that a source combining it with the history sees what rules add
/// while they are evaluated. Not thread-safe: one rule manager or one test owns a store.
package final class SeriesStore: PromQLSeriesSource {
    private struct Key: Hashable {
        var name: String
        var labels: [Label]
    }

    private var keys: [Key] = []
    private var points: [[(timestamp: Int64, value: Double)]] = []
    private var index: [Key: Int] = [:]
    private var byName: [String: [Int]] = [:]

    /// Prometheus' stale marker, a NaN no arithmetic produces.
    package static let staleMarker = Double(bitPattern: 0x7FF0_0000_0000_0002)

    /// Whether `value` is the stale marker (not any NaN).
    static func isStaleMarker(_ value: Double) -> Bool { value.bitPattern == staleMarker.bitPattern }

    /// An empty store.
    package init() {}

    /// A copy that later changes to this store do not reach (the arrays are copied on write,
    /// so taking one costs little), for reading without holding the owner's lock.
    package func snapshot() -> SeriesStore {
        let copy = SeriesStore()
        copy.keys = keys
        copy.points = points
        copy.index = index
        copy.byName = byName
        return copy
    }

    /// Adds a point (or a stale marker) to the series `name` with `labels` (sorted by name,
    /// without `__name__`). A point at a time the series already has replaces it.
    package func append(name: String, labels: [Label], timestamp: Int64, value: Double) {
        let key = Key(name: name, labels: labels)
        let slot: Int
        if let known = index[key] {
            slot = known
        } else {
            slot = keys.count
            keys.append(key)
            points.append([])
            index[key] = slot
            byName[name, default: []].append(slot)
        }
        // A real NaN is kept as the one quiet NaN, so it is never taken for a marker.
        let stored = value.isNaN && !Self.isStaleMarker(value) ? Double.nan : value
        if let last = points[slot].last, last.timestamp >= timestamp {
            let position = points[slot].firstIndex { $0.timestamp >= timestamp }!
            if points[slot][position].timestamp == timestamp {
                points[slot][position].value = stored
            } else {
                points[slot].insert((timestamp, stored), at: position)
            }
        } else {
            points[slot].append((timestamp, stored))
        }
    }

    /// Drops every point older than `timestamp`, and series left without points.
    package func forget(before timestamp: Int64) {
        var emptied = false
        for slot in points.indices {
            guard let first = points[slot].first, first.timestamp < timestamp else { continue }
            let keep = firstIndex(in: points[slot], atOrAfter: timestamp)
            points[slot].removeFirst(keep)
            emptied = emptied || points[slot].isEmpty
        }
        guard emptied else { return }
        // Renumber what is left; handles given out before are not used across a forget.
        let kept = points.indices.filter { !points[$0].isEmpty }
        keys = kept.map { keys[$0] }
        points = kept.map { points[$0] }
        index = [:]
        byName = [:]
        for (slot, key) in keys.enumerated() {
            index[key] = slot
            byName[key.name, default: []].append(slot)
        }
    }

    /// How many series the store holds.
    package var seriesCount: Int { keys.count }

    /// The series `predicate` accepts (of `name` only, when given), with their handles.
    package func selectSeries(named name: String?, where predicate: (_ name: String, _ labels: [Label]) -> Bool)
        -> [(name: String, labels: [Label], handle: Int)]
    {
        let candidates = name.map { byName[$0] ?? [] } ?? Array(keys.indices)
        return candidates.compactMap { slot in
            predicate(keys[slot].name, keys[slot].labels) ? (keys[slot].name, keys[slot].labels, slot) : nil
        }
    }

    /// The points of a series in `from...through`, stale markers left out.
    package func points(of handle: Int, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)] {
        let all = points[handle]
        let start = firstIndex(in: all, atOrAfter: from)
        var result: [(timestamp: Int64, value: Double)] = []
        var position = start
        while position < all.count, all[position].timestamp <= through {
            if !Self.isStaleMarker(all[position].value) { result.append(all[position]) }
            position += 1
        }
        return result
    }

    /// The newest point of a series in `from...through`; nil when none or a stale marker.
    package func latest(of handle: Int, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)? {
        let all = points[handle]
        let after = firstIndex(in: all, atOrAfter: through + 1)
        guard after > 0 else { return nil }
        let point = all[after - 1]
        guard point.timestamp >= from, !Self.isStaleMarker(point.value) else { return nil }
        return point
    }

    /// The first position whose timestamp is `timestamp` or later (binary search).
    private func firstIndex(in points: [(timestamp: Int64, value: Double)], atOrAfter timestamp: Int64) -> Int {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// Two sources read as one: the daemon's history and the series its rules recorded. The second
/// source's handles are told apart by being negative.
package struct CombinedSeriesSource: PromQLSeriesSource {
    /// The first source.
    package let first: any PromQLSeriesSource
    /// The second source.
    package let second: any PromQLSeriesSource

    /// Both sources, read as one.
    package init(_ first: any PromQLSeriesSource, _ second: any PromQLSeriesSource) {
        self.first = first
        self.second = second
    }

    /// The series `predicate` accepts (of `name` only, when given), with their handles.
    package func selectSeries(named name: String?, where predicate: (_ name: String, _ labels: [Label]) -> Bool)
        -> [(name: String, labels: [Label], handle: Int)]
    {
        first.selectSeries(named: name, where: predicate)
            + second.selectSeries(named: name, where: predicate).map { ($0.name, $0.labels, -1 - $0.handle) }
    }

    /// The points of a series in `from...through`, stale markers left out.
    package func points(of handle: Int, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)] {
        handle >= 0 ? first.points(of: handle, from: from, through: through) : second.points(of: -1 - handle, from: from, through: through)
    }

    /// The newest point of a series in `from...through`; nil when none or a stale marker.
    package func latest(of handle: Int, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)? {
        handle >= 0 ? first.latest(of: handle, from: from, through: through) : second.latest(of: -1 - handle, from: from, through: through)
    }
}
