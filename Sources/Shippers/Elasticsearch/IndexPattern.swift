import LookoutSupport

/// An index name with strftime-like date fields (`%Y`, `%m`, `%d`, `%H`, `%%`), filled from a
/// document's own timestamp in UTC, as Vector's `%Y.%m.%d` and Beats' `%{+yyyy.MM.dd}` do.
struct IndexPattern: Sendable, Equatable {
    fileprivate enum Part: Sendable, Equatable {
        case literal(String)
        case year, month, day, hour
    }

    private let parts: [Part]

    /// The pattern with its date fields (and the text between them) replaced by one `*`, the
    /// shape an index template's `index_patterns` needs: `lookout-logs-%Y.%m.%d` → `lookout-logs-*`.
    let wildcard: String

    /// Parses `pattern`, rejecting unknown `%` fields and characters Elasticsearch forbids in
    /// index names.
    init(_ pattern: String) throws(ElasticsearchConfigurationError) {
        guard !pattern.isEmpty else { throw ElasticsearchConfigurationError("the index pattern is empty") }
        var parts: [Part] = []
        var literal = ""
        var characters = pattern.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                // Elasticsearch's index name rules (Create index API, "Path parameters").
                if character.isUppercase || " \\/*?\"<>|,#:".contains(character) {
                    throw ElasticsearchConfigurationError(
                        "the index pattern '\(pattern)' contains '\(character)', which index names cannot contain")
                }
                literal.append(character)
                continue
            }
            let field: Part
            switch characters.next() {
            case "Y": field = .year
            case "m": field = .month
            case "d": field = .day
            case "H": field = .hour
            case "%":
                literal.append("%")
                continue
            case let other:
                throw ElasticsearchConfigurationError(
                    "the index pattern '\(pattern)' has the unknown field '%\(other.map(String.init) ?? "")'; use %Y, %m, %d, %H or %%")
            }
            if !literal.isEmpty { parts.append(.literal(literal)) }
            literal = ""
            parts.append(field)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts

        let isDate = parts.map { if case .literal = $0 { false } else { true } }
        if let first = isDate.firstIndex(of: true), let last = isDate.lastIndex(of: true) {
            wildcard = literalText(parts[..<first]) + "*" + literalText(parts[(last + 1)...])
        } else {
            wildcard = literalText(parts[...])
        }
    }

    /// The index for a document stamped `timestampMicroseconds` (since the Unix epoch, UTC).
    func indexName(timestampMicroseconds: Int64) -> String {
        let date = CivilTime(microseconds: timestampMicroseconds)
        var name = ""
        for part in parts {
            switch part {
            case .literal(let text): name += text
            case .year: name += date.year < 0 ? String(date.year) : zeroPadded(date.year, width: 4)
            case .month: name += zeroPadded(date.month, width: 2)
            case .day: name += zeroPadded(date.day, width: 2)
            case .hour: name += zeroPadded(date.hour, width: 2)
            }
        }
        return name
    }
}

private func literalText(_ parts: ArraySlice<IndexPattern.Part>) -> String {
    parts.map { if case .literal(let text) = $0 { text } else { "" } }.joined()
}

private func zeroPadded(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
