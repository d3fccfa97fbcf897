/// Percent-encoding of URL query values (RFC 3986 §2.1), for the URLs Lookout builds: queries to
/// a Prometheus API and alerts' generator URLs.
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
