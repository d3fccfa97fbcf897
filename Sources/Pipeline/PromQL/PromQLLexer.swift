/// One token of PromQL text, with its byte offset in the expression.
struct PromQLToken {
    enum Kind: Equatable {
        case identifier, metricIdentifier, number, string, duration
        /// `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`, `bool`, `offset`.
        case keyword
        /// `sum`, `avg`, … `count_values`.
        case aggregator
        /// An operator between two expressions, `and`/`or`/`unless`/`atan2` included.
        case binaryOperator(PromQLBinaryOperator)
        /// `=` anywhere; `!=`, `=~` and `!~` inside braces.
        case matchOperator(PromQLMatcher.Operation)
        case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket, comma, colon, at
        case end
        /// Text the lexer cannot read, with Prometheus' message for it.
        case error(String)
    }

    var kind: Kind
    /// The text as written (a string keeps its quotes).
    var text: String
    var offset: Int

    /// How Prometheus names the token in "unexpected …" messages (`lex.go` `Item.desc`).
    var promQLDescription: String {
        switch kind {
        case .end: return "end of input"
        case .identifier: return "identifier " + quotedPromQLString(text)
        case .metricIdentifier: return "metric identifier " + quotedPromQLString(text)
        case .number, .string, .duration:
            let name = kind == .number ? "number" : kind == .string ? "string" : "duration"
            // Go's `%.10q…`: at most ten characters of the text.
            return text.count > 10 ? "\(name) \(quotedPromQLString(String(text.prefix(10))))..." : "\(name) \(quotedPromQLString(text))"
        case .keyword: return "<\(text)>"
        case .aggregator: return "<aggr:\(text)>"
        case .binaryOperator, .matchOperator(.notEqual), .matchOperator(.matchesRegex), .matchOperator(.doesNotMatchRegex):
            return "<op:\(text)>"
        case .matchOperator(.equal), .leftParen, .rightParen, .leftBrace, .rightBrace, .leftBracket, .rightBracket, .comma, .colon:
            return quotedPromQLString(text)
        case .at: return "<op:@>"
        case .error(let message): return message
        }
    }
}

/// The PromQL lexer, after prometheus `promql/parser/lex.go`: keywords are case-insensitive and
/// only recognised outside braces, `5m` is a duration wherever it appears, and inside `[…]` only
/// durations, numbers and `:` may appear. Its errors carry `lex.go`'s messages.
struct PromQLLexer {
    let bytes: [UInt8]
    private var index = 0
    private var parenDepth = 0
    private var braceOpen = false
    private var bracketOpen = false
    private var finished = false

    init(bytes: [UInt8]) { self.bytes = bytes }

    static let keywords: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"]
    static let wordOperators: [String: PromQLBinaryOperator] = ["and": .and, "or": .or, "unless": .unless, "atan2": .atan2]

    private func peekByte(_ ahead: Int = 0) -> UInt8? { index + ahead < bytes.count ? bytes[index + ahead] : nil }
    private func text(from start: Int) -> String { String(decoding: bytes[start..<index], as: UTF8.self) }
    private func token(_ kind: PromQLToken.Kind, from start: Int) -> PromQLToken { PromQLToken(kind: kind, text: text(from: start), offset: start) }

    private mutating func fail(_ message: String, at offset: Int) -> PromQLToken {
        finished = true
        return PromQLToken(kind: .error(message), text: "", offset: offset)
    }

