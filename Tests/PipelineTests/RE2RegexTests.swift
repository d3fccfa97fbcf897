import Testing

@testable import LookoutSupport

/// The RE2 engine on its own: what Go's regexp accepts and refuses (messages from Go 1.19's
/// regexp/syntax, the version Prometheus 2.42 is built with), leftmost-first groups, and linear
/// time on the patterns that make a backtracking engine run forever. The same patterns run
/// against a real Prometheus in IntegrationTests/RE2DifferentialTests.
@Suite struct RE2RegexTests {
    private func anchored(_ pattern: String, _ text: String) throws -> Bool {
        try RE2Regex.anchored(pattern).matches(text)
    }

    @Test func matchesWholeValuesAsPrometheusAnchorsThem() throws {
        #expect(try anchored("web-.*", "web-1"))
        #expect(try !anchored("web", "web-1"))
        #expect(try anchored("a|ab", "ab"))
        #expect(try anchored("(?i)WEB", "web"))
        #expect(try anchored("", ""))
        #expect(try !anchored(".", "\n"))
        #expect(try anchored("(?s).", "\n"))
        #expect(try anchored("[^a]", "\n"))
        #expect(try anchored("\\d+\\.\\d{2}", "12.50"))
        #expect(try anchored("[[:alpha:]]+", "Abc"))
        #expect(try !anchored("[[:^alpha:]]+", "Abc"))
        #expect(try anchored("\\pL+", "Ωmega"))
        #expect(try anchored("\\p{Lu}\\P{Lu}", "Ab"))
        #expect(try anchored("\\x{1F600}", "😀"))
        #expect(try anchored("\\Q.*\\E", ".*"))
        #expect(try !anchored("\\Q.*\\E", "ab"))
        #expect(try anchored("a{2,3}", "aaa"))
        #expect(try !anchored("a{2,3}", "aaaa"))
        #expect(try anchored("x{", "x{"))
        #expect(try anchored("a{,2}", "a{,2}"))
        #expect(try anchored("\\141", "a"))
        #expect(try anchored("(?i)k", "\u{212A}"))
        #expect(try anchored("(?i)s", "ſ"))
        #expect(try !anchored("(?i)i", "ı"))
        #expect(try anchored("(?i)[a-z]+", "ABCſ"))
        #expect(try anchored("(?i:a)b", "Ab"))
        #expect(try !anchored("(?i:a)b", "AB"))
        #expect(try anchored("(?m)^b$", "b"))
    }

    @Test func searchesLikeMatchString() throws {
        #expect(try RE2Regex("^(ram|loop)\\d+$").matches("loop0"))
        #expect(try RE2Regex("eth").matches("veth12"))
        #expect(try !RE2Regex("^eth").matches("veth12"))
        #expect(try RE2Regex("\\bfoo\\b").matches("a foo b"))
        #expect(try !RE2Regex("\\bfoo\\b").matches("afoob"))
        #expect(try RE2Regex("(?m)^b").matches("a\nb"))
        #expect(try RE2Regex("(?m)^b").matches("b"))
        #expect(try RE2Regex("(?m)\\nb").matches("a\nb"))
        #expect(try RE2Regex("(?m)b").matches("a\nb"))
        #expect(try RE2Regex("(?m:^b)").matches("a\nb"))
        #expect(try !RE2Regex("^b").matches("a\nb"))
        #expect(try !RE2Regex("a$").matches("a\n"))
    }

    @Test func groupsAreLeftmostFirstAsGoFindsThem() throws {
        let regex = try RE2Regex.anchored("(a+)(a*)")
        let match = try #require(regex.submatches("aaa"))
        #expect(match.group(1) == "aaa")
        #expect(match.group(2) == "")
        let lazy = try #require(try RE2Regex.anchored("(a+?)(a*)").submatches("aaa"))
        #expect(lazy.group(1) == "a")
        #expect(lazy.group(2) == "aa")
        let alternation = try #require(try RE2Regex.anchored("(a|ab)(c|bcd)(d*)").submatches("abcd"))
        #expect([alternation.group(1), alternation.group(2), alternation.group(3)] == ["a", "bcd", ""])
        let optional = try #require(try RE2Regex.anchored("(x)?y").submatches("y"))
        #expect(optional.group(1) == nil)
        // Go issue 46123: (|a)* prefers the empty alternative once, like Perl.
        let star = try #require(try RE2Regex.anchored("(|a)*").submatches("aa"))
        #expect(star.group(1) == "a")
    }

