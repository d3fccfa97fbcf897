import MetricModel

/// A PromQL expression ready to be evaluated again and again: parsed and type-checked, its
/// selectors' regular expressions compiled. Evaluation follows Prometheus 2.42 (`promql/engine.go`,
/// `functions.go`, `quantile.go`), the version promtool's cross-check runs: instant selectors look
/// back 5 minutes (a point exactly 5 minutes old still counts) and stop at a stale marker; range
/// selectors take the points of `[t - range, t]`, both ends included.
package final class PromQLQuery: Sendable {
    /// How far back an instant selector looks for a point (Prometheus' `--query.lookback-delta`).
    static let lookbackMilliseconds: Int64 = 5 * 60_000

    /// The expression.
    package let expression: PromQLExpression
    /// The selectors' matchers, by selector; immutable, so evaluations may run concurrently.
    private let matchers: [PromQLSelector: PromQLSelectorMatcher]

    /// A query of `expression`. Throws when a regular expression in a selector cannot be compiled.
    package init(_ expression: PromQLExpression) throws(PromQLEvaluationError) {
        var matchers: [PromQLSelector: PromQLSelectorMatcher] = [:]
        try Self.collectSelectors(expression, into: &matchers)
        self.expression = expression
        self.matchers = matchers
    }

    /// Evaluates the expression at `time` (milliseconds since the epoch) over `source`. The
    /// result is a scalar or an instant vector; a string literal at the top is refused.
    package func evaluate(
        at time: Int64, in source: some PromQLSeriesSource, sharing cache: PromQLEvaluationCache? = nil, limits: PromQLLimits? = nil
    ) throws(PromQLEvaluationError) -> PromQLResult {
        let evaluation = PromQLEvaluation(source: source, time: time, matchers: matchers,
                                          cache: cache.flatMap { $0.time == time ? $0 : nil }, limits: limits)
        switch try evaluation.evaluate(expression) {
        case .scalar(let value): return .scalar(value)
        case .vector(let samples): return .vector(samples)
        case .string, .matrix: throw PromQLEvaluationError("expression must evaluate to a scalar or an instant vector")
        }
    }

    private static func collectSelectors(_ expression: PromQLExpression, into matchers: inout [PromQLSelector: PromQLSelectorMatcher])
        throws(PromQLEvaluationError)
    {
        switch expression {
        case .number, .string: break
        case .vectorSelector(let selector), .rangeSelector(let selector, _):
            if matchers[selector] == nil { matchers[selector] = try PromQLSelectorMatcher(selector) }
        case .call(_, let arguments):
            for argument in arguments { try collectSelectors(argument, into: &matchers) }
        case .aggregation(let aggregation):
            if let parameter = aggregation.parameter { try collectSelectors(parameter, into: &matchers) }
            try collectSelectors(aggregation.expression, into: &matchers)
        case .binary(_, let left, let right, _):
            try collectSelectors(left, into: &matchers)
            try collectSelectors(right, into: &matchers)
        case .unary(_, let operand), .parenthesized(let operand):
            try collectSelectors(operand, into: &matchers)
        }
    }
}

/// What the queries evaluated at one time share: the selections and range-function results of
/// series no rule writes, which are the same for every rule of a round (rules repeat selectors
/// like `rate(x_total[5m])` often). Series rules record, and `ALERTS`, change during a round and
/// are never cached. One owner (a rule set) uses a cache at a time.
package final class PromQLEvaluationCache: @unchecked Sendable {
    /// The evaluation time the cached values are for.
    package let time: Int64
    /// Metric names rules write: selections of them are not cached.
    let written: Set<String>
    var values: [PromQLExpression: PromQLValue] = [:]

    /// An empty cache for evaluations at `time`, not caching selections of `written` names.
    package init(time: Int64, written: Set<String>) {
        self.time = time
        self.written = written
    }

    /// Whether `expression`'s value may be cached: a selector of a named metric no rule writes,
    /// or a call whose only series argument is one.
    func admits(_ expression: PromQLExpression) -> Bool {
        switch expression {
        case .vectorSelector(let selector), .rangeSelector(let selector, _):
            guard let name = selector.metricName else { return false }
            return !written.contains(name)
        case .call(let function, let arguments):
            guard function.argumentTypes.contains(.rangeVector) else { return false }
            return arguments.allSatisfy { argument in
                if case .number = argument { return true }
                return admits(argument)
            }
        default:
            return false
        }
    }
}

