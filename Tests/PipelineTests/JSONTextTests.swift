import Testing
@testable import LookoutSupport

@Suite struct JSONTextTests {
    static func string(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { JSONText.appendString($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    @Test func escapesQuotesBackslashesAndControlCharacters() {
        #expect(Self.string(Array("plain".utf8)) == #""plain""#)
        #expect(Self.string(Array("a\"b\\c".utf8)) == #""a\"b\\c""#)
        #expect(Self.string(Array("line\nnext\ttab\r\u{8}\u{C}".utf8)) == #""line\nnext\ttab\r\b\f""#)
        #expect(Self.string([0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x00, 0x7F]) == #""\u001b[31m\u0000"# + "\u{7F}\"")
        #expect(Self.string(Array("café ☃ 🚀".utf8)) == "\"café ☃ 🚀\"")
        #expect(Self.string([]) == #""""#)
    }

    @Test(arguments: [
        ([UInt8](), true),
        (Array("ascii only, long enough to take the eight-byte path".utf8), true),
        (Array("café ☃ 🚀".utf8), true),
        ([0xFF], false),
        ([0xC3, 0x28], false),                // bad continuation
        ([0xC0, 0xAF], false),                // overlong '/'
        ([0xE0, 0x80, 0xAF], false),          // overlong
        ([0xED, 0xA0, 0x80], false),          // UTF-16 surrogate
        ([0xF4, 0x90, 0x80, 0x80], false),    // past U+10FFFF
        ([0xF0, 0x9F, 0x9A], false),          // truncated
        ([0xF4, 0x8F, 0xBF, 0xBF], true),     // U+10FFFF
    ])
    func validatesUTF8(bytes: [UInt8], valid: Bool) {
        #expect(bytes.withUnsafeBytes { JSONText.isValidUTF8($0) } == valid)
        #expect((String(validating: bytes, as: UTF8.self) != nil) == valid)
    }

    @Test func integersInDecimal() {
        for value: UInt64 in [0, 7, 10, 99, 1_764_150_000_000_000, .max] {
            var output: [UInt8] = []
            JSONText.appendInteger(value, to: &output)
            #expect(String(decoding: output, as: UTF8.self) == String(value))
        }
    }
}

@Suite struct CivilTimeTests {
    static func rfc3339(_ microseconds: Int64) -> String {
        var output: [UInt8] = []
        CivilTime(microseconds: microseconds).appendRFC3339(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    @Test func formatsUTCWithMicroseconds() {
        #expect(Self.rfc3339(0) == "1970-01-01T00:00:00.000000Z")
        #expect(Self.rfc3339(1_764_150_001_990_955) == "2025-11-26T09:40:01.990955Z")
        #expect(Self.rfc3339(951_782_400_000_001) == "2000-02-29T00:00:00.000001Z")
        #expect(Self.rfc3339(-1) == "1969-12-31T23:59:59.999999Z")
        #expect(Self.rfc3339(4_102_444_799_999_999) == "2099-12-31T23:59:59.999999Z")
    }

    @Test func roundTripsThroughItsParts() {
        for microseconds: Int64 in [0, 1, 86_399_999_999, 951_782_400_000_001, 1_764_150_001_990_955, -86_400_000_001] {
            #expect(CivilTime(microseconds: microseconds).microseconds == microseconds)
        }
    }
}
