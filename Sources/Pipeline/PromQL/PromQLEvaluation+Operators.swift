import Foundation
import LookoutSupport
import MetricModel

/// Binary operators and aggregations, as Prometheus 2.42's engine applies them
/// (`VectorBinop`, `VectorscalarBinop`, `VectorAnd/Or/Unless`, `aggregation`).
extension PromQLEvaluation {
    func binary(_ op: PromQLBinaryOperator, _ leftExpression: PromQLExpression, _ rightExpression: PromQLExpression,
                _ matching: PromQLVectorMatching) throws(PromQLEvaluationError) -> PromQLValue
    {
        let left = try evaluate(leftExpression)
        let right = try evaluate(rightExpression)
        switch (left, right) {
        case (.scalar(let l), .scalar(let r)):
            let (value, keep) = Self.apply(op, l, r)
            return .scalar(op.isComparison ? (keep ? 1 : 0) : value)
        case (.vector(let samples), .scalar(let number)):
            return .vector(try unique(vectorScalar(op, samples, number, scalarOnLeft: false, returnsBool: matching.returnsBool)))
        case (.scalar(let number), .vector(let samples)):
            return .vector(try unique(vectorScalar(op, samples, number, scalarOnLeft: true, returnsBool: matching.returnsBool)))
        case (.vector(let l), .vector(let r)):
            switch op {
            case .and, .or, .unless: return .vector(try unique(setOperation(op, l, r, matching)))
            default: return .vector(try unique(vectorVector(op, l, r, matching)))
            }
        default:
            return .vector([])
        }
    }

    /// The value of `l op r`, and for a comparison whether it holds (the value is then `l`).
    package static func apply(_ op: PromQLBinaryOperator, _ l: Double, _ r: Double) -> (value: Double, keep: Bool) {
        switch op {
        case .add: return (l + r, true)
        case .subtract: return (l - r, true)
        case .multiply: return (l * r, true)
        case .divide: return (l / r, true)
        case .power: return (Foundation.pow(l, r), true)
        case .modulo: return (fmod(l, r), true)
        case .atan2: return (Foundation.atan2(l, r), true)
        case .equal: return (l, l == r)
        case .notEqual: return (l, l != r)
        case .greater: return (l, l > r)
        case .less: return (l, l < r)
        case .greaterOrEqual: return (l, l >= r)
        case .lessOrEqual: return (l, l <= r)
        case .and, .or, .unless: return (l, true)
        }
    }

    /// Whether the operator's result loses the metric name (arithmetic does; comparisons and,
    /// in 2.42, `atan2` do not).
    static func dropsMetricName(_ op: PromQLBinaryOperator) -> Bool {
        switch op {
        case .add, .subtract, .multiply, .divide, .power, .modulo: return true
        default: return false
        }
    }

    private func vectorScalar(_ op: PromQLBinaryOperator, _ samples: [PromQLSample], _ number: Double, scalarOnLeft: Bool,
                              returnsBool: Bool) -> [PromQLSample]
    {
        samples.compactMap { sample in
            let (l, r) = scalarOnLeft ? (number, sample.value) : (sample.value, number)
            var (value, keep) = Self.apply(op, l, r)
            // A comparison keeps the vector's value, whichever side it is on.
            if op.isComparison && scalarOnLeft { value = r }
            if returnsBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { return nil }
            let labels = Self.dropsMetricName(op) || returnsBool ? sample.labels.droppingMetricName : sample.labels
            return computed(labels, value)
        }
    }

    /// The labels two samples are matched on: those named by `on (…)`, or all but those named by
    /// `ignoring (…)` and the metric name.
    static func signature(_ labels: [Label], _ matching: PromQLVectorMatching) -> LabelSetKey {
        if matching.on { return LabelSetKey(labels.filter { matching.matchingLabels.contains($0.name) }) }
        return LabelSetKey(labels.filter { $0.name != metricNameLabel && !matching.matchingLabels.contains($0.name) })
    }

    private func setOperation(_ op: PromQLBinaryOperator, _ left: [PromQLSample], _ right: [PromQLSample],
                              _ matching: PromQLVectorMatching) -> [PromQLSample]
    {
        switch op {
        case .and:
            let rightSignatures = Set(right.map { Self.signature($0.labels, matching) })
            return left.filter { rightSignatures.contains(Self.signature($0.labels, matching)) }
        case .unless:
            let rightSignatures = Set(right.map { Self.signature($0.labels, matching) })
            return left.filter { !rightSignatures.contains(Self.signature($0.labels, matching)) }
        default:
            let leftSignatures = Set(left.map { Self.signature($0.labels, matching) })
            return left + right.filter { !leftSignatures.contains(Self.signature($0.labels, matching)) }
        }
    }

