/// Standard base64 (RFC 4648 §4, with padding), as Go's `base64.StdEncoding` writes and reads it:
/// journal fields that are not text, and HTTP basic credentials.
package enum Base64 {
    /// Appends `bytes` as standard base64 (RFC 4648, with padding), without quotes.
    package static func append(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(alphabet[Int(chunk >> 6 & 63)])
            output.append(alphabet[Int(chunk & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            output.append(alphabet[Int(chunk >> 18 & 63)])
            output.append(alphabet[Int(chunk >> 12 & 63)])
            output.append(rest == 2 ? alphabet[Int(chunk >> 6 & 63)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
    }

    /// `bytes` as base64 text.
    package static func encoded(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { append($0, to: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes, decoded as Go's `base64.StdEncoding` decodes: line breaks are
    /// skipped, and nil is returned for a wrong length, a character outside the alphabet or
    /// padding anywhere but at the end. (Bits after the last byte are ignored, as Go's
    /// non-strict decoding ignores them.)
    package static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        let characters = text.filter { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        guard characters.count % 4 == 0 else { return nil }
        let padding = characters.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 4 * 3)
        var index = 0
        while index < characters.count {
            var group: UInt32 = 0
            for offset in 0..<4 {
                let isPadding = index + offset >= characters.count - padding
                let value = isPadding ? 0 : decodingTable[Int(characters[index + offset])]
                guard value >= 0 else { return nil }
                group = group << 6 | UInt32(value)
            }
            output += [UInt8(group >> 16 & 0xFF), UInt8(group >> 8 & 0xFF), UInt8(group & 0xFF)]
            index += 4
        }
        output.removeLast(padding)
        return output
    }

    /// Each byte's 6-bit value in the standard alphabet, -1 for bytes outside it ("=" included).
    private static let decodingTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (value, character) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(character)] = Int8(value)
        }
        return table
    }()
}