/// One evaluation of an expression at one instant.
package struct PromQLEvaluation {
    let source: any PromQLSeriesSource
    /// The evaluation time, milliseconds since the epoch.
    let time: Int64
    let matchers: [PromQLSelector: PromQLSelectorMatcher]
    /// Values shared with the other queries evaluated at this time, if any.
    var cache: PromQLEvaluationCache? = nil
    /// What the evaluation may spend, if limited.
    var limits: PromQLLimits? = nil

    func evaluate(_ expression: PromQLExpression) throws(PromQLEvaluationError) -> PromQLValue {
        try limits?.checkTime()
        guard let cache, cache.admits(expression) else { return try evaluateNode(expression) }
        if let known = cache.values[expression] { return known }
        let value = try evaluateNode(expression)
        cache.values[expression] = value
        return value
    }

    private func evaluateNode(_ expression: PromQLExpression) throws(PromQLEvaluationError) -> PromQLValue {
        switch expression {
        case .number(let value): return .scalar(value)
        case .string(let value): return .string(value)
        case .parenthesized(let inner): return try evaluate(inner)
        case .vectorSelector(let selector): return .vector(try instantVector(selector))
        case .rangeSelector(let selector, let range): return .matrix(try rangeVector(selector, range: range))
        case .unary(let negated, let operand):
            let value = try evaluate(operand)
            guard negated else { return value }
            switch value {
            case .scalar(let number): return .scalar(-number)
            case .vector(let samples):
                return .vector(try unique(samples.map { computed($0.labels.droppingMetricName, -$0.value) }))
            default: return value
            }
        case .call(let function, let arguments):
            return try call(function, arguments)
        case .aggregation(let aggregation):
            // One sample per group, or topk's own distinct series: never two of one label set.
            return .vector(try aggregate(aggregation))
        case .binary(let op, let left, let right, let matching):
            return try binary(op, left, right, matching)
        }
    }

    /// A vector computed from others: stamped with the evaluation time.
    func computed(_ labels: [Label], _ value: Double) -> PromQLSample {
        PromQLSample(labels: labels, value: value, timestamp: time)
    }

    /// `samples`, refused as Prometheus refuses a computed vector in which two samples have the
    /// same labels.
    func unique(_ samples: [PromQLSample]) throws(PromQLEvaluationError) -> [PromQLSample] {
        guard samples.count > 1 else { return samples }
        var seen = Set<LabelSetKey>(minimumCapacity: samples.count)
        for sample in samples where !seen.insert(LabelSetKey(sample.labels)).inserted {
            throw PromQLEvaluationError("vector cannot contain metrics with the same labelset")
        }
        return samples
    }

    func scalar(_ expression: PromQLExpression) throws(PromQLEvaluationError) -> Double {
        guard case .scalar(let value) = try evaluate(expression) else { return .nan }
        return value
    }

    func vector(_ expression: PromQLExpression) throws(PromQLEvaluationError) -> [PromQLSample] {
        guard case .vector(let samples) = try evaluate(expression) else { return [] }
        return samples
    }

    // MARK: Selectors

    private func selected(_ selector: PromQLSelector) throws(PromQLEvaluationError) -> [(labels: [Label], handle: Int)] {
        guard let matcher = matchers[selector] else { return [] }
        // Matching every series can take long on a large history: past the deadline the
        // predicate stops matching, and the selection is then refused.
        let found = source.selectSeries(named: matcher.metricName) { name, labels in
            !(limits?.expiredWhileMatching() ?? false) && matcher.matches(name: name, labels: labels)
        }
        try limits?.checkTime()
        return found.map { ($0.labels.setting(metricNameLabel, to: $0.name), $0.handle) }
    }

    /// The newest point of each selected series within the lookback before `time - offset`.
    func instantVector(_ selector: PromQLSelector) throws(PromQLEvaluationError) -> [PromQLSample] {
        let reference = time - selector.offset.milliseconds
        let samples = try selected(selector).compactMap { series in
            source.latest(of: series.handle, from: reference - PromQLQuery.lookbackMilliseconds, through: reference).map {
                PromQLSample(labels: series.labels, value: $0.value, timestamp: $0.timestamp)
            }
        }
        try limits?.load(samples.count)
        return samples
    }

    /// The points of each selected series in `[time - offset - range, time - offset]`; series
    /// without a point there are left out.
    func rangeVector(_ selector: PromQLSelector, range: PromQLDuration) throws(PromQLEvaluationError) -> [PromQLRangeSeries] {
        let end = time - selector.offset.milliseconds
        var result: [PromQLRangeSeries] = []
        for series in try selected(selector) {
            let points = source.points(of: series.handle, from: end - range.milliseconds, through: end)
            try limits?.load(points.count)
            if !points.isEmpty { result.append(PromQLRangeSeries(labels: series.labels, points: points)) }
        }
        return result
    }
}

/// What one query may spend, as Prometheus limits a query (`--query.timeout`,
/// `--query.max-samples`): a deadline checked at every node of the expression and while series
/// are matched, and a budget of samples loaded by selectors (points of range selectors count
/// one each). One evaluation uses a value at a time.
package final class PromQLLimits: @unchecked Sendable {
    /// When the query must have finished.
    package let deadline: ContinuousClock.Instant
    /// The most samples the query may load.
    package let maximumSamples: Int
    private var samples = 0
    private var matched = 0
    private var expired = false

    /// Limits ending at `deadline`, allowing `maximumSamples`.
    package init(deadline: ContinuousClock.Instant, maximumSamples: Int) {
        self.deadline = deadline
        self.maximumSamples = maximumSamples
    }

    /// Throws Prometheus' timeout once the deadline has passed.
    func checkTime() throws(PromQLEvaluationError) {
        if ContinuousClock.now >= deadline { throw .timedOut(in: "expression evaluation") }
    }

    /// Whether the deadline has passed, looked at every 256 series matched.
    func expiredWhileMatching() -> Bool {
        matched &+= 1
        if !expired && matched & 0xFF == 0 && ContinuousClock.now >= deadline { expired = true }
        return expired
    }

    /// Counts `count` samples loaded, throwing Prometheus' error past the budget.
    func load(_ count: Int) throws(PromQLEvaluationError) {
        samples += count
        if samples > maximumSamples {
            throw PromQLEvaluationError("query processing would load too many samples into memory in query execution")
        }
    }
}
