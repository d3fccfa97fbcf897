import Testing
@testable import MetricModel

@Suite struct ExpositionEncoderTests {
    let families = [
        MetricFamily(
            name: "node_cpu_seconds_total", help: "Seconds the CPUs spent in each mode.", type: .counter,
            samples: [
                Sample(labels: [Label("cpu", "0"), Label("mode", "idle")], value: 1_418_183_276),
                Sample(labels: [Label("cpu", "0"), Label("mode", "user")], value: 0.21),
            ]),
        MetricFamily.single("node_load1", help: "1m load average.", value: 1),
        MetricFamily(
            name: "odd_labels", help: "Help with \\ backslash\nand \"quotes\".", type: .gauge,
            samples: [Sample(labels: [Label("path", "C:\\dir \"x\"\nnext")], value: -.infinity)]),
        MetricFamily.histogram(
            "request_duration_seconds", help: "Request latency.",
            buckets: [(0.5, 3), (1, 5)], sum: 2.75, count: 6),
        MetricFamily(name: "empty_family", help: "Never written.", type: .gauge),
        MetricFamily(name: "textfile_metric", help: "", type: .untyped, samples: [Sample(value: .nan)]),
    ]

    @Test func textFormat() {
        let text = String(decoding: ExpositionEncoder(format: .text).encode(families), as: UTF8.self)
        #expect(text == #"""
            # HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
            # TYPE node_cpu_seconds_total counter
            node_cpu_seconds_total{cpu="0",mode="idle"} 1.418183276e+09
            node_cpu_seconds_total{cpu="0",mode="user"} 0.21
            # HELP node_load1 1m load average.
            # TYPE node_load1 gauge
            node_load1 1
            # HELP odd_labels Help with \\ backslash\nand "quotes".
            # TYPE odd_labels gauge
            odd_labels{path="C:\\dir \"x\"\nnext"} -Inf
            # HELP request_duration_seconds Request latency.
            # TYPE request_duration_seconds histogram
            request_duration_seconds_bucket{le="0.5"} 3
            request_duration_seconds_bucket{le="1"} 5
            request_duration_seconds_bucket{le="+Inf"} 6
            request_duration_seconds_sum 2.75
            request_duration_seconds_count 6
            # TYPE textfile_metric untyped
            textfile_metric NaN

            """#)
    }

    @Test func openMetricsFormat() {
        let text = String(decoding: ExpositionEncoder(format: .openMetrics).encode(families), as: UTF8.self)
        #expect(text == #"""
            # TYPE node_cpu_seconds counter
            # HELP node_cpu_seconds Seconds the CPUs spent in each mode.
            node_cpu_seconds_total{cpu="0",mode="idle"} 1.418183276e+09
            node_cpu_seconds_total{cpu="0",mode="user"} 0.21
            # TYPE node_load1 gauge
            # HELP node_load1 1m load average.
            node_load1 1.0
            # TYPE odd_labels gauge
            # HELP odd_labels Help with \\ backslash\nand \"quotes\".
            odd_labels{path="C:\\dir \"x\"\nnext"} -Inf
            # TYPE request_duration_seconds histogram
            # HELP request_duration_seconds Request latency.
            request_duration_seconds_bucket{le="0.5"} 3.0
            request_duration_seconds_bucket{le="1.0"} 5.0
            request_duration_seconds_bucket{le="+Inf"} 6.0
            request_duration_seconds_sum 2.75
            request_duration_seconds_count 6.0
            # TYPE textfile_metric unknown
            textfile_metric NaN
            # EOF

            """#)
    }

    @Test func counterWithoutTotalSuffixIsUnknownInOpenMetrics() {
        let family = MetricFamily(name: "legacy_requests", help: "Requests.", type: .counter, samples: [Sample(value: 3)])
        let text = String(decoding: ExpositionEncoder(format: .openMetrics).encode([family]), as: UTF8.self)
        #expect(text == "# TYPE legacy_requests unknown\n# HELP legacy_requests Requests.\nlegacy_requests 3.0\n# EOF\n")
    }
}

/// The encoder writes into storage sized beforehand (``ExpositionSize``); these inputs are the
/// ones that come nearest to the bound: text that is all escapes, the longest numbers, short
/// `le` values that OpenMetrics lengthens.
@Suite struct ExpositionSizeTests {
    /// Strings from an alphabet of the characters that are escaped, a multi-byte one and a plain
    /// one, generated from a fixed seed.
    static func hostileStrings(count: Int) -> [String] {
        let alphabet = ["\\", "\n", "\"", "é", "a", "\\\"", "\u{1F600}"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = 1 + Int(state >> 59)  // 1...32: an empty label value is no label
            return (0..<length).map { index in alphabet[Int((state >> UInt64(index % 50)) % UInt64(alphabet.count))] }.joined()
        }
    }

    static let longestNumbers: [Double] = [
        -2.2250738585072014e-308, -1.7976931348623157e308, -0.00012345678901234567, -123456.78901234567,
        -999_999_999_999_999, 5e-324, .nan, -.infinity, -0.0, 1, 0.1,
    ]

    static func families() -> [MetricFamily] {
        let strings = hostileStrings(count: 40)
        var families: [MetricFamily] = []
        for (index, text) in strings.enumerated() {
            let samples = longestNumbers.enumerated().map { position, value in
                Sample(labels: [Label("path", text), Label("n", strings[(index + position) % strings.count])], value: value)
            }
            families.append(MetricFamily(name: "hostile_\(index)", help: text, type: index.isMultiple(of: 2) ? .gauge : .counter, samples: samples))
        }
        // Histogram and summary bounds that OpenMetrics rewrites longer than they came: "1" is "1.0".
        families.append(MetricFamily(
            name: "short_bounds", help: "", type: .histogram,
            samples: ["1", "2", "+Inf"].map { Sample(suffix: "_bucket", labels: [Label("le", $0)], value: 1) }))
        families.append(MetricFamily(
            name: "short_quantiles", help: "", type: .summary,
            samples: ["0", "1", "5e-324"].map { Sample(labels: [Label("quantile", $0)], value: -2.2250738585072014e-308) }))
        return families
    }

    @Test(arguments: [ExpositionFormat.text, .openMetrics])
    func boundHoldsForHostileInput(format: ExpositionFormat) {
        let families = Self.families()
        let body = ExpositionEncoder(format: format).encode(families)
        #expect(body.count <= ExpositionSize.bound(of: families, format: format))
        #expect(body.count > 10_000)
    }

    @Test func hostileStringsComeBackThroughTheParser() throws {
        // Families as the parser gives them back: sorted label sets are not needed, the parser
        // keeps the input order; counters stay counters, NaN compares unequal, so values are
        // compared by their bits.
        let families = Self.families().filter { $0.name.hasPrefix("hostile_") }
        let body = ExpositionEncoder(format: .text).encode(families)
        let parsed = try ExpositionParser.parse(String(decoding: body, as: UTF8.self))
        #expect(parsed.map(\.name) == families.map(\.name))
        #expect(parsed.map(\.help) == families.map(\.help))
        for (read, written) in zip(parsed, families) {
            #expect(read.samples.map(\.labels) == written.samples.map(\.labels))
            #expect(read.samples.map(\.value.bitPattern) == written.samples.map { $0.value == 0 ? 0 : $0.value.bitPattern })
        }
    }
}

@Suite struct NegotiationTests {
    @Test(arguments: [
        (nil, ExpositionFormat.text),
        ("", .text),
        ("text/plain", .text),
        ("text/plain;version=0.0.4", .text),
        ("application/openmetrics-text", .openMetrics),
        ("application/openmetrics-text;version=1.0.0", .openMetrics),
        ("application/openmetrics-text; version=0.0.1; charset=utf-8", .openMetrics),
        ("application/openmetrics-text;version=2.0.0", .text),
        ("application/json", .text),
        ("*/*", .text),
        // Prometheus 2.42's scrape header: OpenMetrics wins on weight.
        ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", .openMetrics),
        // Weights beat order.
        ("text/plain;version=0.0.4;q=0.3,application/openmetrics-text;version=1.0.0;q=0.6", .openMetrics),
        ("application/openmetrics-text;q=0,text/plain", .text),
        // Equal weights: the first listed wins.
        ("application/openmetrics-text;q=0.5,text/plain;q=0.5", .openMetrics),
        ("text/plain;q=0.5,application/openmetrics-text;q=0.5", .text),
    ] as [(String?, ExpositionFormat)])
    func accept(header: String?, expected: ExpositionFormat) {
        #expect(ExpositionFormat.negotiate(accept: header) == expected)
    }

    @Test(arguments: [
        (nil, ContentCoding.identity), ("gzip", .gzip), ("deflate, gzip;q=0.5", .gzip),
        ("gzip;q=0", .identity), ("identity", .identity), ("*", .gzip), ("br", .identity),
        ("gzip;q=0, *", .identity), ("*;q=0", .identity), ("br, *;q=0.1", .gzip),
    ] as [(String?, ContentCoding)])
    func acceptEncoding(header: String?, expected: ContentCoding) {
        #expect(ContentCoding.negotiate(acceptEncoding: header) == expected)
    }
}
