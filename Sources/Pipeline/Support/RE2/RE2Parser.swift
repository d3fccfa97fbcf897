/// A regular expression refused by ``RE2Regex``, with Go's `regexp/syntax` wording:
/// `error parsing regexp: CODE: `EXPR``.
package struct RE2SyntaxError: Error, Equatable, CustomStringConvertible {
    /// Go's error code text, e.g. `invalid nested repetition operator`.
    package var code: String
    /// The offending part of the expression, as Go quotes it.
    package var expression: String

    /// The message Go's `regexp.Compile` returns.
    package var description: String { "error parsing regexp: \(code): `\(expression)`" }
}

/// An empty-width assertion.
enum RE2Assertion: Sendable, Equatable {
    case beginLine, endLine, beginText, endText, wordBoundary, notWordBoundary
}

/// A parsed expression.
indirect enum RE2Node: Sendable {
    case emptyMatch
    case literal(UInt32)
    case characterClass(RE2CharacterClass)
    case anyCharacterNotNewline
    case anyCharacter
    case assertion(RE2Assertion)
    case capture(index: Int, RE2Node)
    case concatenation([RE2Node])
    case alternation([RE2Node])
    /// `max` is -1 when unbounded.
    case repetition(RE2Node, min: Int, max: Int, greedy: Bool)
}

/// Go's `regexp/syntax` parser with the flags `regexp.Compile` uses (`syntax.Perl`): Perl
/// classes and flags, `(?P<name>…)`, `\Q…\E`, `\pN`; no backreferences, no lookaround, no
/// possessive or stacked repetitions. The parse runs over an explicit stack of open groups, so
/// deep nesting cannot exhaust the call stack; nesting beyond Go's limit (1000) and repetition
/// counts beyond 1000 (also as products of nested counts) are refused as Go refuses them.
struct RE2Parser {
    /// Go's `maxHeight`.
    static let maximumHeight = 1000
    /// Go's `maxRepeat`.
    static let maximumRepeat = 1000

    /// The parse result: the tree, the number of capturing groups and their names by index
    /// (`""` for unnamed, index 0 being the whole match).
    struct Result {
        var node: RE2Node
        var groupNames: [String]
    }

    private struct Flags {
        var foldCase = false
        var multiLine = false
        var dotMatchesNewline = false
        var nonGreedy = false
    }

    /// A parsed node with what the limits need: its height and the product of the repetition
    /// counts nested in it.
    private struct Item {
        var node: RE2Node
        var height: Int
        var repeatProduct: Int
    }

    /// An open group: its finished alternatives, its current concatenation, and what to restore
    /// when it closes.
    private struct Frame {
        var alternatives: [Item] = []
        var items: [Item] = []
        var captureIndex: Int
        var flagsAtOpen: Flags
    }

    private let pattern: [UnicodeScalar]
    private let text: String
    private var position = 0
    private var flags = Flags()
    private var frames: [Frame]
    private var groupNames: [String] = [""]

    /// Parses `text`.
    static func parse(_ text: String) throws(RE2SyntaxError) -> Result {
        var parser = RE2Parser(text)
        return try parser.run()
    }

    private init(_ text: String) {
        self.text = text
        self.pattern = Array(text.unicodeScalars)
        self.frames = [Frame(captureIndex: 0, flagsAtOpen: Flags())]
    }

