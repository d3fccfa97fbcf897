import Testing
@testable import LookoutSupport

@Suite struct EDNTests {
    static func parse(_ text: String) throws(EDNSyntaxError) -> EDNValue { try EDNValue.parse(Array(text.utf8)) }

    @Test func scalars() throws {
        #expect(try Self.parse("nil") == .null)
        #expect(try Self.parse("true") == .bool(true))
        #expect(try Self.parse("false") == .bool(false))
        #expect(try Self.parse(#""a\tb\rc\nd\\e\"f\b\f\u00e9\ud83d\ude00 é""#) == .string("a\tb\rc\nd\\e\"f\u{8}\u{c}é😀 é"))
        #expect(try Self.parse("\"two\nlines\"") == .string("two\nlines"))
        #expect(try Self.parse("[-7 +7 0 42N 12345678901234567890N 99999999999999999999]")
            == .vector([.integer("-7"), .integer("+7"), .integer("0"), .integer("42N"), .integer("12345678901234567890N"),
                        .integer("99999999999999999999")]))
        #expect(try Self.parse("[1.5 -0.25 1e10 1.0E-5 2.5e+3 2.50M 7M ##Inf ##-Inf ##NaN]")
            == .vector([.float("1.5"), .float("-0.25"), .float("1e10"), .float("1.0E-5"), .float("2.5e+3"), .float("2.50M"), .float("7M"),
                        .float("##Inf"), .float("##-Inf"), .float("##NaN")]))
        #expect(try Self.parse("[1/3 -2/7 241/250]") == .vector([.ratio("1/3"), .ratio("-2/7"), .ratio("241/250")]))
    }

    @Test func charactersKeywordsAndSymbols() throws {
        #expect(try Self.parse(#"[\c \A \é \( \\ \newline \return \space \tab \formfeed \backspace \u00e9 \u]"#)
            == .vector([.character("c"), .character("A"), .character("é"), .character("("), .character("\\"), .character("\n"),
                        .character("\r"), .character(" "), .character("\t"), .character("\u{c}"), .character("\u{8}"), .character("é"),
                        .character("u")]))
        #expect(try Self.parse("[:valid? :jepsen.checker/stats :G-single-item :ok-frac :1 :a:b :/]")
            == .vector([.keyword("valid?"), .keyword("jepsen.checker/stats"), .keyword("G-single-item"), .keyword("ok-frac"),
                        .keyword("1"), .keyword("a:b"), .keyword("/")]))
        // Clojure's stack frames: classes, module-qualified classes, `<init>`, Elle's `...`.
        #expect(try Self.parse("[java.net.SocketTimeoutException java.base/java.lang.Thread <init> ... / a#b c' -x +y .z *ok* $ nil? truely]")
            == .vector(["java.net.SocketTimeoutException", "java.base/java.lang.Thread", "<init>", "...", "/", "a#b", "c'", "-x", "+y",
                        ".z", "*ok*", "$", "nil?", "truely"].map(EDNValue.symbol)))
    }

    @Test func collectionsKeepTheirOrder() throws {
        #expect(try Self.parse("(1 (2) [])") == .list([.integer("1"), .list([.integer("2")]), .vector([])]))
        #expect(try Self.parse("{:b 1, :a [2 3], \"c\" {}, nil #{}, [1] (), {:k 1} #{:x :y}}") == .map([
            (.keyword("b"), .integer("1")), (.keyword("a"), .vector([.integer("2"), .integer("3")])), (.string("c"), .map([])),
            (.null, .set([])), (.vector([.integer("1")]), .list([])), (.map([(.keyword("k"), .integer("1"))]), .set([.keyword("x"), .keyword("y")])),
        ]))
        guard case .map(let members) = try Self.parse("{:z 1 :y 2 :x 3}") else { Issue.record("not a map"); return }
        #expect(members.map(\.key) == [.keyword("z"), .keyword("y"), .keyword("x")])
    }

    @Test func whitespaceCommentsAndDiscards() throws {
        #expect(try Self.parse(" ,, ; a comment\n [1,2 ;; another\n\t3]\r\n ; trailing") == .vector([.integer("1"), .integer("2"), .integer("3")]))
        #expect(try Self.parse("[1 #_2 3 #_ [4 5] #_#_ 6 7 8]") == .vector([.integer("1"), .integer("3"), .integer("8")]))
        #expect(try Self.parse("{:a 1 #_:b #_2 :c 3}") == .map([(.keyword("a"), .integer("1")), (.keyword("c"), .integer("3"))]))
        #expect(try Self.parse("#_ {:old 1} {:new 2} #_ :after") == .map([(.keyword("new"), .integer("2"))]))
    }

    @Test func tagsAreKept() throws {
        #expect(try Self.parse(#"#inst "2026-11-27T10:03:12.345-00:00""#) == .tagged("inst", .string("2026-11-27T10:03:12.345-00:00")))
        #expect(try Self.parse(#"#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6""#) == .tagged("uuid", .string("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")))
        #expect(try Self.parse("#jepsen.history.Op{:index 3, :type :ok}")
            == .tagged("jepsen.history.Op", .map([(.keyword("index"), .integer("3")), (.keyword("type"), .keyword("ok"))])))
        #expect(try Self.parse("#knossos.model.CASRegister{:value 4}") == .tagged("knossos.model.CASRegister", .map([(.keyword("value"), .integer("4"))])))
        #expect(try Self.parse("[#my/tag [1] #unknown #_ 1 2]")
            == .vector([.tagged("my/tag", .vector([.integer("1")])), .tagged("unknown", .integer("2"))]))
        #expect(try Self.parse("#outer #inner 1") == .tagged("outer", .tagged("inner", .integer("1"))))
    }

    @Test func accessors() throws {
        let value = try Self.parse("{:count 42, :big 99999999999999999999, :n 42N, :ratio 1/4, :float 2.5M, :text \"4\"}")
        #expect(value[keyword: "count"]?.integerValue == 42)
        #expect(value[keyword: "n"]?.integerValue == 42)
        #expect(value[keyword: "big"]?.integerValue == nil)
        #expect(value[keyword: "big"]?.doubleValue == 1e20)
        #expect(value[keyword: "ratio"]?.doubleValue == 0.25)
        #expect(value[keyword: "float"]?.doubleValue == 2.5)
        #expect(value[keyword: "text"]?.integerValue == nil)
        #expect(value[keyword: "absent"] == nil)
        #expect(EDNValue.vector([])[keyword: "count"] == nil)
        #expect(EDNValue.float("##-Inf").doubleValue == -.infinity)
        #expect(EDNValue.float("##NaN").doubleValue?.isNaN == true)
        #expect(EDNValue.keyword("ok").doubleValue == nil)
    }

    @Test func mapsAndSetsAreEqualInAnyOrder() throws {
        #expect(try Self.parse("{:a 1 :b #{1 2}}") == Self.parse("{:b #{2 1} :a 1}"))
        #expect(try Self.parse("{:a 1}") != Self.parse("{:a 2}"))
        #expect(try Self.parse("(1 2)") != Self.parse("[1 2]"))
        #expect(try Set([Self.parse("#{1 2}"), Self.parse("#{2 1}")]).count == 1)
    }

    @Test(arguments: [
        ("", 1, 1, "no value: the input is empty"),
        ("  ; only a comment\n", 2, 1, "no value: the input is empty"),
        ("(1 2", 1, 5, "unterminated list opened at line 1, column 1"),
        ("[1 2)", 1, 5, "expected ']' to close the vector opened at line 1, column 1, got ')'"),
        ("{:a 1]", 1, 6, "expected '}' to close the map opened at line 1, column 1, got ']'"),
        ("#{1 2]", 1, 6, "expected '}' to close the set opened at line 1, column 1, got ']'"),
        (")", 1, 1, "unmatched ')'"),
        ("[1] ]", 1, 5, "unmatched ']'"),
        ("{:a 1 :b}", 1, 7, "a map with an odd number of forms: the key :b has no value"),
        ("{:a}", 1, 2, "a map with an odd number of forms: the key :a has no value"),
        ("{:a 1 :a 2}", 1, 7, "duplicate map key :a"),
        ("{{:x 1 :y 2} 1 {:y 2 :x 1} 2}", 1, 16, "duplicate map key a map"),
        ("#{1 2 1}", 1, 7, "duplicate set member 1"),
        ("#{#{1 2} #{2 1}}", 1, 10, "duplicate set member a set"),
        (#""a\qb""#, 1, 3, #"an unknown escape \q in a string"#),
        (#""a\/b""#, 1, 3, #"an unknown escape \/ in a string"#),
        (#""\u12""#, 1, 2, #"a \u escape needs four hex digits"#),
        (#""\u12g4""#, 1, 2, #"a \u escape needs four hex digits"#),
        (#""\ud800""#, 1, 2, "a lone surrogate escape"),
        (#""\udc00""#, 1, 2, "a lone surrogate escape"),
        (#""abc"#, 1, 5, "unterminated string opened at line 1, column 1"),
        (#"\abc"#, 1, 1, #"unknown character \abc"#),
        (#"\u12"#, 1, 1, #"unknown character \u12"#),
        (#"\ud800"#, 1, 1, #"\ud800 is a surrogate, not a character"#),
        ("[\\ ]", 1, 2, "a '\\' without a character"),
        ("012", 1, 1, "invalid number \"012\""),
        ("1.", 1, 1, "invalid number \"1.\""),
        ("1e", 1, 1, "invalid number \"1e\""),
        ("1.5N", 1, 1, "invalid number \"1.5N\""),
        ("12abc", 1, 1, "invalid number \"12abc\""),
        ("0x1F", 1, 1, "invalid number \"0x1F\""),
        ("1/2/3", 1, 1, "invalid number \"1/2/3\""),
        ("1/", 1, 1, "invalid number \"1/\""),
        ("1/0", 1, 1, "the ratio \"1/0\" divides by zero"),
        (".5", 1, 1, "invalid symbol \".5\""),
        ("-5x", 1, 1, "invalid number \"-5x\""),
        ("a/b/c", 1, 1, "invalid symbol \"a/b/c\": '/' must separate a prefix from a name"),
        ("/a", 1, 1, "invalid symbol \"/a\": '/' must separate a prefix from a name"),
        ("a/", 1, 1, "invalid symbol \"a/\": '/' must separate a prefix from a name"),
        ("[x a^b]", 1, 5, "'^' cannot be in a symbol or keyword"),
        ("@x", 1, 1, "'@' cannot be in a symbol or keyword"),
        ("'x", 1, 1, "''' cannot be in a symbol or keyword"),
        (":", 1, 1, "a ':' without a name"),
        ("::a", 1, 1, "a keyword cannot begin with '::'"),
        (":#a", 1, 2, "'#' cannot be in a symbol or keyword"),
        (#"#"re""#, 1, 1, #"'#"' is not EDN (a tag must start with a letter)"#),
        ("#:ns{:a 1}", 1, 1, "'#:' is not EDN (a tag must start with a letter)"),
        ("#(inc %)", 1, 1, "'#(' is not EDN (a tag must start with a letter)"),
        ("#inst 1", 1, 7, "#inst must tag a string, got an integer"),
        ("#uuid \"x\"", 1, 7, "#uuid must tag a UUID string like \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\", got \"x\""),
        ("#foo", 1, 1, "the tag #foo has no value"),
        ("[#foo]", 1, 2, "the tag #foo has no value"),
        ("#", 1, 1, "a '#' at the end of input"),
        ("##Foo", 1, 1, "unknown symbolic value ##Foo"),
        ("[1 #_]", 1, 4, "nothing after #_ to discard"),
        ("#_", 1, 1, "nothing after #_ to discard"),
        ("1 2", 1, 3, "unexpected text after the value"),
        ("{:a 1}\n{:b 2}", 2, 1, "unexpected text after the value"),
        ("{:name \"é\"\n :x [1 2}", 2, 9, "expected ']' to close the vector opened at line 2, column 5, got '}'"),
        ("[\"é\" ]]", 1, 7, "unmatched ']'"),
    ] as [(String, Int, Int, String)])
    func malformedInputIsRefusedWithLineAndColumn(text: String, line: Int, column: Int, reason: String) {
        #expect(throws: EDNSyntaxError(line: line, column: column, reason: reason)) { try Self.parse(text) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: EDNSyntaxError(line: 1, column: 1, reason: "a string that is not UTF-8")) { try EDNValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: EDNSyntaxError(line: 1, column: 1, reason: "a symbol that is not UTF-8")) { try EDNValue.parse([0x61, 0xC3]) }
        #expect(throws: EDNSyntaxError(line: 1, column: 129, reason: "nested deeper than 128 levels")) {
            try Self.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
        }
        #expect(throws: Never.self) { try Self.parse(String(repeating: "[", count: 128) + String(repeating: "]", count: 128)) }
        #expect(throws: EDNSyntaxError.self) { try Self.parse(String(repeating: "#_ ", count: 10_000) + "1 2") }
        #expect(throws: EDNSyntaxError.self) { try Self.parse(String(repeating: "#t ", count: 10_000) + "1") }
    }

    @Test func theErrorSaysWhere() {
        #expect(EDNSyntaxError(line: 3, column: 7, reason: "unmatched ')'").description == "invalid EDN at line 3, column 7: unmatched ')'")
    }
}