    /// The next token; after an error or the end, the end again.
    mutating func next() -> PromQLToken {
        if finished { return PromQLToken(kind: .end, text: "", offset: bytes.count) }
        skipSpaceAndComments()
        let start = index
        guard let byte = peekByte() else {
            if braceOpen { return fail("unexpected end of input inside braces", at: start) }
            if bracketOpen { return fail("unexpected end of input in duration expression", at: start) }
            if parenDepth != 0 { return fail("unclosed left parenthesis", at: start) }
            finished = true
            return PromQLToken(kind: .end, text: "", offset: start)
        }
        if braceOpen { return nextInsideBraces(byte, start: start) }
        if bracketOpen { return nextInsideBrackets(byte, start: start) }
        index += 1
        switch byte {
        case UInt8(ascii: ","): return token(.comma, from: start)
        case UInt8(ascii: "("):
            parenDepth += 1
            return token(.leftParen, from: start)
        case UInt8(ascii: ")"):
            parenDepth -= 1
            // `lex.go` reports this after the parenthesis, where its next token would start.
            if parenDepth < 0 { return fail("unexpected right parenthesis ')'", at: index) }
            return token(.rightParen, from: start)
        case UInt8(ascii: "{"):
            braceOpen = true
            return token(.leftBrace, from: start)
        case UInt8(ascii: "["):
            bracketOpen = true
            return token(.leftBracket, from: start)
        case UInt8(ascii: "]"): return fail("unexpected right bracket ']'", at: start)
        case UInt8(ascii: "}"): return fail("unexpected character: '}'", at: start)
        case UInt8(ascii: "@"): return token(.at, from: start)
        case UInt8(ascii: "*"): return token(.binaryOperator(.multiply), from: start)
        case UInt8(ascii: "/"): return token(.binaryOperator(.divide), from: start)
        case UInt8(ascii: "%"): return token(.binaryOperator(.modulo), from: start)
        case UInt8(ascii: "+"): return token(.binaryOperator(.add), from: start)
        case UInt8(ascii: "-"): return token(.binaryOperator(.subtract), from: start)
        case UInt8(ascii: "^"): return token(.binaryOperator(.power), from: start)
        case UInt8(ascii: "="):
            if peekByte() == UInt8(ascii: "=") {
                index += 1
                return token(.binaryOperator(.equal), from: start)
            }
            if peekByte() == UInt8(ascii: "~") { return fail("unexpected character after '=': '~'", at: start) }
            return token(.matchOperator(.equal), from: start)
        case UInt8(ascii: "!"):
            guard peekByte() == UInt8(ascii: "=") else { return fail("unexpected character after '!': \(quotedCharacter(at: index))", at: start) }
            index += 1
            return token(.binaryOperator(.notEqual), from: start)
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            let orEqual = peekByte() == UInt8(ascii: "=")
            if orEqual { index += 1 }
            let op: PromQLBinaryOperator = byte == UInt8(ascii: "<") ? (orEqual ? .lessOrEqual : .less) : (orEqual ? .greaterOrEqual : .greater)
            return token(.binaryOperator(op), from: start)
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            index -= 1
            return string(start: start)
        case _ where isDigit(byte) || (byte == UInt8(ascii: ".") && peekByte().map(isDigit) == true):
            index -= 1
            return numberOrDuration(start: start)
        case _ where isAlpha(byte) || byte == UInt8(ascii: ":"):
            while let next = peekByte(), isAlphaNumeric(next) || next == UInt8(ascii: ":") { index += 1 }
            let word = text(from: start)
            let lowered = word.lowercased()
            if Self.keywords.contains(lowered) { return token(.keyword, from: start) }
            if let op = Self.wordOperators[lowered] { return token(.binaryOperator(op), from: start) }
            if PromQLAggregation.Operator(rawValue: lowered) != nil { return token(.aggregator, from: start) }
            if lowered == "inf" || lowered == "nan" { return token(.number, from: start) }
            // A byte search: `contains(":")` would take Foundation's StringProtocol overload, which
            // bridges to NSString.
            return token(word.utf8.contains(UInt8(ascii: ":")) ? .metricIdentifier : .identifier, from: start)
        default:
            index -= 1
            return fail("unexpected character: \(quotedCharacter(at: start))", at: start)
        }
    }

    private mutating func nextInsideBraces(_ byte: UInt8, start: Int) -> PromQLToken {
        index += 1
        switch byte {
        case _ where isAlpha(byte):
            while let next = peekByte(), isAlphaNumeric(next) { index += 1 }
            return token(.identifier, from: start)
        case UInt8(ascii: ","): return token(.comma, from: start)
        case UInt8(ascii: "}"):
            braceOpen = false
            return token(.rightBrace, from: start)
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            index -= 1
            return string(start: start)
        case UInt8(ascii: "="):
            if peekByte() == UInt8(ascii: "~") {
                index += 1
                return token(.matchOperator(.matchesRegex), from: start)
            }
            return token(.matchOperator(.equal), from: start)
        case UInt8(ascii: "!"):
            switch peekByte() {
            case UInt8(ascii: "~"):
                index += 1
                return token(.matchOperator(.doesNotMatchRegex), from: start)
            case UInt8(ascii: "="):
                index += 1
                return token(.matchOperator(.notEqual), from: start)
            default:
                return fail("unexpected character after '!' inside braces: \(quotedCharacter(at: index))", at: start)
            }
        case UInt8(ascii: "{"): return fail("unexpected left brace '{'", at: start)
        default:
            index -= 1
            return fail("unexpected character inside braces: \(quotedCharacter(at: start))", at: start)
        }
    }