    private func slice(_ start: Int, _ end: Int) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: pattern[start..<min(end, pattern.count)])
        return String(result)
    }

    private func error(_ code: String, _ start: Int, _ end: Int) -> RE2SyntaxError {
        RE2SyntaxError(code: code, expression: slice(start, end))
    }

    private func peek(_ offset: Int = 0) -> UnicodeScalar? {
        position + offset < pattern.count ? pattern[position + offset] : nil
    }

    private mutating func run() throws(RE2SyntaxError) -> Result {
        var lastRepeat: Int? = nil
        while position < pattern.count {
            var repeatStart: Int? = nil
            let scalar = pattern[position]
            switch scalar {
            case "(":
                if peek(1) == "?" {
                    try parseGroupFlags()
                } else {
                    groupNames.append("")
                    try open(capture: groupNames.count - 1)
                    position += 1
                }
            case "|":
                let frame = frames.count - 1
                frames[frame].alternatives.append(Self.concatenation(frames[frame].items))
                frames[frame].items = []
                position += 1
            case ")":
                try close()
                position += 1
            case "^":
                push(.assertion(flags.multiLine ? .beginLine : .beginText))
                position += 1
            case "$":
                push(.assertion(flags.multiLine ? .endLine : .endText))
                position += 1
            case ".":
                push(flags.dotMatchesNewline ? .anyCharacter : .anyCharacterNotNewline)
                position += 1
            case "[":
                try parseClass()
            case "*", "+", "?":
                let start = position
                position += 1
                let (minimum, maximum) = scalar == "*" ? (0, -1) : scalar == "+" ? (1, -1) : (0, 1)
                try repetition(minimum: minimum, maximum: maximum, start: start, lastRepeat: lastRepeat, counted: false)
                repeatStart = start
            case "{":
                let start = position
                guard let (minimum, maximum, end) = parseRepeatCounts() else {
                    pushLiteral(scalar.value)
                    position += 1
                    break
                }
                if minimum < 0 || minimum > Self.maximumRepeat || maximum > Self.maximumRepeat || (maximum >= 0 && minimum > maximum) {
                    throw error("invalid repeat count", start, end)
                }
                position = end
                try repetition(minimum: minimum, maximum: maximum, start: start, lastRepeat: lastRepeat, counted: true)
                repeatStart = start
            case "\\":
                try parseEscapeOutsideClass()
            default:
                pushLiteral(scalar.value)
                position += 1
            }
            lastRepeat = repeatStart
        }
        guard frames.count == 1 else { throw RE2SyntaxError(code: "missing closing )", expression: text) }
        let frame = frames[0]
        let item = Self.alternation(frame.alternatives + [Self.concatenation(frame.items)])
        return Result(node: item.node, groupNames: groupNames)
    }

    // MARK: Groups and flags

    private mutating func open(capture: Int) throws(RE2SyntaxError) {
        // Each open group is at least one level of the finished tree.
        if frames.count >= Self.maximumHeight { throw RE2SyntaxError(code: "expression nests too deeply", expression: text) }
        frames.append(Frame(captureIndex: capture, flagsAtOpen: flags))
    }

    private mutating func close() throws(RE2SyntaxError) {
        guard frames.count > 1 else { throw RE2SyntaxError(code: "unexpected )", expression: text) }
        let frame = frames.removeLast()
        flags = frame.flagsAtOpen
        var item = Self.alternation(frame.alternatives + [Self.concatenation(frame.items)])
        if frame.captureIndex > 0 {
            item = Item(node: .capture(index: frame.captureIndex, item.node), height: item.height + 1, repeatProduct: item.repeatProduct)
        }
        try append(item)
    }

    /// `(?P<name>`, `(?flags)`, `(?flags:`, as Go's `parsePerlFlags`.
    private mutating func parseGroupFlags() throws(RE2SyntaxError) {
        let start = position
        if peek(2) == "P", peek(3) == "<", pattern.count - position > 4 {
            guard let close = pattern[position...].firstIndex(of: ">") else {
                throw RE2SyntaxError(code: "invalid named capture", expression: slice(start, pattern.count))
            }
            let name = pattern[(position + 4)..<close]
            let valid = !name.isEmpty && name.allSatisfy { $0 == "_" || ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) }
            guard valid else { throw error("invalid named capture", start, close + 1) }
            var nameText = String.UnicodeScalarView()
            nameText.append(contentsOf: name)
            let nameString = String(nameText)
            groupNames.append(nameString)
            try open(capture: groupNames.count - 1)
            position = close + 1
            return
        }
        var cursor = position + 2
        var newFlags = flags
        var negating = false
        var sawFlag = false
        while cursor < pattern.count {
            let scalar = pattern[cursor]
            cursor += 1
            switch scalar {
            case "i": newFlags.foldCase = !negating; sawFlag = true
            case "m": newFlags.multiLine = !negating; sawFlag = true
            case "s": newFlags.dotMatchesNewline = !negating; sawFlag = true
            case "U": newFlags.nonGreedy = !negating; sawFlag = true
            case "-":
                if negating { throw error("invalid or unsupported Perl syntax", start, cursor) }
                negating = true
                sawFlag = false
            case ":", ")":
                if negating && !sawFlag { throw error("invalid or unsupported Perl syntax", start, cursor) }
                if scalar == ":" { try open(capture: 0) }
                flags = newFlags
                position = cursor
                return
            default:
                throw error("invalid or unsupported Perl syntax", start, cursor)
            }
        }
        throw error("invalid or unsupported Perl syntax", start, cursor)
    }

    // MARK: Items

    private mutating func push(_ node: RE2Node) {
        frames[frames.count - 1].items.append(Item(node: node, height: 1, repeatProduct: 1))
    }

    private mutating func append(_ item: Item) throws(RE2SyntaxError) {
        // A concatenation or alternation adds one more level above its members.
        if item.height + 1 > Self.maximumHeight { throw RE2SyntaxError(code: "expression nests too deeply", expression: text) }
        frames[frames.count - 1].items.append(item)
    }

    private mutating func pushLiteral(_ value: UInt32) {
        if flags.foldCase {
            let orbit = RE2CaseFolding.table.orbit(of: value)
            if orbit.count > 1 {
                push(.characterClass(RE2CharacterClass(orbit.map { $0...$0 })))
                return
            }
        }
        push(.literal(value))
    }

    private static func concatenation(_ items: [Item]) -> Item {
        switch items.count {
        case 0: return Item(node: .emptyMatch, height: 1, repeatProduct: 1)
        case 1: return items[0]
        default:
            return Item(
                node: .concatenation(items.map(\.node)), height: 1 + (items.map(\.height).max() ?? 0),
                repeatProduct: items.map(\.repeatProduct).max() ?? 1)
        }
    }

    private static func alternation(_ items: [Item]) -> Item {
        if items.count == 1 { return items[0] }
        return Item(
            node: .alternation(items.map(\.node)), height: 1 + (items.map(\.height).max() ?? 0),
            repeatProduct: items.map(\.repeatProduct).max() ?? 1)
    }

    // MARK: Repetition

    /// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}` at the position, or nil when the text is not
    /// of that form (then `{` is a literal). Counts too large come back as -1.
    private func parseRepeatCounts() -> (Int, Int, Int)? {
        var cursor = position + 1
        func integer() -> Int? {
            guard cursor < pattern.count, ("0"..."9").contains(pattern[cursor]) else { return nil }
            // No leading zeros.
            if pattern[cursor] == "0", cursor + 1 < pattern.count, ("0"..."9").contains(pattern[cursor + 1]) { return nil }
            var value = 0
            while cursor < pattern.count, ("0"..."9").contains(pattern[cursor]) {
                if value >= 100_000_000 { value = -1 } else if value >= 0 { value = value * 10 + Int(pattern[cursor].value - 0x30) }
                cursor += 1
            }
            return value
        }
        guard var minimum = integer(), cursor < pattern.count else { return nil }
        var maximum = minimum
        if pattern[cursor] == "," {
            cursor += 1
            guard cursor < pattern.count else { return nil }
            if pattern[cursor] == "}" {
                maximum = -1
            } else {
                guard let value = integer() else { return nil }
                maximum = value
                if value < 0 { minimum = -1 }
            }
        }
        guard cursor < pattern.count, pattern[cursor] == "}" else { return nil }
        return (minimum, maximum, cursor + 1)
    }

    private mutating func repetition(minimum: Int, maximum: Int, start: Int, lastRepeat: Int?, counted: Bool) throws(RE2SyntaxError) {
        var greedy = !flags.nonGreedy
        if peek() == "?" {
            position += 1
            greedy.toggle()
        }
        if let lastRepeat { throw error("invalid nested repetition operator", lastRepeat, position) }
        let frame = frames.count - 1
        guard let last = frames[frame].items.last else { throw error("missing argument to repetition operator", start, position) }
        var product = last.repeatProduct
        if counted {
            // As Go's repeatIsValid: x{0} hides what it repeats; x{n,} counts n.
            let count = maximum == -1 ? minimum : maximum
            if maximum == 0 {
                product = 1
            } else if count > 0 {
                product = product.multipliedReportingOverflow(by: count).overflow ? Int.max : product * count
            }
            if (minimum >= 2 || maximum >= 2) && product > Self.maximumRepeat {
                throw error("invalid repeat count", start, position)
            }
        }
        let item = Item(
            node: .repetition(last.node, min: minimum, max: maximum, greedy: greedy), height: last.height + 1,
            repeatProduct: product)
        frames[frame].items.removeLast()
        try append(item)
    }

    // MARK: Escapes and classes

    private mutating func parseEscapeOutsideClass() throws(RE2SyntaxError) {
        let start = position
        switch peek(1) {
        case "A": push(.assertion(.beginText)); position += 2; return
        case "b": push(.assertion(.wordBoundary)); position += 2; return
        case "B": push(.assertion(.notWordBoundary)); position += 2; return
        case "z": push(.assertion(.endText)); position += 2; return
        case "C": throw error("invalid escape sequence", start, start + 2)
        case "Q":
            position += 2
            while position < pattern.count {
                if pattern[position] == "\\", peek(1) == "E" {
                    position += 2
                    return
                }
                pushLiteral(pattern[position].value)
                position += 1
            }
            return
        default: break
        }
        if let set = try parseUnicodeClass() ?? parsePerlClass() {
            push(.characterClass(flags.foldCase ? set.caseFolded() : set))
            return
        }
        pushLiteral(try parseEscape())
    }

    /// `\d`, `\D`, `\s`, `\S`, `\w`, `\W` at the position.
    private mutating func parsePerlClass() -> RE2CharacterClass? {
        guard peek() == "\\", let letter = peek(1), let base = RE2CharacterClass.perl(letter.properties.lowercaseMapping) else { return nil }
        position += 2
        return letter.properties.isUppercase ? foldedForNegation(base).negated() : base
    }

    /// `\pN`, `\p{Name}`, `\PN`, `\p{^Name}` at the position.
    private mutating func parseUnicodeClass() throws(RE2SyntaxError) -> RE2CharacterClass? {
        guard peek() == "\\", let letter = peek(1), letter == "p" || letter == "P" else { return nil }
        let start = position
        var negated = letter == "P"
        guard let first = peek(2) else { throw error("invalid character class range", start, start + 2) }
        var name: String
        var end: Int
        if first != "{" {
            name = String(Character(first))
            end = start + 3
        } else {
            guard let close = pattern[(start + 2)...].firstIndex(of: "}") else {
                throw error("invalid character class range", start, pattern.count)
            }
            name = slice(start + 3, close)
            end = close + 1
        }
        if name.hasPrefix("^") {
            negated.toggle()
            name.removeFirst()
        }
        guard let set = RE2CharacterClass.unicode(Substring(name)) else { throw error("invalid character class range", start, end) }
        position = end
        return negated ? foldedForNegation(set).negated() : set
    }

    /// A class about to be negated, folded first under `(?i)` as Go's `appendGroup` does, so that
    /// the negation leaves out every case of its members.
    private func foldedForNegation(_ set: RE2CharacterClass) -> RE2CharacterClass {
        flags.foldCase ? set.caseFolded() : set
    }

    /// Go's `parseEscape`: one escaped scalar (octal, hex, C escapes, punctuation).
    private mutating func parseEscape() throws(RE2SyntaxError) -> UInt32 {
        let start = position
        position += 1
        guard let scalar = peek() else { throw RE2SyntaxError(code: "trailing backslash at end of expression", expression: "") }
        position += 1
        func isOctal(_ scalar: UnicodeScalar?) -> Bool { scalar.map { ("0"..."7").contains($0) } ?? false }
        switch scalar {
        case "1"..."7" where !isOctal(peek()):
            break  // a backreference; RE2 has none
        case "0"..."7":
            var value = scalar.value - 0x30
            for _ in 1..<3 where isOctal(peek()) {
                value = value * 8 + pattern[position].value - 0x30
                position += 1
            }
            return value
        case "x":
            guard let next = peek() else { break }
            position += 1
            if next == "{" {
                var value: UInt32 = 0
                var digits = 0
                while true {
                    guard let digit = peek() else { throw error("invalid escape sequence", start, position) }
                    position += 1
                    if digit == "}" { break }
                    guard let hex = Self.hexValue(digit) else { throw error("invalid escape sequence", start, position) }
                    value = value * 16 + hex
                    if value > RE2CharacterClass.maxScalar { throw error("invalid escape sequence", start, position) }
                    digits += 1
                }
                if digits == 0 { break }
                return value
            }
            guard let high = Self.hexValue(next), let second = peek() else {
                if peek() != nil { position += 1 }
                break
            }
            position += 1
            guard let low = Self.hexValue(second) else { break }
            return high * 16 + low
        case "a": return 0x07
        case "f": return 0x0C
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "v": return 0x0B
        default:
            if scalar.isASCII, !(("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)) {
                return scalar.value
            }
        }
        throw error("invalid escape sequence", start, position)
    }

    private static func hexValue(_ scalar: UnicodeScalar) -> UInt32? {
        switch scalar {
        case "0"..."9": return scalar.value - 0x30
        case "a"..."f": return scalar.value - 0x61 + 10
        case "A"..."F": return scalar.value - 0x41 + 10
        default: return nil
        }
    }

    /// Go's `parseClass` with Perl's rules: `]` first is literal, `-` anywhere, POSIX names,
    /// Perl and Unicode classes inside, `[^…]` matching newline too.
    private mutating func parseClass() throws(RE2SyntaxError) {
        let start = position
        position += 1
        var negated = false
        if peek() == "^" {
            negated = true
            position += 1
        }
        var set = RE2CharacterClass()
        var first = true
        while peek() != "]" || first {
            first = false
            guard peek() != nil else { throw error("missing closing ]", start, pattern.count) }
            if peek() == "[", peek(1) == ":", let close = closingPOSIXName() {
                let name = slice(position + 2, close)
                let negatedName = name.hasPrefix("^")
                guard let posix = RE2CharacterClass.posix(negatedName ? name.dropFirst() : Substring(name)) else {
                    throw error("invalid character class range", position, close + 2)
                }
                set = set.union(negatedName ? foldedForNegation(posix).negated() : posix)
                position = close + 2
                continue
            }
            if let unicode = try parseUnicodeClass() {
                set = set.union(unicode)
                continue
            }
            if let perl = parsePerlClass() {
                set = set.union(perl)
                continue
            }
            let rangeStart = position
            let low = try parseClassScalar(classStart: start)
            var high = low
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                high = try parseClassScalar(classStart: start)
                if high < low { throw error("invalid character class range", rangeStart, position) }
            }
            set = set.union(RE2CharacterClass([low...high]))
        }
        position += 1
        if flags.foldCase { set = set.caseFolded() }
        push(.characterClass(negated ? set.negated() : set))
    }

    /// The index of the `:` of `:]` closing a `[:name:]` at the position.
    private func closingPOSIXName() -> Int? {
        var cursor = position + 2
        while cursor + 1 < pattern.count {
            if pattern[cursor] == ":", pattern[cursor + 1] == "]" { return cursor }
            cursor += 1
        }
        return nil
    }

    private mutating func parseClassScalar(classStart: Int) throws(RE2SyntaxError) -> UInt32 {
        guard let scalar = peek() else { throw error("missing closing ]", classStart, pattern.count) }
        if scalar == "\\" { return try parseEscape() }
        position += 1
        return scalar.value
    }
}
