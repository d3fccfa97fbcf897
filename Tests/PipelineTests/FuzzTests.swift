import LookoutSupport
import MetricModel
import PeerSupport
import SeriesHistory
@testable import PromQL
@testable import Rules
import Testing

/// A seeded, time-bounded fuzz pass over the parsers that take user input (PromQL, alert
/// templates, rule files): random token soups and mutations of good inputs must end in a value
/// or a typed error, within their limits, and never trap. `LOOKOUT_FUZZ_SEED` replays a run; each
/// failure names the seed and the input.
@Suite struct FuzzTests {
    static let seed = Fuzzing.seed

    /// How long each fuzz pass runs, on a dispatch thread of its own (Fuzzing.detached).
    static let budget = Duration.seconds(2)

    static let promQLTokens = [
        "up", "node_load1", "requests_total", "{", "}", "(", ")", "[", "]", "[5m]", "[1m:15s]", ",", "=", "!=", "=~", "!~",
        "\"a\"", "\".*\"", "\"(a|b)+\"", "'x'", "`y`", "job", "le", "__name__", "+", "-", "*", "/", "%", "^", "==", "!=",
        ">", "<", ">=", "<=", "bool", "and", "or", "unless", "on", "ignoring", "group_left", "group_right", "by", "without",
        "sum", "avg", "count", "min", "max", "topk", "bottomk", "quantile", "count_values", "stddev", "rate", "increase",
        "irate", "delta", "abs", "absent", "label_replace", "label_join", "histogram_quantile", "predict_linear", "time",
        "vector", "scalar", "clamp", "round", "offset", "@", "start()", "end()", "1", "0", "-1", "1e308", "1e-308", "Inf",
        "NaN", "0x1F", "9223372036854775807", "5m", "-5m", "1y", "999999999999999999999d", "#", "\\", "\n", " ", "\u{FF}",
    ]

    static let goodQueries = [
        #"sum by (job) (rate(requests_total{job=~"a|b"}[5m])) > 0.5"#,
        #"label_replace(up, "x", "$1", "job", "(.*)")"#,
        #"topk(3, avg_over_time(node_load1[10m] offset 1m))"#,
        #"histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))"#,
        #"absent(up{job="lookout"} == 1) or vector(0)"#,
    ]

    static func history() -> SampleHistory {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(600))
        for round in 1...8 {
            history.record([
                MetricFamily(name: "requests_total", help: "h", type: .counter,
                             samples: [Sample(labels: [Label("job", "a")], value: Double(round * 3)),
                                       Sample(labels: [Label("job", "b")], value: Double(round))]),
                MetricFamily(name: "up", help: "h", type: .gauge, samples: [Sample(labels: [Label("job", "lookout")], value: 1)]),
            ], at: Int64(round) * 15_000)
        }
        return history
    }

    @Test func promQLEndsInAValueOrAnErrorWithinItsLimits() async throws {
        let history = Self.history()
        let (inputs, parsed, slow) = await Fuzzing.detached { () -> (Int, Int, [String]) in
            var random = SplitMix64(seed: Self.seed)
            let deadline = ContinuousClock.now + Self.budget
            var inputs = 0, parsed = 0
            var slow: [String] = []
            while ContinuousClock.now < deadline {
                let text = random.next() % 3 == 0
                    ? Fuzzing.mutate(Self.goodQueries[Int(random.next() % UInt64(Self.goodQueries.count))], &random)
                    : (0..<Int(1 + random.next() % 24)).map { _ in Self.promQLTokens[Int(random.next() % UInt64(Self.promQLTokens.count))] }
                        .joined(separator: random.next() % 2 == 0 ? " " : "")
                inputs += 1
                guard let expression = try? PromQLExpression.parse(text) else { continue }
                parsed += 1
                let started = ContinuousClock.now
                let limits = PromQLLimits(deadline: started + .milliseconds(200), maximumSamples: 100_000)
                _ = try? PromQLQuery(expression).evaluate(at: 120_000, in: history, limits: limits)
                if ContinuousClock.now - started > .seconds(2) { slow.append(text) }
            }
            return (inputs, parsed, slow)
        }
        #expect(slow.isEmpty, "seed \(Self.seed): ran past their deadline: \(slow.map(\.debugDescription))")
        #expect(inputs > 50, "seed \(Self.seed): only \(inputs) inputs in \(Self.budget)")
        #expect(parsed > 0, "seed \(Self.seed): no input parsed; the generator is too far off")
    }

    @Test func templatesAndRuleFilesEndInAValueOrAnError() async {
        let templates = ["{{ $labels.instance }} is {{ $value | humanize }}", #"{{ if gt $value 1.0 }}hot{{ else }}ok{{ end }}"#,
                         #"{{ reReplaceAll "(a+)+" "x" $labels.job }}"#, #"{{ with query "up" }}{{ . | first | value }}{{ end }}"#]
        let ruleFile = """
            groups:
              - name: g
                interval: 30s
                rules:
                  - alert: A
                    expr: up == 0
                    for: 5m
                    labels: {severity: page}
                    annotations: {summary: "{{ $labels.job }} down"}
                  - record: job:up:sum
                    expr: sum by (job) (up)
            """
        let inputs = await Fuzzing.detached { () -> Int in
            var random = SplitMix64(seed: Self.seed ^ 0x5EED)
            let deadline = ContinuousClock.now + Self.budget
            var inputs = 0
            while ContinuousClock.now < deadline {
                _ = try? AlertTemplate(Fuzzing.mutate(templates[Int(random.next() % UInt64(templates.count))], &random))
                _ = RuleFile.checked(yaml: Fuzzing.mutate(ruleFile, &random), name: "fuzz.yml")
                inputs += 1
            }
            return inputs
        }
        #expect(inputs > 50, "seed \(Self.seed): only \(inputs) inputs in \(Self.budget)")
    }
}
