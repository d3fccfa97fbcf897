/// A value read from EDN, the extensible data notation Clojure programs write their data in
/// (https://github.com/edn-format/edn) — Jepsen's and Maelstrom's `results.edn` among them.
///
/// Read strictly, as ``JSONValue`` reads JSON: numbers keep their text (an integer beyond 64 bits
/// stays readable as text), maps keep their keys in order and refuse duplicates, sets refuse
/// duplicate members, and anything malformed is an ``EDNSyntaxError`` naming line and column.
/// Beyond the spec, it reads what Clojure's printer writes into such files: ratios (`1/3`), the
/// escapes `\b` and `\f`, the characters `\formfeed` and `\backspace`, and `##Inf`, `##-Inf`,
/// `##NaN`. Tags are kept, not interpreted, so record literals (`#jepsen.history.Op{…}`) and
/// unknown tags read as ``tagged(_:_:)``; only `#inst` (a string) and `#uuid` (a canonical UUID
/// string) are checked.
package indirect enum EDNValue: Sendable, Hashable {
    /// `nil`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A string, unescaped.
    case string(String)
    /// A character: `\c`, `\newline`, `\u00e9`, …
    case character(Character)
    /// An integer as written, sign and `N` suffix included (`-7`, `12345678901234567890N`).
    case integer(String)
    /// A floating-point number as written, `M` suffix included (`1.5`, `1.0E-5`, `2.50M`, `##NaN`).
    case float(String)
    /// A ratio as written (`1/3`, `-2/7`).
    case ratio(String)
    /// A keyword's name without its colon (`valid?`, `jepsen.checker/stats`).
    case keyword(String)
    /// A symbol (`java.net.SocketTimeoutException`, `foo/bar`).
    case symbol(String)
    /// `( … )`.
    case list([EDNValue])
    /// `[ … ]`.
    case vector([EDNValue])
    /// `{ … }`, keys in their order.
    case map([(key: EDNValue, value: EDNValue)])
    /// `#{ … }`, members in their order.
    case set([EDNValue])
    /// `#tag value`: the tag without its `#` (`inst`, `jepsen.history.Op`) and the value it tags.
    case tagged(String, EDNValue)

    /// Deepest nesting accepted; deeper input is refused rather than recursed into. Deeper than
    /// ``JSONValue/maximumDepth``, because checkers nest histories, ops and exceptions.
    package static let maximumDepth = 128

    /// Parses exactly one EDN value from `bytes` (whitespace, commas, comments and `#_` discarded
    /// forms around it allowed). Throws an ``EDNSyntaxError`` naming where the problem is.
    package static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(EDNSyntaxError) -> EDNValue {
        var reader = EDNReader(bytes: Array(bytes))
        try reader.skipSpaceAndDiscards(depth: 0)
        guard reader.index < reader.bytes.count else { throw reader.error("no value: the input is empty") }
        try reader.refuseUnmatched()
        let value = try reader.value(depth: 0)
        try reader.skipSpaceAndDiscards(depth: 0)
        if reader.index < reader.bytes.count {
            try reader.refuseUnmatched()
            throw reader.error("unexpected text after the value")
        }
        return value
    }

    /// The value of the map member whose key is the keyword `name`; nil when this is no map or
    /// has no such key.
    package subscript(keyword name: String) -> EDNValue? {
        guard case .map(let members) = self else { return nil }
        return members.first { $0.key == .keyword(name) }?.value
    }

    /// The value of an integer that fits in `Int` (an `N` suffix allowed); nil otherwise.
    package var integerValue: Int? {
        guard case .integer(let text) = self else { return nil }
        return Int(text.hasSuffix("N") ? String(text.dropLast()) : text)
    }

    /// The value of any number as a `Double` (ratios divided, `M` dropped, `##Inf` infinite);
    /// nil for other kinds.
    var doubleValue: Double? {
        switch self {
        case .integer(let text):
            return Double(text.hasSuffix("N") ? String(text.dropLast()) : text)
        case .float("##Inf"):
            return .infinity
        case .float("##-Inf"):
            return -.infinity
        case .float("##NaN"):
            return .nan
        case .float(let text):
            return Double(text.hasSuffix("M") ? String(text.dropLast()) : text)
        case .ratio(let text):
            let parts = text.split(separator: "/")
            guard parts.count == 2, let numerator = Double(parts[0]), let denominator = Double(parts[1]) else { return nil }
            return numerator / denominator
        default:
            return nil
        }
    }

    /// The kind's name as a message says it: `nil`, `a boolean`, `a keyword`, `a map`, …
    package var kindName: String {
        switch self {
        case .null: "nil"
        case .bool: "a boolean"
        case .string: "a string"
        case .character: "a character"
        case .integer: "an integer"
        case .float: "a float"
        case .ratio: "a ratio"
        case .keyword: "a keyword"
        case .symbol: "a symbol"
        case .list: "a list"
        case .vector: "a vector"
        case .map: "a map"
        case .set: "a set"
        case .tagged(let tag, _): "a #\(tag) value"
        }
    }

    /// The value for a message: scalars as written, short strings quoted, the rest by kind.
    package var shortText: String {
        switch self {
        case .null: "nil"
        case .bool(let value): String(value)
        case .integer(let text), .float(let text), .ratio(let text), .symbol(let text): text
        case .keyword(let name): ":" + name
        case .string(let text) where text.utf8.count <= 40: "\"\(text)\""
        default: kindName
        }
    }

    // Equality is EDN's: maps and sets regardless of order, lists and vectors apart; numbers
    // are equal when written alike (`1` and `1N` differ here, as they would not in Clojure).
    /// Whether the two values are written alike.
    package static func == (left: EDNValue, right: EDNValue) -> Bool {
        switch (left, right) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.character(let a), .character(let b)): a == b
        case (.integer(let a), .integer(let b)), (.float(let a), .float(let b)), (.ratio(let a), .ratio(let b)),
             (.keyword(let a), .keyword(let b)), (.symbol(let a), .symbol(let b)):
            a == b
        case (.list(let a), .list(let b)), (.vector(let a), .vector(let b)): a == b
        case (.set(let a), .set(let b)): a.count == b.count && Set(a) == Set(b)
        case (.map(let a), .map(let b)):
            a.count == b.count && a.allSatisfy { member in b.first { $0.key == member.key }?.value == member.value }
        case (.tagged(let tagA, let a), .tagged(let tagB, let b)): tagA == tagB && a == b
        default: false
        }
    }

    /// Hashes the value as ``==`` compares it.
    package func hash(into hasher: inout Hasher) {
        // Members of maps and sets are hashed apart and summed, so that order does not count.
        func unordered<Members: Sequence>(_ members: Members, _ hash: (Members.Element, inout Hasher) -> Void) -> Int {
            members.reduce(0) { sum, member in
                var inner = Hasher()
                hash(member, &inner)
                return sum &+ inner.finalize()
            }
        }
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(1); hasher.combine(value)
        case .string(let text): hasher.combine(2); hasher.combine(text)
        case .character(let character): hasher.combine(3); hasher.combine(character)
        case .integer(let text): hasher.combine(4); hasher.combine(text)
        case .float(let text): hasher.combine(5); hasher.combine(text)
        case .ratio(let text): hasher.combine(6); hasher.combine(text)
        case .keyword(let name): hasher.combine(7); hasher.combine(name)
        case .symbol(let name): hasher.combine(8); hasher.combine(name)
        case .list(let elements): hasher.combine(9); hasher.combine(elements)
        case .vector(let elements): hasher.combine(10); hasher.combine(elements)
        case .map(let members):
            hasher.combine(11)
            hasher.combine(unordered(members) { member, inner in inner.combine(member.key); inner.combine(member.value) })
        case .set(let members): hasher.combine(12); hasher.combine(unordered(members) { member, inner in inner.combine(member) })
        case .tagged(let tag, let value): hasher.combine(13); hasher.combine(tag); hasher.combine(value)
        }
    }
}