    @Test func expandsTemplatesAsGoExpands() throws {
        let match = try #require(try RE2Regex.anchored("(?P<host>[^:]+):(\\d+)").submatches("web:9100"))
        #expect(match.expand("$1") == "web")
        #expect(match.expand("${host}-$2") == "web-9100")
        #expect(match.expand("$host-$2") == "web-9100")
        #expect(match.expand("$2x") == "")
        #expect(match.expand("${2}x") == "9100x")
        #expect(match.expand("$$1") == "$1")
        #expect(match.expand("$") == "$")
        #expect(match.expand("${1") == "${1")
        #expect(match.expand("$9") == "")
        #expect(match.expand("$01") == "")
    }

    @Test func replacesAllAsReplaceAllString() throws {
        #expect(try RE2Regex("a*").replacingAll(in: "baaac", with: "-") == "-b-c-")
        #expect(try RE2Regex("(\\w+)@").replacingAll(in: "a@b c@d", with: "<$1>") == "<a>b <c>d")
        #expect(try RE2Regex("x").replacingAll(in: "", with: "y") == "")
        #expect(try RE2Regex("").replacingAll(in: "ab", with: "-") == "-a-b-")
    }

    @Test func refusesWhatGoRefusesWithGosMessage() {
        let refusals: [(String, String)] = [
            ("a**", "invalid nested repetition operator: `**`"),
            ("a*+", "invalid nested repetition operator: `*+`"),
            ("a*??", "invalid nested repetition operator: `*??`"),
            ("*a", "missing argument to repetition operator: `*`"),
            ("a|*", "missing argument to repetition operator: `*`"),
            ("(?:{2})", "missing argument to repetition operator: `{2}`"),
            ("(a", "missing closing ): `(a`"),
            ("a)", "unexpected ): `a)`"),
            ("[a", "missing closing ]: `[a`"),
            ("[z-a]", "invalid character class range: `z-a`"),
            ("[[:foo:]]", "invalid character class range: `[:foo:]`"),
            ("\\1", "invalid escape sequence: `\\1`"),
            ("\\8", "invalid escape sequence: `\\8`"),
            ("\\C", "invalid escape sequence: `\\C`"),
            ("\\q", "invalid escape sequence: `\\q`"),
            ("\\xZ1", "invalid escape sequence: `\\xZ1`"),
            ("\\p{Foo}", "invalid character class range: `\\p{Foo}`"),
            ("(?=a)", "invalid or unsupported Perl syntax: `(?=`"),
            ("(?!a)", "invalid or unsupported Perl syntax: `(?!`"),
            ("(?<=a)", "invalid or unsupported Perl syntax: `(?<`"),
            ("(?<n>a)", "invalid or unsupported Perl syntax: `(?<`"),
            ("(?P=n)", "invalid or unsupported Perl syntax: `(?P`"),
            ("(?-)", "invalid or unsupported Perl syntax: `(?-)`"),
            ("(?P<>a)", "invalid named capture: `(?P<>`"),
            ("(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"),
            ("a{1001}", "invalid repeat count: `{1001}`"),
            ("a{2,1}", "invalid repeat count: `{2,1}`"),
            ("(a{100}){100}", "invalid repeat count: `{100}`"),
            ("a\\", "trailing backslash at end of expression: ``"),
        ]
        for (pattern, message) in refusals {
            #expect(throws: RE2SyntaxError.self, "\(pattern)") { try RE2Regex(pattern) }
            do {
                _ = try RE2Regex(pattern)
            } catch {
                #expect(error.description == "error parsing regexp: " + message, "\(pattern)")
            }
        }
        // Duplicate names are allowed, as in Go.
        #expect(throws: Never.self) { try RE2Regex("(?P<n>a)(?P<n>b)") }
    }

    @Test func deepNestingAndHugeProgramsAreRefusedNotCrashing() {
        let deep = String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000)
        #expect { try RE2Regex(deep) } throws: { ($0 as? RE2SyntaxError)?.code == "expression nests too deeply" }
        let large = String(repeating: "[a-z]{1000}", count: 300)
        #expect { try RE2Regex(large) } throws: { ($0 as? RE2SyntaxError)?.code == "expression too large" }
        #expect(throws: Never.self) { try RE2Regex(String(repeating: "(", count: 500) + "a" + String(repeating: ")", count: 500)) }
    }

    /// The patterns that make a backtracking engine take exponential time finish here at once;
    /// a backtracking engine would not finish them (the time limit only turns a hang into a
    /// failure).
    @Test(.timeLimit(.minutes(1))) func pathologicalPatternsRunInLinearTime() throws {
        let subject = String(repeating: "x", count: 5000)
        #expect(try !RE2Regex.anchored("(.*.*)*y").matches(subject))
        #expect(try !RE2Regex.anchored("(x+x+)+y").matches(subject))
        #expect(try !RE2Regex.anchored("(x|x)*y").matches(subject))
        #expect(try !RE2Regex("(a|aa)*b").matches(String(repeating: "a", count: 5000)))
        #expect(try RE2Regex.anchored("(x*)*").submatches(subject) != nil)
    }
}
