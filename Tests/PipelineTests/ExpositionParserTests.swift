import LookoutSupport
import MetricModel
import Testing

@Suite struct ExpositionParserTests {
    private func roundTrip(_ text: String) throws -> String {
        String(decoding: ExpositionEncoder(format: .text).encode(try ExpositionParser.parse(text)), as: UTF8.self)
    }

    @Test func parsesEveryTypeAndReencodesExactly() throws {
        let input = """
            # A comment, then a blank line.

            # HELP requests_total Requests, by "code".\\nSecond \\\\ line.
            # TYPE requests_total counter
            requests_total{code="200",method="get"} 1027
            requests_total{method="post",code="500",} 3
            # TYPE temperature gauge
            temperature{sensor="a \\"quoted\\" name\\\\path\\nnext"} -12.5
            temperature{sensor="nan"} NaN
            temperature{sensor="inf"} +Inf
            temperature{sensor="ninf"} -Inf
            # HELP latency_seconds Latency.
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.1"} 8
            latency_seconds_bucket{le="0.5"} 10
            latency_seconds_sum 2.75
            latency_seconds_count 11
            # TYPE rpc summary
            rpc{quantile="0.99"} 0.2
            rpc{quantile="0.5"} 0.05
            rpc_sum 1.5e+03
            rpc_count 30000
            plain_untyped 1.5e-7
            \ttabbed\t{\ta = "1" }\t2

            """
        #expect(try roundTrip(input) == """
            # HELP requests_total Requests, by "code".\\nSecond \\\\ line.
            # TYPE requests_total counter
            requests_total{code="200",method="get"} 1027
            requests_total{method="post",code="500"} 3
            # TYPE temperature gauge
            temperature{sensor="a \\"quoted\\" name\\\\path\\nnext"} -12.5
            temperature{sensor="nan"} NaN
            temperature{sensor="inf"} +Inf
            temperature{sensor="ninf"} -Inf
            # HELP latency_seconds Latency.
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.1"} 8
            latency_seconds_bucket{le="0.5"} 10
            latency_seconds_bucket{le="+Inf"} 11
            latency_seconds_sum 2.75
            latency_seconds_count 11
            # TYPE rpc summary
            rpc{quantile="0.5"} 0.05
            rpc{quantile="0.99"} 0.2
            rpc_sum 1500
            rpc_count 30000
            # TYPE plain_untyped untyped
            plain_untyped 1.5e-07
            # TYPE tabbed untyped
            tabbed{a="1"} 2

            """)
    }

    @Test func decodedValuesAndHelp() throws {
        let families = try ExpositionParser.parse("# HELP m a\\nb \\\\ c\nm{v=\"x\\\"y\\\\z\\nw\"} 1\n")
        #expect(families == [MetricFamily(
            name: "m", help: "a\nb \\ c", type: .untyped, samples: [Sample(labels: [Label("v", "x\"y\\z\nw")], value: 1)])])
    }

    @Test func reportsTimestampsAndHelpPresence() throws {
        let document = try ExpositionParser.parseDocument("a 1\n# HELP b B.\nb 2 1700000000000\nc 3 -5\n")
        #expect(document.timestampedLines == [3, 4])
        #expect(document.hasHelp == [false, true, false])
    }

    @Test func histogramGroupsSeriesAndAddsInfBucket() throws {
        let families = try ExpositionParser.parse("""
            # TYPE h histogram
            h_bucket{x="b",le="1.0"} 1
            h_bucket{le="+Inf",x="b"} 4
            h_count{x="b"} 4
            h_bucket{x="a",le="2"} 2
            h_sum{x="a"} 7
            h_count{x="a"} 3
            h_sum{x="b"} 5

            """)
        #expect(families[0].samples == [
            Sample(suffix: "_bucket", labels: [Label("x", "b"), Label("le", "1")], value: 1),
            Sample(suffix: "_bucket", labels: [Label("x", "b"), Label("le", "+Inf")], value: 4),
            Sample(suffix: "_sum", labels: [Label("x", "b")], value: 5),
            Sample(suffix: "_count", labels: [Label("x", "b")], value: 4),
            Sample(suffix: "_bucket", labels: [Label("x", "a"), Label("le", "2")], value: 2),
            Sample(suffix: "_bucket", labels: [Label("x", "a"), Label("le", "+Inf")], value: 3),
            Sample(suffix: "_sum", labels: [Label("x", "a")], value: 7),
            Sample(suffix: "_count", labels: [Label("x", "a")], value: 3),
        ])
    }

    @Test func suffixWithoutDeclaredTypeIsItsOwnFamily() throws {
        let names = try ExpositionParser.parse("x_sum 1\nx_count 2\n# TYPE y summary\ny_count 1\n").map(\.name)
        #expect(names == ["x_sum", "x_count", "y"])
    }

    @Test func familiesWithoutSamplesAreDropped() throws {
        #expect(try ExpositionParser.parse("# HELP a A.\n# TYPE b gauge\n").isEmpty)
        #expect(try ExpositionParser.parse("").isEmpty)
        #expect(try ExpositionParser.parse("  \n\t\n").isEmpty)
    }

    @Test func typeIsCaseInsensitive() throws {
        #expect(try ExpositionParser.parse("# TYPE a GAUGE\na 1\n")[0].type == .gauge)
    }

    @Test func veryLongLine() throws {
        let value = String(repeating: "v", count: 200_000)
        let families = try ExpositionParser.parse("m{l=\"\(value)\"} 18446744073709551615\n")
        #expect(families[0].samples[0].labels[0].value.count == 200_000)
        #expect(families[0].samples[0].value == 18446744073709551615.0)
    }

    @Test(arguments: [
        ("a 1", 1, "unexpected end of input stream"),
        ("a 1\nb{x=\"1} 2\n", 2, "label value \"1} 2\" contains unescaped new-line"),
        ("a{x=\"\\t\"} 1\n", 1, "invalid escape sequence '\\t'"),
        ("# HELP a x \\t\n", 1, "invalid escape sequence '\\t'"),
        ("a 1\n# TYPE a gauge\n", 2, "second TYPE line for metric name \"a\", or TYPE reported after samples"),
        ("# HELP a x\n# HELP a y\n", 2, "second HELP line for metric name \"a\""),
        ("# TYPE a gauges\n", 1, "unknown metric type \"gauges\""),
        ("a abc\n", 1, "expected float as value, got \"abc\""),
        ("a 0x10\n", 1, "expected float as value, got \"0x10\""),
        ("a 1_000\n", 1, "expected float as value, got \"1_000\""),
        ("a 1 \n", 1, "expected integer as timestamp, got \"\""),
        ("a 1 12 x\n", 1, "spurious string after timestamp: \" x\""),
        ("a 1 1.5\n", 1, "expected integer as timestamp, got \"1.5\""),
        ("a{x=\"1\",x=\"2\"} 1\n", 1, "duplicate label names for metric \"a\""),
        ("a{__name__=\"b\"} 1\n", 1, "label name \"__name__\" is reserved"),
        ("a{x \"1\"} 1\n", 1, "expected '=' after label name, found '\"'"),
        ("a{x=1} 1\n", 1, "expected '\"' at start of label value, found '1'"),
        ("a{x=\"1\" y=\"2\"} 1\n", 1, "unexpected end of label value \"1\""),
        ("a{1x=\"1\"} 1\n", 1, "invalid label name starting with '1'"),
        ("1a 1\n", 1, "invalid metric name starting with '1'"),
        ("a\n", 1, "expected value after metric \"a\""),
        ("# TYPE s summary\ns{quantile=\"x\"} 1\n", 2, "expected float as value for 'quantile' label, got \"x\""),
    ])
    func malformedInputNamesLineAndReason(input: String, line: Int, reason: String) {
        #expect(throws: ExpositionParseError(line: line, reason: reason)) { try ExpositionParser.parse(input) }
    }

    @Test func goFloatSpellings() {
        #expect(PrometheusFloat.parse("+Inf") == .infinity)
        #expect(PrometheusFloat.parse("-inf") == -.infinity)
        #expect(PrometheusFloat.parse("Infinity") == .infinity)
        #expect(PrometheusFloat.parse("NaN")?.isNaN == true)
        #expect(PrometheusFloat.parse("+NaN") == nil)
        #expect(PrometheusFloat.parse(".5") == 0.5)
        #expect(PrometheusFloat.parse("5.") == 5)
        #expect(PrometheusFloat.parse("1E2") == 100)
        #expect(PrometheusFloat.parse("--1") == nil)
        #expect(PrometheusFloat.parse("") == nil)
        #expect(PrometheusFloat.parse("0x1p3") == nil)
    }

    @Test func errorDescriptionIsOneLine() {
        #expect(ExpositionParseError(line: 3, reason: "bad").description == "line 3: bad")
    }
}
