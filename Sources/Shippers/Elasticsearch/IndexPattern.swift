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
        let date = CivilTime(timestampMicroseconds: timestampMicroseconds)
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

/// A UTC calendar date and hour, from Howard Hinnant's `civil_from_days` (proleptic Gregorian).
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var microsecond: Int

    init(timestampMicroseconds: Int64) {
        let micros = Int(timestampMicroseconds)
        let seconds = micros.floorDivided(by: 1_000_000)
        microsecond = micros - seconds * 1_000_000
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay % 3600 / 60
        second = secondOfDay % 60

        let shifted = days + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// RFC 3339 with microseconds, `2026-08-21T10:04:05.123456Z`.
    var rfc3339: String {
        "\(zeroPadded(year, width: 4))-\(zeroPadded(month, width: 2))-\(zeroPadded(day, width: 2))T"
            + "\(zeroPadded(hour, width: 2)):\(zeroPadded(minute, width: 2)):\(zeroPadded(second, width: 2))."
            + "\(zeroPadded(microsecond, width: 6))Z"
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