    private mutating func nextInsideBrackets(_ byte: UInt8, start: Int) -> PromQLToken {
        switch byte {
        case UInt8(ascii: "]"):
            index += 1
            bracketOpen = false
            return token(.rightBracket, from: start)
        case UInt8(ascii: ":"):
            index += 1
            return token(.colon, from: start)
        case _ where isDigit(byte):
            return durationInsideBrackets(start: start)
        default:
            return fail("unexpected character in duration expression: \(quotedCharacter(at: start))", at: start)
        }
    }

    /// `lex.go` `lexDuration` (Prometheus 2.42, the promtool cross-checked against): inside
    /// brackets only a duration with its unit may stand; a bare number is refused.
    private mutating func durationInsideBrackets(start: Int) -> PromQLToken {
        if scanNumber() { return fail("missing unit character in duration", at: start) }
        if acceptRemainingDuration() {
            index -= 1
            return token(.duration, from: start)
        }
        // lex.go quotes from one byte before the duration's start.
        return fail("bad duration syntax: \(quotedPromQLString(text(from: max(0, start - 1))))", at: start)
    }

    private mutating func skipSpaceAndComments() {
        while let byte = peekByte() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                index += 1
            } else if byte == UInt8(ascii: "#") && !bracketOpen {
                while let next = peekByte(), next != UInt8(ascii: "\n"), next != UInt8(ascii: "\r") { index += 1 }
            } else {
                return
            }
        }
    }

    // MARK: Numbers and durations (`lex.go` `scanNumber`, `acceptRemainingDuration`)

    private mutating func accept(_ valid: String) -> Bool {
        guard let byte = peekByte(), valid.utf8.contains(byte) else { return false }
        index += 1
        return true
    }

    private mutating func numberOrDuration(start: Int) -> PromQLToken {
        if scanNumber() { return token(.number, from: start) }
        if acceptRemainingDuration() {
            index -= 1
            return token(.duration, from: start)
        }
        return fail("bad number or duration syntax: \(quotedPromQLString(text(from: start)))", at: start)
    }

    /// Scans a decimal, hexadecimal or floating-point number as `lex.go` does; true when what was
    /// scanned is a number not followed by a letter or digit.
    private mutating func scanNumber() -> Bool {
        let initial = index
        var digits = "0123456789"
        if peekByte() == UInt8(ascii: "0"), let x = peekByte(1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X") {
            index += 2
            _ = accept("_")
            digits = "0123456789abcdefABCDEF"
        }
        _ = accept(".")
        _ = accept(digits)
        var dotSeen = false, exponentSeen = false
        while let byte = peekByte(), (digits + "._eE").utf8.contains(byte) {
            let isExponent = byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            if (byte == UInt8(ascii: ".") && dotSeen) || (isExponent && exponentSeen) {
                index += 1
                return false
            }
            if accept(".") {
                dotSeen = true
                // No fractional hexadecimal literals.
                if accept("_.") || digits.count > 10 { return false }
            } else if accept("eE") {
                exponentSeen = true
                _ = accept("+-")
                if accept("._eE") || peekByte() == nil { return false }
            } else if accept("_") {
                if accept("._eE") || peekByte() == nil { return false }
            } else {
                while accept(digits) {}
            }
        }
        if index == initial { return false }
        return peekByte().map { !isAlphaNumeric($0) } ?? true
    }

    private mutating func acceptRemainingDuration() -> Bool {
        guard accept("smhdwy") else { return false }
        _ = accept("s")
        while accept("0123456789") {
            while accept("0123456789") {}
            guard accept("smhdw") else { return false }
            _ = accept("s")
        }
        // `lex.go` reads one more character here and backs up after a duration.
        let following = peekByte()
        index += 1
        return following.map { !isAlphaNumeric($0) } ?? true
    }

    // MARK: Strings

    /// A quoted string: `"…"` and `'…'` with Go escapes, `` `…` `` raw. Checked here, unescaped by
    /// ``unquote(_:)``.
    private mutating func string(start: Int) -> PromQLToken {
        let quote = bytes[index]
        index += 1
        while let byte = peekByte() {
            index += 1
            if byte == quote { return token(.string, from: start) }
            if quote == UInt8(ascii: "`") { continue }
            if byte == UInt8(ascii: "\n") { break }
            if byte == UInt8(ascii: "\\"), let message = scanEscape(quote: quote) { return fail(message, at: start) }
        }
        return fail(quote == UInt8(ascii: "`") ? "unterminated raw string" : "unterminated quoted string", at: start)
    }

    /// Checks the escape after a backslash (`lex.go` `lexEscape`); the message when it is bad.
    private mutating func scanEscape(quote: UInt8) -> String? {
        guard let byte = peekByte() else { return "escape sequence not terminated" }
        index += 1
        let digitCount: Int, base: UInt32, maximum: UInt32
        switch byte {
        case UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"),
             UInt8(ascii: "v"), UInt8(ascii: "\\"), quote:
            return nil
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            index -= 1
            (digitCount, base, maximum) = (3, 8, 255)
        case UInt8(ascii: "x"): (digitCount, base, maximum) = (2, 16, 255)
        case UInt8(ascii: "u"): (digitCount, base, maximum) = (4, 16, 0x10FFFF)
        case UInt8(ascii: "U"): (digitCount, base, maximum) = (8, 16, 0x10FFFF)
        default:
            index -= 1
            let character = characterText(at: index)
            let scalar = character.unicodeScalars.first!.value
            let hex = String(scalar, radix: 16, uppercase: true)
            return "unknown escape sequence U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex) '\(character)'"
        }
        var value: UInt32 = 0
        for _ in 0..<digitCount {
            guard let digit = peekByte() else { return "escape sequence not terminated" }
            guard let digitValue = hexValue(digit), digitValue < base else {
                return "illegal character \(quotedCharacter(at: index)) in escape sequence"
            }
            index += 1
            value = value * base + digitValue
        }
        if value > maximum || (0xD800..<0xE000).contains(value) { return "escape sequence is an invalid Unicode code point" }
        return nil
    }

    /// The quoted character at `offset`, as Go's `%q` of a rune writes it: `'.'`.
    private func quotedCharacter(at offset: Int) -> String {
        guard offset < bytes.count else { return "EOF" }
        let character = characterText(at: offset)
        switch character {
        case "\n": return "'\\n'"
        case "\t": return "'\\t'"
        case "\r": return "'\\r'"
        case "'": return "'\\''"
        case "\\": return "'\\\\'"
        default: return "'\(character)'"
        }
    }

    private func characterText(at offset: Int) -> String {
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}

