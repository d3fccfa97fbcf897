/// A set of Unicode scalars as sorted, disjoint, non-adjacent closed ranges of scalar values:
/// what RE2 makes of `[a-z]`, `\d`, `\pL`, `[[:alpha:]]` and of a literal under `(?i)`.
struct RE2CharacterClass: Sendable, Equatable {
    /// The largest scalar value (Go's `unicode.MaxRune`).
    static let maxScalar: UInt32 = 0x10FFFF

    /// The ranges, sorted and merged.
    private(set) var ranges: [ClosedRange<UInt32>]

    /// A class from ranges in any order; they are sorted and merged.
    init(_ ranges: [ClosedRange<UInt32>] = []) {
        self.ranges = Self.cleaned(ranges)
    }

    /// Whether the scalar value is in the class (binary search).
    func contains(_ value: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            let range = ranges[middle]
            if value > range.upperBound {
                low = middle + 1
            } else if value < range.lowerBound {
                high = middle
            } else {
                return true
            }
        }
        return false
    }

    /// The class of every scalar not in this one.
    func negated() -> RE2CharacterClass {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            next = range.upperBound + 1
        }
        if next <= Self.maxScalar { result.append(next...Self.maxScalar) }
        var negation = RE2CharacterClass()
        negation.ranges = result
        return negation
    }

    /// This class with every scalar's simple case-folding equivalents added (Go's
    /// `appendFoldedRange`).
    func caseFolded() -> RE2CharacterClass {
        var added: [ClosedRange<UInt32>] = ranges
        let table = RE2CaseFolding.table
        for range in ranges {
            // Only scalars that have fold equivalents can add anything.
            var index = table.firstIndex(atLeast: range.lowerBound)
            while index < table.keys.count, table.keys[index] <= range.upperBound {
                for other in table.orbit(at: index) { added.append(other...other) }
                index += 1
            }
        }
        return RE2CharacterClass(added)
    }

    /// The union of two classes.
    func union(_ other: RE2CharacterClass) -> RE2CharacterClass {
        RE2CharacterClass(ranges + other.ranges)
    }

    /// The single scalar the class holds, if it holds exactly one.
    var singleScalar: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    private static func cleaned(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        guard ranges.count > 1 else { return ranges }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = [sorted[0]]
        for range in sorted.dropFirst() {
            let last = merged[merged.count - 1]
            if range.lowerBound <= last.upperBound &+ 1 {
                if range.upperBound > last.upperBound { merged[merged.count - 1] = last.lowerBound...range.upperBound }
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}

extension RE2CharacterClass {
    /// Perl's `\d`, `\s`, `\w` as RE2 defines them: ASCII only. (The parser negates them for
    /// `\D`, `\S`, `\W`.)
    static func perl(_ letter: String) -> RE2CharacterClass? {
        switch letter {
        case "d": return RE2CharacterClass([0x30...0x39])
        case "s": return RE2CharacterClass([0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
        case "w": return RE2CharacterClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
        default: return nil
        }
    }

    /// The POSIX classes RE2 accepts inside brackets (`[:alpha:]`; the parser negates `[:^alpha:]`).
    static func posix(_ name: Substring) -> RE2CharacterClass? {
        let ranges: [ClosedRange<UInt32>]
        switch name {
        case "alnum": ranges = [0x30...0x39, 0x41...0x5A, 0x61...0x7A]
        case "alpha": ranges = [0x41...0x5A, 0x61...0x7A]
        case "ascii": ranges = [0x00...0x7F]
        case "blank": ranges = [0x09...0x09, 0x20...0x20]
        case "cntrl": ranges = [0x00...0x1F, 0x7F...0x7F]
        case "digit": ranges = [0x30...0x39]
        case "graph": ranges = [0x21...0x7E]
        case "lower": ranges = [0x61...0x7A]
        case "print": ranges = [0x20...0x7E]
        case "punct": ranges = [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E]
        case "space": ranges = [0x09...0x0D, 0x20...0x20]
        case "upper": ranges = [0x41...0x5A]
        case "word": ranges = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
        case "xdigit": ranges = [0x30...0x39, 0x41...0x46, 0x61...0x66]
        default: return nil
        }
        return RE2CharacterClass(ranges)
    }

    /// A Unicode class by RE2's name: a general category (`L`, `Lu`, …), a script (`Greek`,
    /// `Han`), `Any`, `Assigned` or `ASCII`.
    static func unicode(_ name: Substring) -> RE2CharacterClass? {
        switch name {
        case "Any": return RE2CharacterClass([0...maxScalar])
        case "ASCII": return RE2CharacterClass([0...0x7F])
        case "Assigned": return RE2UnicodeCategories.table.ranges(of: ["Cn"]).negated()
        default:
            if let members = RE2UnicodeCategories.names[String(name)] { return RE2UnicodeCategories.table.ranges(of: members) }
            return RE2UnicodeScripts.table[String(name)]
        }
    }
}

/// Unicode simple case folding as orbits (Go's `unicode.SimpleFold`): for each scalar that has
/// case-fold equivalents, all of them. Built once, on first use of `(?i)`, from the standard
/// library's case mappings.
struct RE2CaseFolding: Sendable {
    /// Scalars that have equivalents, ascending.
    let keys: [UInt32]
    /// For each key, the index of its orbit in `orbits`.
    private let orbitIndex: [Int]
    private let orbits: [[UInt32]]

    /// The table, computed once.
    static let table = RE2CaseFolding()

    private init() {
        // Simple folding's key is the lower case of the upper case, when each is one scalar:
        // that puts ſ with s, ς with σ, K (Kelvin) with k. Dotless ı is the exception: simple
        // folding (CaseFolding.txt status C and S) leaves it alone, while its upper case is I.
        var groups: [UInt32: [UInt32]] = [:]
        for value in UInt32(0x41)...UInt32(0x1E943) {
            guard let scalar = Unicode.Scalar(value), scalar.properties.changesWhenCaseMapped, value != 0x131 else { continue }
            let upper = Self.single(scalar.properties.uppercaseMapping) ?? scalar
            let key = Self.single(upper.properties.lowercaseMapping) ?? upper
            groups[key.value, default: []].append(value)
        }
        var keys: [UInt32] = []
        var orbitIndex: [Int] = []
        var orbits: [[UInt32]] = []
        for (key, members) in groups {
            let orbit = Array(Set(members + [key])).sorted()
            guard orbit.count > 1 else { continue }
            orbits.append(orbit)
            for member in orbit {
                keys.append(member)
                orbitIndex.append(orbits.count - 1)
            }
        }
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        self.keys = order.map { keys[$0] }
        self.orbitIndex = order.map { orbitIndex[$0] }
        self.orbits = orbits
    }

    private static func single(_ text: String) -> Unicode.Scalar? {
        var scalars = text.unicodeScalars.makeIterator()
        guard let first = scalars.next(), scalars.next() == nil else { return nil }
        return first
    }

    /// The index of the first key at or above `value`.
    func firstIndex(atLeast value: UInt32) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The orbit (the key included) of the key at `index`.
    func orbit(at index: Int) -> [UInt32] { orbits[orbitIndex[index]] }

    /// The scalar's orbit, or just the scalar when it has no equivalents.
    func orbit(of value: UInt32) -> [UInt32] {
        let index = firstIndex(atLeast: value)
        return index < keys.count && keys[index] == value ? orbit(at: index) : [value]
    }
}

/// The general categories' scalar ranges, computed once from the standard library's Unicode
/// data on first use of `\p`.
struct RE2UnicodeCategories: Sendable {
    /// RE2's category names and the two-letter categories each stands for. RE2's `C` leaves out
    /// unassigned scalars (`Cn`), as Go's `unicode.C` does.
    static let names: [String: [String]] = {
        let all = [
            "Cc", "Cf", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu", "Mc", "Me", "Mn", "Nd", "Nl", "No",
            "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "Sc", "Sk", "Sm", "So", "Zl", "Zp", "Zs",
        ]
        var names: [String: [String]] = [:]
        for name in all {
            names[name] = [name]
            names[String(name.prefix(1)), default: []].append(name)
        }
        return names
    }()

    /// The table, computed once.
    static let table = RE2UnicodeCategories()

    private let byCategory: [String: [ClosedRange<UInt32>]]

    private init() {
        // One pass over every scalar value, comparing enum cases (cheap even unoptimised); the
        // names are attached to the runs afterwards.
        var runs: [Unicode.GeneralCategory: [ClosedRange<UInt32>]] = [:]
        var current = Self.category(of: 0)
        var start: UInt32 = 0
        for value in UInt32(1)...RE2CharacterClass.maxScalar {
            let category = Self.category(of: value)
            if category != current {
                runs[current, default: []].append(start...(value - 1))
                current = category
                start = value
            }
        }
        runs[current, default: []].append(start...RE2CharacterClass.maxScalar)
        var byCategory: [String: [ClosedRange<UInt32>]] = [:]
        for (category, ranges) in runs { byCategory[Self.code(of: category), default: []] += ranges }
        self.byCategory = byCategory
    }

    private static func category(of value: UInt32) -> Unicode.GeneralCategory {
        // Surrogates are not scalars in Swift, but they are in category Cs.
        Unicode.Scalar(value)?.properties.generalCategory ?? .surrogate
    }

    /// The union of the named two-letter categories.
    func ranges(of categories: [String]) -> RE2CharacterClass {
        RE2CharacterClass(categories.flatMap { byCategory[$0] ?? [] })
    }

    private static func code(of category: Unicode.GeneralCategory) -> String {
        switch category {
        case .uppercaseLetter: return "Lu"
        case .lowercaseLetter: return "Ll"
        case .titlecaseLetter: return "Lt"
        case .modifierLetter: return "Lm"
        case .otherLetter: return "Lo"
        case .nonspacingMark: return "Mn"
        case .spacingMark: return "Mc"
        case .enclosingMark: return "Me"
        case .decimalNumber: return "Nd"
        case .letterNumber: return "Nl"
        case .otherNumber: return "No"
        case .connectorPunctuation: return "Pc"
        case .dashPunctuation: return "Pd"
        case .openPunctuation: return "Ps"
        case .closePunctuation: return "Pe"
        case .initialPunctuation: return "Pi"
        case .finalPunctuation: return "Pf"
        case .otherPunctuation: return "Po"
        case .mathSymbol: return "Sm"
        case .currencySymbol: return "Sc"
        case .modifierSymbol: return "Sk"
        case .otherSymbol: return "So"
        case .spaceSeparator: return "Zs"
        case .lineSeparator: return "Zl"
        case .paragraphSeparator: return "Zp"
        case .control: return "Cc"
        case .format: return "Cf"
        case .surrogate: return "Cs"
        case .privateUse: return "Co"
        case .unassigned: return "Cn"
        @unknown default: return "Cn"
        }
    }
}
