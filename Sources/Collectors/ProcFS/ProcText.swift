import MetricModel

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

    /// The first `limit` fields of a `/proc/PID/stat` line after the command name, which is in
    /// parentheses and may itself hold spaces and parentheses: the fields after its last `)`,
    /// found by byte (as procfs' Go code does; a search by Character would run grapheme breaking
    /// over the line). Nil when the line has no `)`. The first field is field 3, the state.
    static func statFields(_ text: String, limit: Int) -> [Substring]? {
        guard let close = text.utf8.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        return fields(text[text.utf8.index(after: close)...], limit: limit)
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

    /// `text` as a number, as Go's `strconv.ParseFloat` reads it. Plain decimal integers — almost
    /// every value in /proc — take a fast path; the conversion of an integer to the nearest double
    /// is the same either way.
    static func number(_ text: Substring) -> Double? {
        let bytes = text.utf8
        if bytes.count <= 19, !bytes.isEmpty {
            var value: UInt64 = 0
            var plain = true
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { plain = false; break }
                value = value &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            }
            if plain { return Double(value) }
        }
        return Double(text)
    }

    /// The bytes `range` of `bytes` as a number, like ``number(_:)-(Substring)``.
    static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        if range.count <= 19, !range.isEmpty {
            var value: UInt64 = 0
            var plain = true
            for index in range {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { plain = false; break }
                value = value &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            }
            if plain { return Double(value) }
        }
        return Double(string(bytes, range))
    }

    /// The bytes `range` of `bytes` as a string (invalid UTF-8 repaired).
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Whether the bytes `range` of `bytes` are digits with at most one `.` after the first: a
    /// number as the kernel prints a fixed-point value (`%lu.%02lu`), which Double reads too.
    static func isFixedPoint(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard let first = range.first, bytes[first] >= UInt8(ascii: "0"), bytes[first] <= UInt8(ascii: "9") else { return false }
        var seenPoint = false
        for index in range.dropFirst() {
            let byte = bytes[index]
            if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if byte < UInt8(ascii: "0") || byte > UInt8(ascii: "9") {
                return false
            }
        }
        return true
    }

    /// Whether the bytes `range` of `bytes` start with `prefix`.
    static func hasPrefix(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ prefix: String) -> Bool {
        var prefix = prefix
        return prefix.withUTF8 { prefix in
            prefix.count <= range.count
                && UnsafeBufferPointer(rebasing: bytes[range.lowerBound..<range.lowerBound + prefix.count]).elementsEqual(prefix)
        }
    }

    /// Calls `body` for each line of `text` (split at `\n`, numbered from 1, empty lines included
    /// but for the nothing after a final newline) with the text's bytes, the ranges of the line's
    /// first `limit` fields and the line's own range. Fields are separated by runs of bytes for
    /// which `isSeparator` holds: spaces and tabs by default, as a `%s`-style scan or Swift's
    /// `split` on `" "` and `"\t"` sees them. The ranges index `bytes`; one array serves every
    /// line, so a file of many short lines (mounts, diskstats, memory.stat) allocates nothing per
    /// line.
    static func forEachLineFields(
        _ text: String, limit: Int, separatedBy isSeparator: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 },
        _ body: (_ bytes: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>], _ line: Range<Int>, _ lineNumber: Int)
            throws(CollectorError) -> Void
    ) throws(CollectorError) {
        var text = text
        var failure: CollectorError?
        text.withUTF8 { bytes in
            var fields: [Range<Int>] = []
            fields.reserveCapacity(limit)
            var lineStart = 0
            var lineNumber = 0
            // The empty text after a final newline is not a line.
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                lineNumber += 1
                fields.removeAll(keepingCapacity: true)
                var index = lineStart
                while fields.count < limit {
                    while index < lineEnd, isSeparator(bytes[index]) { index += 1 }
                    if index == lineEnd { break }
                    var end = index
                    while end < lineEnd, !isSeparator(bytes[end]) { end += 1 }
                    fields.append(index..<end)
                    index = end
                }
                do throws(CollectorError) {
                    try body(bytes, fields, lineStart..<lineEnd, lineNumber)
                } catch {
                    failure = error
                    return
                }
                lineStart = lineEnd + 1
            }
        }
        if let failure { throw failure }
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