/// The value of a string token the lexer accepted: quotes removed and Go escapes applied
/// (`\x` and octal escapes give bytes, as in Go).
func unquote(_ token: String) -> String {
    let bytes = Array(token.utf8.dropFirst().dropLast())
    guard token.first != "`" else { return String(decoding: bytes, as: UTF8.self) }
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count)
    var index = 0
    func take(_ count: Int, base: UInt32) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            value = value * base + hexValue(bytes[index])!
            index += 1
        }
        return value
    }
    while index < bytes.count {
        let byte = bytes[index]
        index += 1
        guard byte == UInt8(ascii: "\\") else { result.append(byte); continue }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "a"): result.append(0x07)
        case UInt8(ascii: "b"): result.append(0x08)
        case UInt8(ascii: "f"): result.append(0x0C)
        case UInt8(ascii: "n"): result.append(0x0A)
        case UInt8(ascii: "r"): result.append(0x0D)
        case UInt8(ascii: "t"): result.append(0x09)
        case UInt8(ascii: "v"): result.append(0x0B)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            index -= 1
            result.append(UInt8(take(3, base: 8)))
        case UInt8(ascii: "x"): result.append(UInt8(take(2, base: 16)))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let scalar = Unicode.Scalar(take(escape == UInt8(ascii: "u") ? 4 : 8, base: 16))!
            result.append(contentsOf: String(Character(scalar)).utf8)
        default: result.append(escape)
        }
    }
    return String(decoding: result, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
private func isAlpha(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
}
private func isAlphaNumeric(_ byte: UInt8) -> Bool { isAlpha(byte) || isDigit(byte) }
