import LookoutSupport
import MetricModel
import SeriesHistory
@testable import PromQL
import Testing

/// The evaluator over the daemon's own history: rounds become points, a series missing from a
/// round is stale at once, and rate extrapolates as Prometheus does. (Exact agreement with
/// Prometheus over the whole subset is the promtool cross-check suite's job.)
@Suite struct PromQLEvaluationTests {
    static func counter(_ value: Double, _ labels: [Label] = [Label("job", "a")]) -> MetricFamily {
        MetricFamily(name: "requests_total", help: "h", type: .counter, samples: [Sample(labels: labels, value: value)])
    }

    static func evaluate(_ text: String, at time: Int64, _ history: SampleHistory) throws -> [String] {
        try PromQLQuery(try PromQLExpression.parse(text)).evaluate(at: time, in: history).samples.map {
            $0.labels.promQLDescription + " " + GoFloat.formatG($0.value)
        }
    }

    /// The highest tree the parser accepts evaluates on a thread of the cooperative pool: the
    /// evaluator's recursion is bounded by the parser's height limit.
    @Test func theHighestAcceptedTreeEvaluatesOnAPoolThread() async throws {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(600))
        history.record([Self.counter(1)], at: 15_000)
        let chain = Array(repeating: "requests_total", count: PromQLExpression.maximumDepth).joined(separator: " + ")
        let nested = String(repeating: "abs(", count: PromQLExpression.maximumDepth - 2) + "requests_total" + String(repeating: ")", count: PromQLExpression.maximumDepth - 2)
        let results = try await Task.detached {
            [try Self.evaluate(chain, at: 15_000, history), try Self.evaluate(nested, at: 15_000, history)]
        }.value
        #expect(results == [[#"{job="a"} 128"#], [#"{job="a"} 1"#]])
    }

    /// A query's limits stop the evaluation itself, in Prometheus' words.
    @Test func limitsStopTheEvaluation() throws {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(600))
        for round in 1...4 { history.record([Self.counter(Double(round))], at: Int64(round) * 15_000) }
        let query = try PromQLQuery(try PromQLExpression.parse("sum(rate(requests_total[1m]))"))
        let past = PromQLLimits(deadline: .now - .seconds(1), maximumSamples: 100)
        #expect(throws: PromQLEvaluationError.timedOut(in: "expression evaluation")) {
            try query.evaluate(at: 60_000, in: history, limits: past)
        }
        let few = PromQLLimits(deadline: .now + .seconds(60), maximumSamples: 3)
        #expect(throws: PromQLEvaluationError("query processing would load too many samples into memory in query execution")) {
            try query.evaluate(at: 60_000, in: history, limits: few)
        }
        let enough = PromQLLimits(deadline: .now + .seconds(60), maximumSamples: 4)
        #expect(try query.evaluate(at: 60_000, in: history, limits: enough).samples.count == 1)
    }

    @Test func rateOverTheHistoryExtrapolatesAndSurvivesAReset() throws {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(600))
        let values: [Double] = [0, 15, 30, 45, 5, 20]  // a reset after 45
        for (round, value) in values.enumerated() { history.record([Self.counter(value)], at: Int64(round + 1) * 15_000) }
        // 5 intervals of 15 s, increase 45 + 20 = 65 over 75 s sampled; the range starts 15 s
        // before the first point (within 1.1 intervals), so 65 × 90/75 over 90 s.
        let rate = try PromQLQuery(try PromQLExpression.parse("rate(requests_total[90s])")).evaluate(at: 105_000, in: history).samples
        #expect(rate.count == 1 && abs(rate[0].value - 78.0 / 90) < 1e-12)
        #expect(try Self.evaluate("increase(requests_total[90s])", at: 105_000, history) == [#"{job="a"} 78"#])
        #expect(try Self.evaluate("resets(requests_total[5m])", at: 105_000, history) == [#"{job="a"} 1"#])
    }

    @Test func aSeriesMissingFromARoundIsGoneAtOnce() throws {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(600))
        history.record([Self.counter(1)], at: 15_000)
        history.record([], at: 30_000)
        #expect(try Self.evaluate("requests_total", at: 15_000, history) == [#"{__name__="requests_total", job="a"} 1"#])
        #expect(try Self.evaluate("requests_total", at: 30_000, history).isEmpty)
        #expect(try Self.evaluate("absent(requests_total{job=\"a\"})", at: 30_000, history) == [#"{job="a"} 1"#])
    }

    @Test func matchingErrorsAreWordedAsPrometheusWordsThem() throws {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(60))
        history.record([Self.counter(1, [Label("job", "a"), Label("x", "1")]),
                        MetricFamily(name: "other", help: "h", type: .gauge, samples: [Sample(labels: [Label("job", "a")], value: 1)])],
                       at: 15_000)
        history.record([Self.counter(1, [Label("job", "a"), Label("x", "1")]), Self.counter(2, [Label("job", "a"), Label("x", "2")]),
                        MetricFamily(name: "other", help: "h", type: .gauge, samples: [Sample(labels: [Label("job", "a")], value: 1)]),
                        MetricFamily(name: "twin", help: "h", type: .gauge, samples: [Sample(labels: [Label("job", "a"), Label("x", "1")], value: 1)])],
                       at: 30_000)
        #expect(throws: PromQLEvaluationError("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")) {
            try Self.evaluate("requests_total + on (job) other", at: 30_000, history)
        }
        #expect(try Self.evaluate("requests_total + on (job) group_left other", at: 30_000, history).count == 2)
        #expect(throws: PromQLEvaluationError("vector cannot contain metrics with the same labelset")) {
            try Self.evaluate(#"{x="1"} * 2"#, at: 30_000, history)
        }
    }
}
