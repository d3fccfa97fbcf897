import MetricModel

/// Where a PromQL evaluation reads series: the series whose name and labels a selector accepts,
/// their points in a time range (a range selector) and their newest point before a time (an
/// instant selector). ``SampleHistory`` is one; ``SeriesStore`` (rule unit tests, recorded
/// series) another; ``CombinedSeriesSource`` reads two as one.
///
/// A handle names a series to the source between `selectSeries` and reading it, within one
/// evaluation; the source must not change in between. Points never include stale markers: a
/// source leaves them out of ``points(of:from:through:)`` and answers nil from
/// ``latest(of:from:through:)`` when the newest point is one.
package protocol PromQLSeriesSource {
    /// The series `predicate` accepts, given the metric name and the labels sorted by name
    /// (without `__name__`); only those called `name` when it is given (most selectors name
    /// one, and a source indexes by name).
    func selectSeries(named name: String?, where predicate: (_ name: String, _ labels: [Label]) -> Bool)
        -> [(name: String, labels: [Label], handle: Int)]

    /// The points of a series with timestamps in `from...through` (milliseconds), oldest first.
    func points(of handle: Int, from: Int64, through: Int64) -> [(timestamp: Int64, value: Double)]

    /// The newest point of a series in `from...through`, or nil when there is none or the newest
    /// is a stale marker.
    func latest(of handle: Int, from: Int64, through: Int64) -> (timestamp: Int64, value: Double)?
}

/// One sample of an instant vector: its labels, sorted by name, with `__name__` among them while
/// the series keeps its metric name, and its value.
package struct PromQLSample: Sendable, Equatable {
    /// The labels, sorted by name; `__name__` holds the metric name.
    package var labels: [Label]
    /// The value.
    package var value: Double
    /// When the value was read (milliseconds): the point's own time for a selector, the
    /// evaluation time for anything computed. Only `timestamp()` looks at it.
    var timestamp: Int64

    /// A sample of `labels` (sorted by name) with `value`.
    package init(labels: [Label], value: Double) {
        self.labels = labels
        self.value = value
        timestamp = 0
    }

    init(labels: [Label], value: Double, timestamp: Int64) {
        self.labels = labels
        self.value = value
        self.timestamp = timestamp
    }

    /// Same labels and the same value, NaN equal to NaN (as a test expects it).
    package static func == (left: PromQLSample, right: PromQLSample) -> Bool {
        left.labels == right.labels && (left.value == right.value || (left.value.isNaN && right.value.isNaN))
    }
}

/// What an expression evaluates to at one instant: a scalar or an instant vector (the only two
/// results a rule or a gate check can use).
package enum PromQLResult: Sendable, Equatable {
    /// One number.
    case scalar(Double)
    /// Samples, one per series.
    case vector([PromQLSample])

    /// The result as samples: a scalar becomes one sample without labels, as promtool and the
    /// rule manager treat it.
    package var samples: [PromQLSample] {
        switch self {
        case .scalar(let value): return [PromQLSample(labels: [], value: value)]
        case .vector(let samples): return samples
        }
    }
}

/// A series of a range vector: labels and the points of the range, oldest first.
struct PromQLRangeSeries {
    var labels: [Label]
    var points: [(timestamp: Int64, value: Double)]
}

/// Any value during evaluation.
enum PromQLValue {
    case scalar(Double)
    case string(String)
    case vector([PromQLSample])
    case matrix([PromQLRangeSeries])
}

/// Why an expression could not be evaluated, in Prometheus' words
/// (`vector cannot contain metrics with the same labelset`).
package struct PromQLEvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    package var message: String
    /// Whether the query ran out of time (Prometheus answers `503` `timeout`, not `422`).
    package var isTimeout = false

    /// An error saying `message`.
    package init(_ message: String) { self.message = message }

    /// Prometheus' `ErrQueryTimeout` for the stage `stage`: `query timed out in STAGE`.
    package static func timedOut(in stage: String) -> PromQLEvaluationError {
        var error = PromQLEvaluationError("query timed out in \(stage)")
        error.isTimeout = true
        return error
    }

    /// The problem as one line.
    package var description: String { message }
}

/// A label set as a dictionary key: the labels, and a hash of their bytes (FNV-1a) computed
/// once, so that a lookup feeds the hasher eight bytes instead of every name and value. The
/// evaluator keys its groups, matching signatures and duplicate checks by these.
struct LabelSetKey: Hashable {
    let labels: [Label]
    private let fingerprint: UInt64

    init(_ labels: [Label]) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for label in labels {
            for byte in label.name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3
            for byte in label.value.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash = (hash ^ 0xFE) &* 0x0000_0100_0000_01B3
        }
        self.labels = labels
        fingerprint = hash
    }

    func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    static func == (left: LabelSetKey, right: LabelSetKey) -> Bool {
        left.fingerprint == right.fingerprint && left.labels == right.labels
    }
}

/// The label that holds a series' metric name.
let metricNameLabel = "__name__"

extension Array where Element == Label {
    /// The value of the label called `name`, or "" when there is none (Prometheus does not tell
    /// an absent label from an empty one).
    func value(of name: String) -> String {
        first { $0.name == name }?.value ?? ""
    }

    /// The labels without `__name__`.
    package var droppingMetricName: [Label] { filter { $0.name != metricNameLabel } }

    /// The labels whose names `names` holds (`keep`) or does not hold.
    func filtered(keeping names: Set<String>) -> [Label] { filter { names.contains($0.name) } }

    /// The labels without those named in `names`.
    func removing(_ names: Set<String>) -> [Label] { filter { !names.contains($0.name) } }

    /// The labels with `name` set to `value`, kept sorted; an empty value removes the label.
    package func setting(_ name: String, to value: String) -> [Label] {
        var labels = filter { $0.name != name }
        guard !value.isEmpty else { return labels }
        let index = labels.firstIndex { $0.name > name } ?? labels.endIndex
        labels.insert(Label(name, value), at: index)
        return labels
    }

    /// The labels as Prometheus prints a label set: `{a="1", b="2"}`.
    package var promQLDescription: String {
        "{" + map { "\($0.name)=\(quotedPromQLString($0.value))" }.joined(separator: ", ") + "}"
    }
}