    private func vectorVector(_ op: PromQLBinaryOperator, _ left: [PromQLSample], _ right: [PromQLSample],
                              _ matching: PromQLVectorMatching) throws(PromQLEvaluationError) -> [PromQLSample]
    {
        // One-to-many is many-to-one with the sides swapped; values are swapped back below.
        var include: [String] = []
        var swapped = false
        switch matching.cardinality {
        case .oneToOne: break
        case .manyToOne(let labels): include = labels
        case .oneToMany(let labels):
            include = labels
            swapped = true
        }
        let (many, one) = swapped ? (right, left) : (left, right)
        var oneSide: [LabelSetKey: PromQLSample] = [:]
        for sample in one {
            let signature = Self.signature(sample.labels, matching)
            if let duplicate = oneSide[signature] {
                let sideName = swapped ? "left hand-side" : "right hand-side"  // sic, as 2.42 words it
                let matched = matching.on ? sample.labels.filtered(keeping: Set(matching.matchingLabels))
                    : sample.labels.removing(Set(matching.matchingLabels).union([metricNameLabel]))
                throw PromQLEvaluationError(
                    "found duplicate series for the match group \(matched.promQLDescription) on the \(sideName) of the operation: "
                        + "[\(sample.labels.promQLDescription), \(duplicate.labels.promQLDescription)];"
                        + "many-to-many matching not allowed: matching labels must be unique on one side")
            }
            oneSide[signature] = sample
        }
        var matchedOneToOne: Set<LabelSetKey> = []
        var resultsOfGroup: [LabelSetKey: Set<LabelSetKey>] = [:]
        var results: [PromQLSample] = []
        for sample in many {
            let signature = Self.signature(sample.labels, matching)
            guard let partner = oneSide[signature] else { continue }
            let (l, r) = swapped ? (partner.value, sample.value) : (sample.value, partner.value)
            var (value, keep) = Self.apply(op, l, r)
            if matching.returnsBool {
                value = keep ? 1 : 0
            } else if !keep {
                continue
            }
            var labels = resultLabels(sample.labels, partner.labels, op, matching, include: include)
            if matching.returnsBool { labels = labels.droppingMetricName }
            if matching.cardinality == .oneToOne {
                guard matchedOneToOne.insert(signature).inserted else {
                    throw PromQLEvaluationError("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
            } else {
                guard resultsOfGroup[signature, default: []].insert(LabelSetKey(labels)).inserted else {
                    throw PromQLEvaluationError("multiple matches for labels: grouping labels must ensure unique matches")
                }
            }
            results.append(computed(labels, value))
        }
        return results
    }

    /// The labels of a result: the "many" side's, less the metric name for arithmetic, narrowed
    /// by `on`/`ignoring` for one-to-one matching, with `group_x (labels)` copied from the "one" side.
    private func resultLabels(_ many: [Label], _ one: [Label], _ op: PromQLBinaryOperator, _ matching: PromQLVectorMatching,
                              include: [String]) -> [Label]
    {
        var labels = Self.dropsMetricName(op) ? many.droppingMetricName : many
        if matching.cardinality == .oneToOne {
            let names = Set(matching.matchingLabels)
            labels = matching.on ? labels.filtered(keeping: names) : labels.removing(names)
        }
        for name in include { labels = labels.setting(name, to: one.value(of: name)) }
        return labels
    }

    // MARK: Aggregation

    private struct Group {
        var labels: [Label]
        var value: Double
        var mean: Double
        var count: Int
        var kept: [PromQLSample] = []
    }

    func aggregate(_ aggregation: PromQLAggregation) throws(PromQLEvaluationError) -> [PromQLSample] {
        let samples = try vector(aggregation.expression)
        var parameter = Double.nan
        var valueLabel = ""
        switch aggregation.op.parameterType {
        case .scalar?: parameter = try scalar(aggregation.parameter!)
        case .string?:
            guard case .string(let text) = try evaluate(aggregation.parameter!) else { return [] }
            valueLabel = text
            guard Label.isValidName(text) else { throw PromQLEvaluationError("invalid label name \(quotedPromQLString(text))") }
        default: break
        }
        var k = 0
        if aggregation.op == .topk || aggregation.op == .bottomk {
            guard parameter.isFinite || parameter.isNaN, parameter.magnitude < 9.2e18 else {
                throw PromQLEvaluationError("Scalar value \(GoFloat.formatG(parameter)) overflows int64")
            }
            k = parameter.isNaN ? Int.min : Int(parameter)
            if k < 1 { return [] }
        }
        var without = false
        var grouping: [String]
        switch aggregation.grouping {
        case .by(let labels): grouping = labels
        case .without(let labels):
            grouping = labels
            without = true
        }
        if aggregation.op == .countValues && !without { grouping.append(valueLabel) }
        // A short list: comparing a few names is cheaper than hashing each label's name.
        let groupingNames = grouping

        var groups: [LabelSetKey: Int] = [:]
        var ordered: [Group] = []
        for var sample in samples {
            if aggregation.op == .countValues {
                sample.labels = sample.labels.setting(valueLabel, to: GoFloat.formatF(sample.value))
            }
            let key = LabelSetKey(without ? sample.labels.filter { $0.name != metricNameLabel && !groupingNames.contains($0.name) }
                : sample.labels.filter { groupingNames.contains($0.name) })
            guard let index = groups[key] else {
                groups[key] = ordered.count
                var group = Group(labels: key.labels, value: sample.value, mean: sample.value, count: 1)
                switch aggregation.op {
                case .stddev, .stdvar: group.value = 0
                case .group: group.value = 1
                case .topk, .bottomk, .quantile: group.kept = [sample]
                default: break
                }
                ordered.append(group)
                continue
            }
            let value = sample.value
            switch aggregation.op {
            case .sum: ordered[index].value += value
            case .avg:
                ordered[index].count += 1
                let mean = ordered[index].mean
                if mean.isInfinite && (value.isInfinite && (mean > 0) == (value > 0) || !value.isInfinite && !value.isNaN) { break }
                let count = Double(ordered[index].count)
                ordered[index].mean += value / count - mean / count
            case .max:
                if ordered[index].value < value || ordered[index].value.isNaN { ordered[index].value = value }
            case .min:
                if ordered[index].value > value || ordered[index].value.isNaN { ordered[index].value = value }
            case .count, .countValues: ordered[index].count += 1
            case .group: break
            case .stddev, .stdvar:
                ordered[index].count += 1
                let delta = value - ordered[index].mean
                ordered[index].mean += delta / Double(ordered[index].count)
                ordered[index].value += delta * (value - ordered[index].mean)
            case .topk: GoValueHeap.offer(sample, to: &ordered[index].kept, limit: k, largest: true)
            case .bottomk: GoValueHeap.offer(sample, to: &ordered[index].kept, limit: k, largest: false)
            case .quantile: ordered[index].kept.append(sample)
            }
        }

        var results: [PromQLSample] = []
        for group in ordered {
            let value: Double
            switch aggregation.op {
            case .avg: value = group.mean
            case .count, .countValues: value = Double(group.count)
            case .stdvar: value = group.value / Double(group.count)
            case .stddev: value = (group.value / Double(group.count)).squareRoot()
            case .quantile: value = promQLQuantile(parameter, group.kept.map(\.value))
            case .topk, .bottomk:
                results += group.kept.map { computed($0.labels, $0.value) }
                continue
            default: value = group.value
            }
            results.append(computed(group.labels, value))
        }
        return results
    }
}

/// The selection of `topk`/`bottomk` as Prometheus makes it, with Go's `container/heap` over
/// the kept samples, so that ties and NaNs pick the same series.
enum GoValueHeap {
    /// Offers `sample` to the `limit` kept so far: `largest` keeps the largest values (topk).
    static func offer(_ sample: PromQLSample, to heap: inout [PromQLSample], limit: Int, largest: Bool) {
        // topk's heap has the smallest on top (NaN below everything); bottomk's the largest.
        func less(_ i: Int, _ j: Int) -> Bool {
            if largest { return heap[i].value.isNaN || heap[i].value < heap[j].value }
            return heap[i].value.isNaN || heap[i].value > heap[j].value
        }
        if heap.count < limit {
            heap.append(sample)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard less(child, parent) else { break }
                heap.swapAt(parent, child)
                child = parent
            }
            return
        }
        let top = heap[0].value
        let replaces = largest ? top < sample.value || (top.isNaN && !sample.value.isNaN)
            : top > sample.value || (top.isNaN && !sample.value.isNaN)
        guard replaces else { return }
        heap[0] = sample
        guard limit > 1 else { return }
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var child = left
            if left + 1 < heap.count && less(left + 1, left) { child = left + 1 }
            guard less(child, parent) else { break }
            heap.swapAt(parent, child)
            parent = child
        }
    }
}

/// The `q` quantile of `values` as Prometheus computes `quantile` and `quantile_over_time`:
/// linear interpolation between the nearest ranks, −Inf below 0, +Inf above 1, NaN for none.
func promQLQuantile(_ q: Double, _ values: [Double]) -> Double {
    if values.isEmpty { return .nan }
    if q < 0 { return -.infinity }
    if q > 1 { return .infinity }
    // NaN sorts first, as in Prometheus' vectorByValueHeap.
    let sorted = values.sorted { $0.isNaN && !$1.isNaN || $0 < $1 }
    let n = Double(sorted.count)
    let rank = q * (n - 1)
    let lower = max(0, rank.rounded(.down))
    let upper = min(n - 1, lower + 1)
    let weight = rank - rank.rounded(.down)
    return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
}
