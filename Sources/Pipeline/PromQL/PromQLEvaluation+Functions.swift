import Foundation
import LookoutSupport
import MetricModel

/// The functions of the subset, as Prometheus 2.42 computes them (`promql/functions.go`).
extension PromQLEvaluation {
    func call(_ function: PromQLFunction, _ arguments: [PromQLExpression]) throws(PromQLEvaluationError) -> PromQLValue {
        switch function.name {
        case "time": return .scalar(Double(time) / 1000)
        case "vector": return .vector([computed([], try scalar(arguments[0]))])
        case "scalar":
            let samples = try vector(arguments[0])
            return .scalar(samples.count == 1 ? samples[0].value : .nan)
        case "absent":
            guard try vector(arguments[0]).isEmpty else { return .vector([]) }
            return .vector([computed(Self.absentLabels(arguments[0]), 1)])
        case "absent_over_time":
            guard case .rangeSelector(let selector, let range) = arguments[0], try rangeVector(selector, range: range).isEmpty else {
                return .vector([])
            }
            return .vector([computed(Self.absentLabels(arguments[0]), 1)])
        case "histogram_quantile":
            return .vector(try unique(histogramQuantile(try scalar(arguments[0]), try vector(arguments[1]))))
        case "label_replace":
            return .vector(try unique(labelReplace(try vector(arguments[0]), arguments)))
        case "timestamp":
            // A selector's samples keep their points' times; anything computed has the evaluation time.
            var argument = arguments[0]
            while case .parenthesized(let inner) = argument { argument = inner }
            let samples = try vector(argument)
            return .vector(try unique(samples.map { computed($0.labels.droppingMetricName, Double($0.timestamp) / 1000) }))
        default: break
        }
        if function.argumentTypes.contains(.rangeVector) { return .vector(try unique(rangeFunction(function, arguments))) }
        return .vector(try unique(instantFunction(function, arguments)))
    }

    /// The labels `absent` and `absent_over_time` give: those of the selector's `=` matchers,
    /// except the metric name and any label also matched another way or twice.
    static func absentLabels(_ argument: PromQLExpression) -> [Label] {
        let selector: PromQLSelector
        switch argument {
        case .vectorSelector(let found), .rangeSelector(let found, _): selector = found
        default: return []
        }
        var labels: [Label] = []
        var dropped: Set<String> = []
        for matcher in selector.matchers where matcher.label != metricNameLabel {
            if matcher.operation == .equal && !labels.contains(where: { $0.name == matcher.label }) {
                labels = labels.setting(matcher.label, to: matcher.value)
            } else {
                dropped.insert(matcher.label)
            }
        }
        return labels.removing(dropped)
    }

    private func instantFunction(_ function: PromQLFunction, _ arguments: [PromQLExpression]) throws(PromQLEvaluationError) -> [PromQLSample] {
        let samples = try vector(arguments[0])
        var scalars: [Double] = []
        for argument in arguments.dropFirst() { scalars.append(try scalar(argument)) }
        let transform: (Double) -> Double
        switch function.name {
        case "abs": transform = { $0.magnitude }
        case "ceil": transform = { Foundation.ceil($0) }
        case "floor": transform = { Foundation.floor($0) }
        case "round":
            let inverse = 1 / (scalars.first ?? 1)
            transform = { Foundation.floor($0 * inverse + 0.5) / inverse }
        case "clamp":
            let (low, high) = (scalars[0], scalars[1])
            if high < low { return [] }
            transform = { Self.goMax(low, Self.goMin(high, $0)) }
        case "clamp_min": transform = { [low = scalars[0]] in Self.goMax(low, $0) }
        case "clamp_max": transform = { [high = scalars[0]] in Self.goMin(high, $0) }
        default: throw PromQLEvaluationError("function \(function.name) is not supported")
        }
        return samples.map { computed($0.labels.droppingMetricName, transform($0.value)) }
    }

