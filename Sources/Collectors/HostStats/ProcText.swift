import Pipeline

/// Splitting of the line-oriented text files in /proc and /sys, on UTF-8 bytes rather than
/// Characters: these files are ASCII, and grapheme breaking would cost more than the parse.
enum ProcText {
    /// The non-empty lines of `text`, without their `\n`.
    static func lines(_ text: String) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "\n")).map { Substring($0) }
    }

    /// Calls `body` with each non-empty line of `text` in order until it returns false, so a parser
    /// that needs only the head of a file does not split the rest.
    static func forEachLine(_ text: String, _ body: (Substring) throws(CollectorError) -> Bool) throws(CollectorError) {
        let bytes = text.utf8
        var start = bytes.startIndex
        while start != bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            if start != end, try !body(Substring(bytes[start..<end])) { return }
            start = end == bytes.endIndex ? end : bytes.index(after: end)
        }
    }

    /// The whitespace-separated fields of `line`, as Go's `strings.Fields` splits ASCII text.
    static func fields(_ line: Substring) -> [Substring] {
        line.utf8.split(whereSeparator: isSpace).map { Substring($0) }
    }

    /// The first `limit` whitespace-separated fields of `line`, so a long line (the `intr` line of
    /// /proc/stat has one field per interrupt) is not split further than needed.
    static func fields(_ line: Substring, limit: Int) -> [Substring] {
        var result: [Substring] = []
        result.reserveCapacity(limit)
        let bytes = line.utf8
        var index = bytes.startIndex
        while result.count < limit {
            while index != bytes.endIndex, isSpace(bytes[index]) { index = bytes.index(after: index) }
            if index == bytes.endIndex { break }
            var end = index
            while end != bytes.endIndex, !isSpace(bytes[end]) { end = bytes.index(after: end) }
            result.append(Substring(bytes[index..<end]))
            index = end
        }
        return result
    }

    /// Whether `byte` is ASCII white space as Go's `unicode.IsSpace` sees it.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// `text` without leading and trailing ASCII white space (Go's `strings.TrimSpace`).
    static func trimmed(_ text: Substring) -> Substring {
        let bytes = text.utf8
        guard let first = bytes.firstIndex(where: { !isSpace($0) }) else { return text[text.endIndex...] }
        let last = bytes.lastIndex(where: { !isSpace($0) })!
        return Substring(bytes[first...last])
    }
}
