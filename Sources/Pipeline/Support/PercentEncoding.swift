/// Percent-encoding (RFC 3986 §2.1): of the query values in URLs Lookout builds (queries to a
/// Prometheus API, alerts' generator URLs), and the decoding of what requests to the daemon send.
package enum PercentEncoding {
    /// `text` for a URL query value: the unreserved characters (RFC 3986 §2.3) kept, every other
    /// byte of its UTF-8 as `%XX`.
    package static func encoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                encoded.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                encoded += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return encoded
    }
}

extension PercentEncoding {
    /// A `%` not followed by two hexadecimal digits, named as Go's `net/url` names it.
    package struct InvalidEscape: Error, Equatable, CustomStringConvertible {
        /// The escape as written (`%zz`, `%4`).
        package var escape: String
        /// `invalid URL escape "%zz"`.
        package var description: String { "invalid URL escape \"\(escape)\"" }
    }

    /// Go's `url.QueryUnescape`: `%XX` decoded, `+` read as a space (a form's encoding).
    package static func decodedQueryComponent(_ text: Substring) throws(InvalidEscape) -> String {
        try decoded(text, plusIsSpace: true)
    }

    /// Go's `url.PathUnescape`: `%XX` decoded, `+` kept.
    package static func decodedPathSegment(_ text: Substring) throws(InvalidEscape) -> String {
        try decoded(text, plusIsSpace: false)
    }

    private static func decoded(_ text: Substring, plusIsSpace: Bool) throws(InvalidEscape) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else { return String(text) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    let end = min(index + 3, bytes.count)
                    throw InvalidEscape(escape: String(decoding: bytes[index..<end], as: UTF8.self))
                }
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        // Bytes that are not UTF-8 become U+FFFD, as everywhere a String is made.
        return String(decoding: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