    /// Go's `math.Max`: NaN wins.
    static func goMax(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
    /// Go's `math.Min`: NaN wins.
    static func goMin(_ a: Double, _ b: Double) -> Double { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }

    private func rangeFunction(_ function: PromQLFunction, _ arguments: [PromQLExpression]) throws(PromQLEvaluationError) -> [PromQLSample] {
        guard let rangeIndex = function.argumentTypes.firstIndex(of: .rangeVector),
              case .rangeSelector(let selector, let range) = arguments[rangeIndex] else { return [] }
        var parameter = Double.nan
        if arguments.count > 1 { parameter = try scalar(arguments[rangeIndex == 0 ? 1 : 0]) }
        let rangeEnd = time - selector.offset.milliseconds
        let rangeStart = rangeEnd - range.milliseconds
        var results: [PromQLSample] = []
        for series in try rangeVector(selector, range: range) {
            let points = series.points
            let value: Double?
            switch function.name {
            case "rate", "increase", "delta":
                value = Self.extrapolatedRate(points, rangeStart: rangeStart, rangeEnd: rangeEnd,
                                              isCounter: function.name != "delta", isRate: function.name == "rate")
            case "irate", "idelta": value = Self.instantRate(points, isRate: function.name == "irate")
            case "deriv":
                value = points.count < 2 ? nil : Self.linearRegression(points, interceptTime: points[0].timestamp).slope
            case "predict_linear":
                guard points.count >= 2 else { value = nil; break }
                let (slope, intercept) = Self.linearRegression(points, interceptTime: time)
                value = slope * parameter + intercept
            case "changes":
                var changes = 0
                for (previous, current) in zip(points, points.dropFirst())
                where current.value != previous.value && !(current.value.isNaN && previous.value.isNaN) {
                    changes += 1
                }
                value = Double(changes)
            case "resets":
                value = Double(zip(points, points.dropFirst()).filter { $1.value < $0.value }.count)
            case "avg_over_time": value = Self.averageOverTime(points)
            case "min_over_time":
                value = points.dropFirst().reduce(points[0].value) { $1.value < $0 || $0.isNaN ? $1.value : $0 }
            case "max_over_time":
                value = points.dropFirst().reduce(points[0].value) { $1.value > $0 || $0.isNaN ? $1.value : $0 }
            case "sum_over_time":
                var sum = KahanSum()
                for point in points { sum.add(point.value) }
                value = sum.value
            case "count_over_time": value = Double(points.count)
            case "stddev_over_time": value = Self.varianceOverTime(points).squareRoot()
            case "stdvar_over_time": value = Self.varianceOverTime(points)
            case "last_over_time": value = points[points.count - 1].value
            case "present_over_time": value = 1
            case "quantile_over_time": value = promQLQuantile(parameter, points.map(\.value))
            default: throw PromQLEvaluationError("function \(function.name) is not supported")
            }
            guard let value else { continue }
            // Only last_over_time keeps the metric name, as an offset would.
            let labels = function.name == "last_over_time" ? series.labels : series.labels.droppingMetricName
            results.append(computed(labels, value))
        }
        return results
    }

    /// `rate`, `increase` and `delta`: the change over the points, with counter resets added
    /// back for counters, extrapolated towards the range's ends when the points come close to
    /// them (by up to half an average interval otherwise), and for counters never back past the
    /// time the counter would have been zero. nil with fewer than two points.
    static func extrapolatedRate(_ points: [(timestamp: Int64, value: Double)], rangeStart: Int64, rangeEnd: Int64,
                                 isCounter: Bool, isRate: Bool) -> Double?
    {
        guard points.count >= 2, let first = points.first, let last = points.last else { return nil }
        var result = last.value - first.value
        if isCounter {
            var previous = 0.0
            for point in points {
                if point.value < previous { result += previous }
                previous = point.value
            }
        }
        var durationToStart = Double(first.timestamp - rangeStart) / 1000
        let durationToEnd = Double(rangeEnd - last.timestamp) / 1000
        let sampledInterval = Double(last.timestamp - first.timestamp) / 1000
        let averageInterval = sampledInterval / Double(points.count - 1)
        if isCounter && result > 0 && first.value >= 0 {
            let durationToZero = sampledInterval * (first.value / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageInterval * 1.1
        var extrapolatedInterval = sampledInterval
        extrapolatedInterval += durationToStart < threshold ? durationToStart : averageInterval / 2
        extrapolatedInterval += durationToEnd < threshold ? durationToEnd : averageInterval / 2
        // The factor first, then one multiplication, in 2.42's order: the last bits differ otherwise.
        var factor = extrapolatedInterval / sampledInterval
        if isRate { factor /= Double(rangeEnd - rangeStart) / 1000 }
        return result * factor
    }

    /// `irate` and `idelta`: from the last two points (a drop is a counter reset for `irate`).
    static func instantRate(_ points: [(timestamp: Int64, value: Double)], isRate: Bool) -> Double? {
        guard points.count >= 2 else { return nil }
        let last = points[points.count - 1]
        let previous = points[points.count - 2]
        var result = isRate && last.value < previous.value ? last.value : last.value - previous.value
        let interval = last.timestamp - previous.timestamp
        guard interval != 0 else { return nil }
        if isRate { result /= Double(interval) / 1000 }
        return result
    }

    /// Least squares over the points, x in seconds from `interceptTime`: the slope, and the
    /// value at `interceptTime`. A constant series has slope 0 (NaN when the constant is infinite).
    static func linearRegression(_ points: [(timestamp: Int64, value: Double)], interceptTime: Int64) -> (slope: Double, intercept: Double) {
        var sumX = KahanSum(), sumY = KahanSum(), sumXY = KahanSum(), sumX2 = KahanSum()
        let initial = points[0].value
        var constant = true
        for (index, point) in points.enumerated() {
            if constant && index > 0 && point.value != initial { constant = false }
            let x = Double(point.timestamp - interceptTime) / 1e3
            sumX.add(x)
            sumY.add(point.value)
            sumXY.add(x * point.value)
            sumX2.add(x * x)
        }
        if constant { return initial.isInfinite ? (.nan, .nan) : (0, initial) }
        let n = Double(points.count)
        let (x, y, xy, x2) = (sumX.plainTotal, sumY.plainTotal, sumXY.plainTotal, sumX2.plainTotal)
        let covariance = xy - x * y / n
        let variance = x2 - x * x / n
        let slope = covariance / variance
        return (slope, y / n - slope * x / n)
    }

    static func averageOverTime(_ points: [(timestamp: Int64, value: Double)]) -> Double {
        var mean = 0.0, compensation = 0.0, count = 0.0
        for point in points {
            count += 1
            if mean.isInfinite {
                if point.value.isInfinite && (mean > 0) == (point.value > 0) { continue }
                if !point.value.isInfinite && !point.value.isNaN { continue }
            }
            (mean, compensation) = KahanSum.increment(point.value / count - mean / count, mean, compensation)
        }
        return mean.isInfinite ? mean : mean + compensation
    }

    static func varianceOverTime(_ points: [(timestamp: Int64, value: Double)]) -> Double {
        var count = 0.0, mean = 0.0, meanCompensation = 0.0, aux = 0.0, auxCompensation = 0.0
        for point in points {
            count += 1
            let delta = point.value - (mean + meanCompensation)
            (mean, meanCompensation) = KahanSum.increment(delta / count, mean, meanCompensation)
            (aux, auxCompensation) = KahanSum.increment(delta * (point.value - (mean + meanCompensation)), aux, auxCompensation)
        }
        return (aux + auxCompensation) / count
    }

    // MARK: histogram_quantile

    private func histogramQuantile(_ q: Double, _ samples: [PromQLSample]) -> [PromQLSample] {
        var groups: [LabelSetKey: Int] = [:]
        var ordered: [(labels: [Label], buckets: [(upperBound: Double, count: Double)])] = []
        var bounds: [String: Double?] = [:]  // a histogram's few `le` values, read once each
        for sample in samples {
            let le = sample.labels.value(of: "le")
            let parsed: Double?
            if let known = bounds[le] {
                parsed = known
            } else {
                parsed = GoFloat.parse(le)
                bounds[le] = parsed
            }
            guard let upperBound = parsed else { continue }
            // Histograms of different names stay apart even though the result drops the name.
            let key = LabelSetKey(sample.labels.filter { $0.name != "le" })
            let index: Int
            if let known = groups[key] {
                index = known
            } else {
                index = ordered.count
                groups[key] = index
                ordered.append((sample.labels.removing([metricNameLabel, "le"]), []))
            }
            ordered[index].buckets.append((upperBound, sample.value))
        }
        return ordered.map { computed($0.labels, Self.bucketQuantile(q, $0.buckets)) }
    }

    /// The `q` quantile of a classic histogram's cumulative buckets, interpolated linearly in
    /// the bucket the rank falls in (`quantile.go`, `bucketQuantile`).
    static func bucketQuantile(_ q: Double, _ unsorted: [(upperBound: Double, count: Double)]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let sorted = unsorted.sorted { $0.upperBound < $1.upperBound }
        guard let highest = sorted.last, highest.upperBound == .infinity else { return .nan }
        // Buckets of the same bound are added together, then counts made monotonic.
        var buckets: [(upperBound: Double, count: Double)] = []
        for bucket in sorted {
            if let last = buckets.last, last.upperBound == bucket.upperBound {
                buckets[buckets.count - 1].count += bucket.count
            } else {
                buckets.append(bucket)
            }
        }
        var maximum = -Double.infinity
        for index in buckets.indices {
            if buckets[index].count > maximum {
                maximum = buckets[index].count
            } else if buckets[index].count < maximum {
                buckets[index].count = maximum
            }
        }
        guard buckets.count >= 2 else { return .nan }
        let observations = buckets[buckets.count - 1].count
        guard observations != 0 else { return .nan }
        var rank = q * observations
        let b = buckets.dropLast().firstIndex { $0.count >= rank } ?? buckets.count - 1
        if b == buckets.count - 1 { return buckets[buckets.count - 2].upperBound }
        if b == 0 && buckets[0].upperBound <= 0 { return buckets[0].upperBound }
        var start = 0.0
        let end = buckets[b].upperBound
        var count = buckets[b].count
        if b > 0 {
            start = buckets[b - 1].upperBound
            count -= buckets[b - 1].count
            rank -= buckets[b - 1].count
        }
        return start + (end - start) * (rank / count)
    }

    // MARK: label_replace

    private func labelReplace(_ samples: [PromQLSample], _ arguments: [PromQLExpression]) throws(PromQLEvaluationError) -> [PromQLSample] {
        var texts: [String] = []
        for argument in arguments.dropFirst() {
            guard case .string(let text) = try evaluate(argument) else { return [] }
            texts.append(text)
        }
        let (destination, replacement, source, pattern) = (texts[0], texts[1], texts[2], texts[3])
        guard let regex = try? RE2Regex.anchored(pattern) else {
            throw PromQLEvaluationError("invalid regular expression in label_replace(): \(pattern)")
        }
        guard Label.isValidName(destination) else {
            throw PromQLEvaluationError("invalid destination label name in label_replace(): \(destination)")
        }
        return samples.map { sample in
            guard let match = regex.submatches(sample.labels.value(of: source)) else { return sample }
            let value = match.expand(replacement)
            return PromQLSample(labels: sample.labels.setting(destination, to: value), value: sample.value, timestamp: sample.timestamp)
        }
    }
}

/// Kahan–Neumaier compensated summation, as Prometheus' `kahanSumInc`.
struct KahanSum {
    private(set) var sum = 0.0
    private(set) var compensation = 0.0

    mutating func add(_ value: Double) { (sum, compensation) = Self.increment(value, sum, compensation) }

    /// The total, with the compensation unless the sum overflowed.
    var value: Double { sum.isInfinite ? sum : sum + compensation }

    /// The total with the compensation, whatever it is.
    var plainTotal: Double { sum + compensation }

    static func increment(_ value: Double, _ sum: Double, _ compensation: Double) -> (Double, Double) {
        let total = sum + value
        if sum.magnitude >= value.magnitude {
            return (total, compensation + ((sum - total) + value))
        }
        return (total, compensation + ((value - total) + sum))
    }
}
