import Foundation
import LookoutSupport
import PromQL
import Testing

/// LookoutSupport's RE2 engine against Go's regexp inside a real Prometheus 2.42, on the same
/// patterns and values:
///
/// - matching and groups: `label_replace` anchors a pattern exactly as label matchers do
///   (`^(?:PATTERN)$`) and writes the groups through `Regexp.Expand`, so one query per pattern
///   shows, for every value, whether it matched and what each group took;
/// - refusals: a matcher `{__name__=~"PATTERN"}` that Go cannot compile is a parse error whose
///   text is Go's own message, which must be the engine's, word for word.
@Suite(.serialized, .timeLimit(.minutes(3))) struct RE2DifferentialTests {
    /// Patterns at the edges of RE2's syntax and semantics.
    static let patterns = [
        "", "a", "web-.*", "a|ab", "(a|ab)(c|bcd)(d*)", "(a+)(a*)", "(a+?)(a*)", "(a*)*", "(a*)+", "(|a)*", "(|a)+",
        "(a|b)*?b", "x*", "(x)?y", "(?:a(b)?)+", "((a)|b)+", "(a){2,3}", "a{2}", "a{2,}", "a{0}b", "a{,2}", "x{", "{1}",
        ".", ".+", "(?s).+", "(?s:.)x", "[^a]+", "[]a]+", "[a-]+", "[-a]+", "[\\d.]+", "[[:alpha:]]+", "[[:^alpha:]]+",
        "[[:word:]-]+", "\\d+\\.\\d{2}", "\\D+", "\\w+", "\\W+", "\\s", "\\S+", "\\pL+", "\\p{Lu}\\P{Lu}+", "\\PL+",
        "\\p{^L}+", "\\pN+", "\\p{Greek}+", "(?i)\\p{Greek}", "\\p{Han}|\\p{Latin}", "[\\p{Cyrillic}a]+", "[\\p{Lu}\\d]+", "(?i)web", "(?i)K", "(?i)s", "(?i)[a-z]+", "(?i)[^k]+",
        "(?i)Σ", "(?i:a)b", "(?i)a(?-i)b", "(?U)(a+)(a*)", "(?U)(a+?)(a*)", "(?m)^b$", "(?m:a$)\\n?.*", "^a$", "a$\\n?",
        "\\Aa\\z", "\\ba\\b.*", ".*\\Bb", "\\Q.*\\E", "\\Q(a", "\\x41\\x{1F600}?", "\\141", "\\0", "\\t|\\n", "\\.\\*",
        "(?P<host>[^:]+):(?P<port>\\d+)", "(?P<n>a)(?P<n>b)?", "(?P<a1_>x)", "((((((((((a))))))))))", "(a)|(b)|(c)|(d)",
        "(.*.*)*y", "(x+x+)+y", "é+", "[é-ü]+", "(?i)É", "😀|😁", "[^\\x00-\\x7F]+",
        // Refused by Go's regexp: each must be refused with Go's message.
        "a**", "a*+", "a*??", "a{2}{3}", "*a", "a|*", "(?:{2})", "(a", "a)", "[a", "[z-a]", "[[:foo:]]", "\\1", "\\8",
        "\\C", "\\q", "\\xZ1", "\\x{110000}", "\\p{Foo}", "(?=a)", "(?!a)", "(?<=a)", "(?<n>a)", "(?P=n)", "(?-)",
        "(?P<>a)", "(?P<a-b>x)", "(?P<a", "(?z)", "a{1001}", "a{2,1}", "(a{100}){100}", "a\\", "[\\8]", "\\pX",
    ]

    /// Values to match, each against every pattern.
    static let values = [
        "", "a", "aa", "aaa", "ab", "abcd", "b", "web-1", "WEB", "x", "xxxy", "y", "xy", "12.50", "Ωmega", "Ab", "ſ",
        "\u{212A}", "k", "σς", "a\nb", "b\n", "a\n", "host:9100", "É", "é", "😀", ".*", "(a", "A\u{1F600}", "\t", "\0",
        "a b", "ΑΒΓ", "漢字", "Жж", "ʰ",
    ]

    static let template = "m:${0}|${1}|${2}|${3}|${host}|${n}"

    static func query(_ url: String, _ expression: String) async throws -> (status: Int, json: [String: Any]) {
        let answer = try await Harness.get(url + "/api/v1/query?time=1000&query=" + PercentEncoding.encoded(expression))
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] ?? [:]
        return (answer.status, json)
    }

    @Test func compilesMatchesAndCapturesAsPrometheusDoes() async throws {
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (prometheus, url) = try await Harness.prometheus(configuration: "global: {}\n", in: directory)
        defer { prometheus.stop() }
        var refused = 0
        for pattern in Self.patterns {
            // Refusal, with Go's message: a matcher is compiled while the query is parsed.
            // (A second matcher keeps patterns that match the empty value legal.)
            let matcher = try await Self.query(url, "{__name__=~\(quotedPromQLString(pattern)), job=\"x\"}")
            let ours = Result { try RE2Regex.anchored(pattern) }
            if matcher.status == 400 {
                refused += 1
                let message = (matcher.json["error"] as? String ?? "")
                    .replacingOccurrences(of: "invalid parameter \"query\": 1:2: parse error: ", with: "")
                switch ours {
                case .success: Issue.record("Prometheus refuses \(pattern): \(message); Lookout compiles it")
                case .failure(let error): #expect("\(error)" == message, "\(pattern)")
                }
                continue
            }
            guard case .success(let regex) = ours else {
                Issue.record("Prometheus compiles \(pattern); Lookout refuses it: \(ours)")
                continue
            }
            // Matching and groups, every value in one query.
            let selections = Self.values.enumerated().map { index, value in
                "label_replace(label_replace(label_replace(vector(1), \"i\", \"\(index)\", \"\", \"\"), \"src\", \(quotedPromQLString(value)), \"\", \"\"), "
                    + "\"out\", \(quotedPromQLString(Self.template)), \"src\", \(quotedPromQLString(pattern)))"
            }
            let answer = try await Self.query(url, selections.joined(separator: " or "))
            let result = ((answer.json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            #expect(result.count == Self.values.count, "\(pattern): \(answer.json)")
            for series in result {
                let labels = series["metric"] as? [String: String] ?? [:]
                guard let index = labels["i"].flatMap(Int.init) else { continue }
                let value = Self.values[index]
                let expected = labels["out"]
                let actual = regex.submatches(value).map { $0.expand(Self.template) }
                #expect(actual == expected, "pattern \(quotedPromQLString(pattern)) on \(quotedPromQLString(value))")
            }
        }
        // The list holds refusals of each kind; make sure they were exercised.
        #expect(refused >= 30)
    }
}
