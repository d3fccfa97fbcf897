/// A regular expression with Go's RE2 syntax and semantics, matched in linear time: the
/// language of Prometheus' label matchers and `label_replace`, of node_exporter's collector
/// include/exclude flags and of alert templates' `match`/`reReplaceAll`. Nothing a pattern
/// does can make a match backtrack; a pattern Go refuses is refused with Go's message.
///
/// Differences from Go (Go 1.19, as Prometheus 2.42 is built): Unicode tables are newer
/// (Swift's for categories and case folding, 14.0 for scripts); programs are limited to
/// ``RE2Program/maximumInstructions`` instead of Go's 3.3 million.
package struct RE2Regex: Sendable {
    private let program: RE2Program
    /// Group names by index (`""` when unnamed; index 0 is the whole match).
    package let groupNames: [String]

    /// Compiles `pattern` as Go's `regexp.Compile` does.
    package init(_ pattern: String) throws(RE2SyntaxError) {
        let parsed = try RE2Parser.parse(pattern)
        self.groupNames = parsed.groupNames
        do {
            self.program = try RE2Program(parsed.node, groupCount: parsed.groupNames.count)
        } catch {
            throw RE2SyntaxError(code: error.code, expression: pattern)
        }
    }

    /// Compiles `pattern` anchored at both ends the way Prometheus anchors label matchers and
    /// `label_replace` (`^(?:PATTERN)$`).
    package static func anchored(_ pattern: String) throws(RE2SyntaxError) -> RE2Regex {
        try RE2Regex("^(?:" + pattern + ")$")
    }

    /// Whether the expression matches somewhere in `text` (Go's `MatchString`).
    package func matches(_ text: String) -> Bool {
        program.execute(Self.scalars(text), from: 0, anchored: false, slots: false) != nil
    }

    /// The groups of the leftmost-first match in `text` as scalar offset pairs (Go's
    /// `FindStringSubmatchIndex`, counted in scalars), or nil when there is no match.
    package func submatches(_ text: String) -> RE2Match? {
        let scalars = Self.scalars(text)
        guard let slots = program.execute(scalars, from: 0, anchored: false, slots: true) else { return nil }
        return RE2Match(scalars: scalars, slots: slots, groupNames: groupNames)
    }

    /// Go's `ReplaceAllString`: every non-overlapping match replaced by `template` expanded
    /// with that match's groups (``RE2Match/expand(_:)``); an empty match right after a
    /// previous match is not replaced.
    package func replacingAll(in text: String, with template: String) -> String {
        let scalars = Self.scalars(text)
        var output = String.UnicodeScalarView()
        var lastMatchEnd = 0
        var searchPosition = 0
        while searchPosition <= scalars.count {
            guard let slots = program.execute(scalars, from: searchPosition, anchored: false, slots: true) else { break }
            output.append(contentsOf: Self.unicodeScalars(scalars[lastMatchEnd..<slots[0]]))
            if slots[1] > lastMatchEnd || slots[0] == 0 {
                let match = RE2Match(scalars: scalars, slots: slots, groupNames: groupNames)
                output.append(contentsOf: match.expand(template).unicodeScalars)
            }
            lastMatchEnd = slots[1]
            // Always advance by at least one scalar.
            searchPosition = max(searchPosition + 1, slots[1])
        }
        if lastMatchEnd < scalars.count { output.append(contentsOf: Self.unicodeScalars(scalars[lastMatchEnd...])) }
        return String(output)
    }

    /// Go's `regexp.QuoteMeta`: `text` with every metacharacter (`\.+*?()|[]{}^$`) escaped, a
    /// pattern matching exactly `text`.
    package static func quotedMeta(_ text: String) -> String {
        var quoted = ""
        for character in text {
            if "\\.+*?()|[]{}^$".contains(character) { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted
    }

    static func scalars(_ text: String) -> [UInt32] {
        text.unicodeScalars.map(\.value)
    }

    static func unicodeScalars(_ values: ArraySlice<UInt32>) -> [Unicode.Scalar] {
        // The values came from a String's scalars, so each is valid.
        values.map { Unicode.Scalar($0)! }
    }
}

/// One match: its groups' positions in the text it was found in.
package struct RE2Match: Sendable {
    private let scalars: [UInt32]
    /// Start and end offsets (in scalars) per group; -1 for a group that did not take part.
    package let slots: [Int]
    private let groupNames: [String]

    init(scalars: [UInt32], slots: [Int], groupNames: [String]) {
        self.scalars = scalars
        self.slots = slots
        self.groupNames = groupNames
    }

    /// The text group `index` matched, or nil when it did not take part (or does not exist).
    package func group(_ index: Int) -> String? {
        guard index >= 0, index * 2 + 1 < slots.count, slots[index * 2] >= 0 else { return nil }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: RE2Regex.unicodeScalars(scalars[slots[index * 2]..<slots[index * 2 + 1]]))
        return String(text)
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}` replaced by that group's text
    /// (empty when there is no such group or it did not take part), `$$` by `$`; a `$` not
    /// followed by a valid name stays as written.
    package func expand(_ template: String) -> String {
        var result = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                result += "$"
                rest = rest.dropFirst()
                continue
            }
            guard let (name, remainder) = Self.reference(rest) else {
                result += "$"
                continue
            }
            rest = remainder
            if let number = Self.groupNumber(name) {
                result += group(number) ?? ""
            } else if let index = groupNames.firstIndex(of: String(name)), index > 0 {
                result += group(index) ?? ""
            }
        }
        return result + rest
    }

    /// Go's `extract`: a name of letters, digits and `_`, braced or not.
    private static func reference(_ text: Substring) -> (Substring, Substring)? {
        var rest = text
        let braced = rest.first == "{"
        if braced { rest = rest.dropFirst() }
        let name = rest.unicodeScalars.prefix { scalar in
            scalar == "_" || scalar.properties.generalCategory.isLetter
                || scalar.properties.generalCategory == .decimalNumber
        }
        guard !name.isEmpty else { return nil }
        let nameText = Substring(name)
        rest = rest[nameText.endIndex...]
        if braced {
            guard rest.first == "}" else { return nil }
            rest = rest.dropFirst()
        }
        return (nameText, rest)
    }

    /// A group number: ASCII digits without a leading zero, below 10^8 (Go's rule).
    private static func groupNumber(_ name: Substring) -> Int? {
        guard name.utf8.allSatisfy({ (0x30...0x39).contains($0) }), name.utf8.count < 9 else { return nil }
        if name.first == "0" && name.count > 1 { return nil }
        return Int(name)
    }
}

extension Unicode.GeneralCategory {
    /// Whether the category is one of the letter categories (Go's `unicode.IsLetter`).
    fileprivate var isLetter: Bool {
        switch self {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
