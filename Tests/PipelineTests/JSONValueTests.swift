import Testing
import LookoutSupport

@Suite struct JSONValueTests {
    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func valuesOfEveryKind() throws {
        #expect(try Self.parse(#" {"a": [1, -0.5e+3, true, false, null], "b": {"c": "d"}, "e": ""} "#) == .object([
            ("a", .array([.number("1"), .number("-0.5e+3"), .bool(true), .bool(false), .null])),
            ("b", .object([("c", .string("d"))])), ("e", .string("")),
        ]))
        #expect(try Self.parse("[]") == .array([]))
        #expect(try Self.parse("{}") == .object([]))
        #expect(try Self.parse("0") == .number("0"))
    }

    @Test func escapesAndUnicode() throws {
        #expect(try Self.parse(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\té😀"))
        #expect(try Self.parse("\"héllo\"") == .string("héllo"))
    }

    @Test(arguments: [
        ("", 0, "unexpected end of input"),
        ("{", 1, "expected a string key"),
        (#"{"a" 1}"#, 5, "expected ':'"),
        (#"{"a":1,"a":2}"#, 7, "duplicate key \"a\""),
        (#"{"a":1"#, 6, "unexpected end of input"),
        ("[1,]", 3, "unexpected character"),
        ("[1 2]", 3, "expected ',' or ']'"),
        ("01", 1, "unexpected text after the value"),
        ("1.", 2, "no digits after the decimal point"),
        ("1e", 2, "no digits in the exponent"),
        ("-", 1, "a number without digits"),
        ("+1", 0, "unexpected character"),
        ("tru", 0, "unexpected character"),
        (#""abc"#, 4, "unterminated string"),
        ("\"a\tb\"", 2, "a control character in a string"),
        (#""\x""#, 2, "an unknown escape"),
        (#""\ud800""#, 7, "a lone surrogate escape"),
        (#""\udc00""#, 7, "a lone surrogate escape"),
        (#""\u12""#, 3, #"a short \u escape"#),
        ("NaN", 0, "unexpected character"),
        ("{} {}", 3, "unexpected text after the value"),
    ] as [(String, Int, String)])
    func malformedInputIsRefusedWithItsOffset(text: String, offset: Int, reason: String) {
        #expect(throws: JSONSyntaxError(offset: offset, reason: reason)) { try Self.parse(text) }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        #expect(throws: JSONSyntaxError(offset: 64, reason: "nested deeper than 64 levels")) {
            try Self.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100))
        }
        #expect(throws: Never.self) { try Self.parse(String(repeating: "[", count: 63) + String(repeating: "]", count: 63)) }
    }
}
