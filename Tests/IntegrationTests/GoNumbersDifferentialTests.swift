import Foundation
import LookoutSupport
import Testing

/// Lookout's Go number dialects (LookoutSupport's GoFloat and PrometheusFloat) against the Go
/// programs they stand in for, on the same inputs:
///
/// - `strconv.ParseFloat`: Prometheus reads the `time` parameter of `/api/v1/query` with it
///   (web/api/v1 `parseTime`), so a text it refuses is a `400` there; one it takes comes back as
///   the evaluation time, to the millisecond.
/// - `'f'` formatting: the API writes scalar values with `FormatFloat(v, 'f', -1, 64)`.
/// - the exposition text's values: `promtool check metrics` reads them with expfmt's
///   `parseFloat`, and Prometheus' `/federate` writes them with client_golang's `writeFloat`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct GoNumbersDifferentialTests {
    /// Texts at every edge of Go's float syntax.
    static let texts = [
        "1", "-1", "+1", "0", "-0", "+0.0", "1.5", ".5", "1.", "-.5e-3", "1e+03", "1E3", "00012", "12e0",
        "1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "-1e309", "1e-400", "4.9e-324",
        "2.2250738585072011e-308", "9007199254740993", "123456789012345678901234567890",
        "0x1p-2", "0X1.8P1", "0x.8p1", "0x1P+3", "0x10", "0x", "0x1p", "0xp1", "0x1.fffffffffffff8p1023", "0x1p1024",
        "1_000", "1__000", "_1", "1_", "1_e3", "1e1_0", "0x_1p4", "1_000.5", "1.0_5",
        "inf", "+Inf", "-infinity", "Infinity", "INF", "infinit", "infx", "nan", "NaN", "+NaN", "-nan", "nanx",
        "++1", "+-1", "--1", "1e", "1e+", "e3", ".", "", " 1", "1 ", "1.2.3", "1e3.5", "0b101", "0o17", "1,5", "1e-", "١",
    ]

    /// A deterministic spread of doubles: edges, then bit patterns from a fixed-seed generator.
    static var doubles: [Double] {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.2, 1.5, 100, 1e6, 1e15, 1e16, 1e21, 1e22, 1e-4, 1e-5, 1e-7, 5e-324,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude, 123456789012345680000,
                                0.000123, 1234.5678, 2.5e-8, 9007199254740993, 1 / 3]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        while values.count < 300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = Double(bitPattern: state)
            if value.isFinite { values.append(value) }
        }
        return values
    }

    /// A Prometheus with no targets and one recording rule per value of `recorded`.
    static func prometheus(recording recorded: [Double], in directory: URL) async throws -> (ServerProcess, String) {
        let rules = directory.appendingPathComponent("numbers.rules.yml")
        // A literal in Swift's description (`1.5e-07`, `-0.0`) is PromQL's own syntax.
        let rulesText = "groups:\n  - name: numbers\n    interval: 1s\n    rules:\n"
            + recorded.enumerated().map { "      - record: number_\($0.offset)\n        expr: vector(\($0.element))\n" }.joined()
        try rulesText.write(to: rules, atomically: true, encoding: .utf8)
        return try await Harness.prometheus(
            configuration: "global:\n  evaluation_interval: 1s\nrule_files: [\"\(rules.path)\"]\n", in: directory)
    }

    @Test func parseFloatTakesAndRefusesWhatGoDoes() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (prometheus, url) = try await Self.prometheus(recording: [], in: directory)
        defer { prometheus.stop() }
        // An empty `time` is no time at all: Prometheus evaluates now.
        for text in Self.texts where !text.isEmpty {
            let encoded = PercentEncoding.encoded(text)
            let answer = try await Harness.get(url + "/api/v1/query?query=time()&time=" + encoded)
            let ours = GoFloat.parse(text)
            if answer.status == 400 {
                #expect(ours == nil, "Prometheus refuses \"\(text)\", Lookout reads \(String(describing: ours)): \(answer.body)")
                continue
            }
            #expect(ours != nil, "Prometheus takes \"\(text)\" (\(answer.body)), Lookout refuses it")
            // Past about 9.2e9 s, Prometheus' nanosecond timestamps overflow.
            guard let value = ours, value.isFinite, value.magnitude < 1e9 else { continue }
            // parseTime keeps whole milliseconds: math.Modf, then the fraction rounded to 1/1000.
            let whole = value.rounded(.towardZero)
            let seconds = whole + ((value - whole) * 1000).rounded() / 1000
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            let result = (json?["data"] as? [String: Any])?["result"] as? [Any]
            #expect(result?.last as? String == GoFloat.formatF(seconds), "\"\(text)\": \(answer.body)")
        }
    }

    @Test func formatFWritesWhatThePrometheusAPIWrites() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (prometheus, url) = try await Self.prometheus(recording: [], in: directory)
        defer { prometheus.stop() }
        for value in Self.doubles {
            let answer = try await Harness.get(url + "/api/v1/query?query=" + PercentEncoding.encoded("\(value)") + "&time=1000")
            let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            let result = (json?["data"] as? [String: Any])?["result"] as? [Any]
            #expect(result?.last as? String == GoFloat.formatF(value), "\(value): \(answer.body)")
        }
    }

    @Test func expositionValuesAreReadAsPromtoolReadsThem() throws {
        let promtool = try Harness.tool("promtool")
        for text in Self.texts where !text.contains(" ") && !text.isEmpty {
            let check = try Harness.run(promtool, ["check", "metrics"], input: "# HELP m A number.\n# TYPE m gauge\nm \(text)\n")
            let refused = check.stderr.contains("text format parsing error")
            #expect(refused == (PrometheusFloat.parse(text) == nil),
                    "\"\(text)\": promtool \(refused ? "refuses" : "takes") it: \(check.stderr)")
        }
    }

    @Test func expositionValuesAreWrittenAsPrometheusFederationWritesThem() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values = Array(Self.doubles.prefix(120))
        let (prometheus, url) = try await Self.prometheus(recording: values, in: directory)
        defer { prometheus.stop() }
        let federate = url + "/federate?match%5B%5D=" + PercentEncoding.encoded("{__name__=~\"number_.*\"}")
        var lines: [String: String] = [:]
        try await Harness.waitUntil(seconds: 30, "Prometheus to record every number") {
            guard let body = try? await Harness.get(federate).body else { return false }
            lines = [:]
            for line in body.split(separator: "\n") where line.hasPrefix("number_") {
                let fields = line.split(separator: " ")
                lines[String(fields[0].prefix { $0 != "{" })] = String(fields[1])
            }
            return lines.count == values.count
        }
        for (index, value) in values.enumerated() {
            #expect(lines["number_\(index)"] == PrometheusFloat.format(value), "\(value)")
        }
    }
}