/// Where and why EDN text is malformed: line and column (from 1; columns count characters).
package struct EDNSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line of the problem, from 1.
    package var line: Int
    /// The column of the problem in characters, from 1.
    package var column: Int
    /// What is wrong there.
    package var reason: String

    /// Creates the error.
    package init(line: Int, column: Int, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// The problem as one line.
    package var description: String { "invalid EDN at line \(line), column \(column): \(reason)" }
}

/// The recursive-descent reader behind ``EDNValue/parse(_:)``.
private struct EDNReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ reason: String, at offset: Int? = nil) -> EDNSyntaxError {
        let (line, column) = lineAndColumn(of: offset ?? index, in: bytes)
        return EDNSyntaxError(line: line, column: column, reason: reason)
    }

    func position(_ offset: Int) -> String {
        let (line, column) = lineAndColumn(of: offset, in: bytes)
        return "line \(line), column \(column)"
    }

    // Byte classes, looked up in a table rather than compared, as the reader asks about every byte.
    static let whitespaceClass: UInt8 = 1, delimiterClass: UInt8 = 2, symbolClass: UInt8 = 4, innerSymbolClass: UInt8 = 8, digitClass: UInt8 = 16
    static let byteClasses: [UInt8] = {
        var classes = [UInt8](repeating: 0, count: 256)
        // The spec's whitespace and the comma; \f and \v as Clojure's reader takes them.
        for byte in " \t\n\r\u{0C}\u{0B},".utf8 { classes[Int(byte)] |= whitespaceClass | delimiterClass }
        for byte in "()[]{}\";\\".utf8 { classes[Int(byte)] |= delimiterClass }
        // Symbols: letters, digits and .*+!-_?$%&=<>/ anywhere (and, as Clojure's, any non-ASCII
        // character); : # ' after the first character.
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.*+!-_?$%&=<>/".utf8 {
            classes[Int(byte)] |= symbolClass
        }
        for byte in 0x80...0xFF { classes[byte] |= symbolClass }
        for byte in ":#'".utf8 { classes[Int(byte)] |= innerSymbolClass }
        for byte in "0123456789".utf8 { classes[Int(byte)] |= digitClass }
        return classes
    }()

    static func isWhitespace(_ byte: UInt8) -> Bool { byteClasses[Int(byte)] & whitespaceClass != 0 }

    static func isClosing(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ")") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")
    }

    /// Whether `byte` ends a token (a number, symbol, keyword or character name).
    static func isDelimiter(_ byte: UInt8) -> Bool { byteClasses[Int(byte)] & delimiterClass != 0 }

    static func isDigit(_ byte: UInt8) -> Bool { byteClasses[Int(byte)] & digitClass != 0 }

    /// Skips whitespace, commas, `;` comments and `#_` discarded forms.
    mutating func skipSpaceAndDiscards(depth: Int) throws(EDNSyntaxError) {
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isWhitespace(byte) {
                index += 1
            } else if byte == UInt8(ascii: ";") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else if byte == UInt8(ascii: "#"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "_") {
                guard depth < EDNValue.maximumDepth else { throw error("nested deeper than \(EDNValue.maximumDepth) levels") }
                let start = index
                index += 2
                try skipSpaceAndDiscards(depth: depth + 1)
                guard index < bytes.count, !Self.isClosing(bytes[index]) else { throw error("nothing after #_ to discard", at: start) }
                // Deeper by one, so that a long chain of #_ ends at the depth limit, not the stack's.
                _ = try value(depth: depth + 1)
            } else {
                return
            }
        }
    }

    /// Refuses a closing delimiter where a value or the end should be.
    func refuseUnmatched() throws(EDNSyntaxError) {
        if Self.isClosing(bytes[index]) { throw error("unmatched '\(Character(Unicode.Scalar(bytes[index])))'") }
    }

    /// The value that starts at `index`. Callers skip whitespace and discards and check that
    /// neither the end nor a closing delimiter comes first, as only they can say what is missing.
    mutating func value(depth: Int) throws(EDNSyntaxError) -> EDNValue {
        guard depth < EDNValue.maximumDepth else { throw error("nested deeper than \(EDNValue.maximumDepth) levels") }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "("):
            index += 1
            return .list(try elements(closedBy: UInt8(ascii: ")"), opened: start, what: "list", depth: depth))
        case UInt8(ascii: "["):
            index += 1
            return .vector(try elements(closedBy: UInt8(ascii: "]"), opened: start, what: "vector", depth: depth))
        case UInt8(ascii: "{"):
            index += 1
            return try map(opened: start, depth: depth)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "\\"):
            return .character(try character())
        case UInt8(ascii: "#"):
            return try dispatch(depth: depth)
        case UInt8(ascii: ":"):
            return .keyword(try keyword())
        default:
            return try scalar()
        }
    }

    /// The elements up to `close`, which must be the next closing delimiter.
    mutating func elements(closedBy close: UInt8, opened start: Int, what: String, depth: Int) throws(EDNSyntaxError) -> [EDNValue] {
        var elements: [EDNValue] = []
        while true {
            try skipSpaceAndDiscards(depth: depth + 1)
            try expectMore(closedBy: close, opened: start, what: what)
            if bytes[index] == close {
                index += 1
                return elements
            }
            elements.append(try value(depth: depth + 1))
        }
    }

    /// Refuses the end of input and a closing delimiter other than `close` inside a collection.
    func expectMore(closedBy close: UInt8, opened start: Int, what: String) throws(EDNSyntaxError) {
        guard index < bytes.count else { throw error("unterminated \(what) opened at \(position(start))") }
        let byte = bytes[index]
        if Self.isClosing(byte), byte != close {
            throw error("expected '\(Character(Unicode.Scalar(close)))' to close the \(what) opened at \(position(start)), "
                        + "got '\(Character(Unicode.Scalar(byte)))'")
        }
    }

    mutating func map(opened start: Int, depth: Int) throws(EDNSyntaxError) -> EDNValue {
        let close = UInt8(ascii: "}")
        var members: [(key: EDNValue, value: EDNValue)] = []
        var keys = Set<EDNValue>()
        while true {
            try skipSpaceAndDiscards(depth: depth + 1)
            try expectMore(closedBy: close, opened: start, what: "map")
            if bytes[index] == close {
                index += 1
                return .map(members)
            }
            let keyStart = index
            let key = try value(depth: depth + 1)
            guard keys.insert(key).inserted else { throw error("duplicate map key \(key.shortText)", at: keyStart) }
            try skipSpaceAndDiscards(depth: depth + 1)
            try expectMore(closedBy: close, opened: start, what: "map")
            if bytes[index] == close {
                throw error("a map with an odd number of forms: the key \(key.shortText) has no value", at: keyStart)
            }
            members.append((key, try value(depth: depth + 1)))
        }
    }

    mutating func set(opened start: Int, depth: Int) throws(EDNSyntaxError) -> EDNValue {
        let close = UInt8(ascii: "}")
        var members: [EDNValue] = []
        var seen = Set<EDNValue>()
        while true {
            try skipSpaceAndDiscards(depth: depth + 1)
            try expectMore(closedBy: close, opened: start, what: "set")
            if bytes[index] == close {
                index += 1
                return .set(members)
            }
            let memberStart = index
            let member = try value(depth: depth + 1)
            guard seen.insert(member).inserted else { throw error("duplicate set member \(member.shortText)", at: memberStart) }
            members.append(member)
        }
    }

    /// After `#`: a set, a discard (handled before), `##Inf`-style values, or a tag.
    mutating func dispatch(depth: Int) throws(EDNSyntaxError) -> EDNValue {
        let start = index
        guard index + 1 < bytes.count else { throw error("a '#' at the end of input") }
        let next = bytes[index + 1]
        if next == UInt8(ascii: "{") {
            index += 2
            return try set(opened: start, depth: depth)
        }
        if next == UInt8(ascii: "#") {
            index += 2
            let name = String(decoding: token(), as: UTF8.self)
            guard ["Inf", "-Inf", "NaN"].contains(name) else { throw error("unknown symbolic value ##\(name)", at: start) }
            return .float("##" + name)
        }
        // A tag is `#` and, at once, a symbol that starts with a letter.
        guard (next | 0x20) >= UInt8(ascii: "a"), (next | 0x20) <= UInt8(ascii: "z") else {
            throw error("'#\(Character(Unicode.Scalar(next)))' is not EDN (a tag must start with a letter)")
        }
        index += 1
        let tag = try symbol(token(), at: start + 1)
        try skipSpaceAndDiscards(depth: depth + 1)
        guard index < bytes.count, !Self.isClosing(bytes[index]) else { throw error("the tag #\(tag) has no value", at: start) }
        let valueStart = index
        let value = try value(depth: depth + 1)
        switch tag {
        case "inst":
            guard case .string = value else { throw error("#inst must tag a string, got \(value.kindName)", at: valueStart) }
        case "uuid":
            guard case .string(let text) = value, Self.isCanonicalUUID(text) else {
                throw error("#uuid must tag a UUID string like \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\", got \(value.shortText)", at: valueStart)
            }
        default:
            break
        }
        return .tagged(tag, value)
    }

    static func isCanonicalUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        return bytes.enumerated().allSatisfy { offset, byte in
            [8, 13, 18, 23].contains(offset) ? byte == UInt8(ascii: "-") : hexDigit(byte) != nil
        }
    }

    static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }

    /// The bytes from `index` to the next delimiter, consumed.
    mutating func token() -> ArraySlice<UInt8> {
        let start = index
        while index < bytes.count, !Self.isDelimiter(bytes[index]) { index += 1 }
        return bytes[start..<index]
    }

    /// A keyword's name: a symbol after the colon (which may start with a digit, as Clojure's
    /// `:1` does); `::` (Clojure's auto-resolved keyword) is not EDN.
    mutating func keyword() throws(EDNSyntaxError) -> String {
        let start = index
        index += 1
        let name = token()
        guard let first = name.first else { throw error("a ':' without a name", at: start) }
        guard first != UInt8(ascii: ":") else { throw error("a keyword cannot begin with '::'", at: start) }
        return try symbol(name, at: start + 1, leadingDigitAllowed: true)
    }

    /// `nil`, `true`, `false`, a number or a symbol.
    mutating func scalar() throws(EDNSyntaxError) -> EDNValue {
        let start = index
        let text = token()
        guard let first = text.first else { preconditionFailure("value(depth:) is called only where a value starts") }
        let second = text.dropFirst().first
        if Self.isDigit(first) || (first == UInt8(ascii: "+") || first == UInt8(ascii: "-")) && second.map(Self.isDigit) == true {
            return try number(text, at: start)
        }
        let name = try symbol(text, at: start)
        switch name {
        case "nil": return .null
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return .symbol(name)
        }
    }

    /// Checks a symbol by the spec: letters, digits and `.*+!-_?$%&=<>`, then also `:#'`; not
    /// starting with a digit (nor `+`, `-` or `.` and a digit); one `/` inside, or `/` alone.
    func symbol(_ text: ArraySlice<UInt8>, at start: Int, leadingDigitAllowed: Bool = false) throws(EDNSyntaxError) -> String {
        guard let first = text.first else { throw error("expected a symbol", at: start) }
        for (offset, byte) in zip(text.indices, text) {
            let byteClass = Self.byteClasses[Int(byte)]
            guard byteClass & Self.symbolClass != 0 || offset > text.startIndex && byteClass & Self.innerSymbolClass != 0 else {
                throw error("'\(Character(Unicode.Scalar(byte)))' cannot be in a symbol or keyword", at: start + offset - text.startIndex)
            }
        }
        let name = String(decoding: text, as: UTF8.self)
        guard text.withUnsafeBytes(JSONText.isValidUTF8) else { throw error("a symbol that is not UTF-8", at: start) }
        if !leadingDigitAllowed {
            let signOrDot = first == UInt8(ascii: ".") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
            guard !Self.isDigit(first), !(signOrDot && text.dropFirst().first.map(Self.isDigit) == true) else {
                throw error("invalid symbol \"\(name)\"", at: start)
            }
        }
        let slashes = text.count { $0 == UInt8(ascii: "/") }
        guard slashes == 0 || name == "/" || slashes == 1 && text.first != UInt8(ascii: "/") && text.last != UInt8(ascii: "/") else {
            throw error("invalid symbol \"\(name)\": '/' must separate a prefix from a name", at: start)
        }
        return name
    }

    /// An integer (`N` for arbitrary precision), a float (`M` for exact), or a ratio.
    func number(_ text: ArraySlice<UInt8>, at start: Int) throws(EDNSyntaxError) -> EDNValue {
        let string = String(decoding: text, as: UTF8.self)
        // Made only when thrown: finding the line and column scans the input.
        var invalid: EDNSyntaxError { error("invalid number \"\(string)\"", at: start) }
        var index = text.startIndex
        func digits() -> Int {
            let from = index
            while index < text.endIndex, Self.isDigit(text[index]) { index += 1 }
            return index - from
        }
        func at(_ character: Unicode.Scalar, or other: Unicode.Scalar? = nil) -> Bool {
            index < text.endIndex && (text[index] == UInt8(ascii: character) || other.map { text[index] == UInt8(ascii: $0) } == true)
        }
        if at("+", or: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw invalid }
        if at("/") {
            index += 1
            let denominatorStart = index
            guard digits() > 0, index == text.endIndex else { throw invalid }
            guard text[denominatorStart...].contains(where: { $0 != UInt8(ascii: "0") }) else {
                throw error("the ratio \"\(string)\" divides by zero", at: start)
            }
            return .ratio(string)
        }
        // No integer other than 0 may begin with 0.
        guard integerDigits == 1 || text[integerStart] != UInt8(ascii: "0") else { throw invalid }
        if index == text.endIndex { return .integer(string) }
        if at("N") {
            index += 1
            guard index == text.endIndex else { throw invalid }
            return .integer(string)
        }
        if at(".") {
            index += 1
            guard digits() > 0 else { throw invalid }
        }
        if at("e", or: "E") {
            index += 1
            if at("+", or: "-") { index += 1 }
            guard digits() > 0 else { throw invalid }
        }
        if at("M") { index += 1 }
        guard index == text.endIndex else { throw invalid }
        return .float(string)
    }

    /// A string: `\t \r \n \\ \"`, Clojure's `\b \f`, and `\uXXXX` escapes decoded.
    mutating func string() throws(EDNSyntaxError) -> String {
        let start = index
        index += 1
        var output: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated string opened at \(position(start))") }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard output.withUnsafeBytes(JSONText.isValidUTF8) else { throw error("a string that is not UTF-8", at: start) }
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeStart = index
                index += 1
                guard index < bytes.count else { throw error("unterminated string opened at \(position(start))") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(escape)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(escapeStart)
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("a lone surrogate escape", at: escapeStart)
                        }
                        index += 2
                        let low = try hex4(escapeStart)
                        guard (0xDC00..<0xE000).contains(low) else { throw error("a lone surrogate escape", at: escapeStart) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("a lone surrogate escape", at: escapeStart)
                    }
                    output.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                default:
                    let shown = escape < 0x80 ? String(Character(Unicode.Scalar(escape))) : "…"
                    throw error("an unknown escape \\\(shown) in a string", at: escapeStart)
                }
            default:
                output.append(byte)
                index += 1
            }
        }
    }

    /// Four hex digits after `\u`.
    mutating func hex4(_ escapeStart: Int) throws(EDNSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("a \\u escape needs four hex digits", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Self.hexDigit(bytes[index]) else { throw error("a \\u escape needs four hex digits", at: escapeStart) }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// A character literal: `\c`, a name (`newline`, `return`, `space`, `tab`, and Clojure's
    /// `formfeed`, `backspace`) or `\uXXXX`.
    mutating func character() throws(EDNSyntaxError) -> Character {
        let start = index
        index += 1
        guard index < bytes.count, !Self.isWhitespace(bytes[index]) else { throw error("a '\\' without a character", at: start) }
        // The first character is taken whatever it is (`\(` is a parenthesis); the token runs on
        // to the next delimiter.
        let first = index
        index += 1
        while index < bytes.count, bytes[index] & 0xC0 == 0x80 { index += 1 }
        _ = token()
        let text = bytes[first..<index]
        guard text.withUnsafeBytes(JSONText.isValidUTF8) else { throw error("a character that is not UTF-8", at: start) }
        let name = String(decoding: text, as: UTF8.self)
        if name.unicodeScalars.count == 1 { return Character(name) }
        switch name {
        case "newline": return "\n"
        case "return": return "\r"
        case "space": return " "
        case "tab": return "\t"
        case "formfeed": return "\u{0C}"
        case "backspace": return "\u{08}"
        default:
            if name.utf8.count == 5, name.hasPrefix("u") {
                let digits = name.utf8.dropFirst().compactMap(Self.hexDigit)
                if digits.count == 4 {
                    let value = digits.reduce(0) { $0 << 4 | $1 }
                    guard let scalar = Unicode.Scalar(value) else { throw error("\\\(name) is a surrogate, not a character", at: start) }
                    return Character(scalar)
                }
            }
            throw error("unknown character \\\(name)", at: start)
        }
    }
}
