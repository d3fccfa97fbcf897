/// Reads the members of one JSON object by name, for answers Lookout itself writes (a summary,
/// a pipeline run) and reads back in the CLI: a missing member and `null` both read as nil, a
/// member of the wrong kind throws a ``JSONShapeError`` naming its path.
package struct JSONObjectReader {
    private let members: [String: JSONValue]
    /// Where this object sits, e.g. `host.cpu`; empty for the top level.
    package let path: String

    /// A reader over `value`, which must be an object.
    package init(_ value: JSONValue, path: String = "") throws(JSONShapeError) {
        guard case .object(let pairs) = value else {
            throw JSONShapeError(path: path, problem: "expected an object, got \(value.kindName)")
        }
        members = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        self.path = path
    }

    private func pathOf(_ name: String) -> String { path.isEmpty ? name : path + "." + name }

    private func mismatch(_ name: String, _ expected: String, _ value: JSONValue) -> JSONShapeError {
        JSONShapeError(path: pathOf(name), problem: "expected \(expected), got \(value.kindName)")
    }

    /// The member's value; nil when it is missing or `null`.
    package func value(_ name: String) -> JSONValue? {
        guard let value = members[name], value != .null else { return nil }
        return value
    }

    /// A string member.
    package func string(_ name: String) throws(JSONShapeError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw mismatch(name, "a string", value) }
        return text
    }

    /// A number member.
    package func number(_ name: String) throws(JSONShapeError) -> Double? {
        guard let value = value(name) else { return nil }
        guard case .number(let text) = value, let number = Double(text) else { throw mismatch(name, "a number", value) }
        return number
    }

    /// An integer member.
    package func integer(_ name: String) throws(JSONShapeError) -> Int? {
        guard let value = value(name) else { return nil }
        guard case .number(let text) = value, let integer = Int(text) else { throw mismatch(name, "an integer", value) }
        return integer
    }

    /// A boolean member.
    package func boolean(_ name: String) throws(JSONShapeError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(name, "a boolean", value) }
        return flag
    }

    /// An RFC 3339 time member, as microseconds since the epoch.
    package func time(_ name: String) throws(JSONShapeError) -> Int64? {
        guard let text = try string(name) else { return nil }
        guard let microseconds = CivilTime.parseMicroseconds(text) else {
            throw JSONShapeError(path: pathOf(name), problem: "expected an RFC 3339 time, got \"\(text)\"")
        }
        return microseconds
    }

    /// An object member.
    package func object(_ name: String) throws(JSONShapeError) -> JSONObjectReader? {
        guard let value = value(name) else { return nil }
        return try JSONObjectReader(value, path: pathOf(name))
    }

    /// An array member whose elements are all objects.
    package func objects(_ name: String) throws(JSONShapeError) -> [JSONObjectReader]? {
        guard let value = value(name) else { return nil }
        guard case .array(let elements) = value else { throw mismatch(name, "an array", value) }
        var readers: [JSONObjectReader] = []
        for (index, element) in elements.enumerated() {
            readers.append(try JSONObjectReader(element, path: "\(pathOf(name))[\(index)]"))
        }
        return readers
    }

    /// An array member whose elements are all strings.
    package func strings(_ name: String) throws(JSONShapeError) -> [String]? {
        guard let value = value(name) else { return nil }
        guard case .array(let elements) = value else { throw mismatch(name, "an array", value) }
        var texts: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw mismatch(name, "an array of strings", element) }
            texts.append(text)
        }
        return texts
    }

    /// `value`, or an error saying that member `name` is required.
    package func required<Value>(_ value: Value?, _ name: String) throws(JSONShapeError) -> Value {
        guard let value else { throw JSONShapeError(path: pathOf(name), problem: "required") }
        return value
    }

    /// `text` as a case of `Enumeration`, or an error naming member `name` and the cases allowed.
    package func choice<Enumeration: RawRepresentable & CaseIterable>(_ text: String?, _ name: String, as _: Enumeration.Type)
        throws(JSONShapeError) -> Enumeration? where Enumeration.RawValue == String
    {
        guard let text else { return nil }
        guard let value = Enumeration(rawValue: text) else {
            let allowed = Enumeration.allCases.map(\.rawValue).joined(separator: ", ")
            throw JSONShapeError(path: pathOf(name), problem: "expected one of \(allowed), got \"\(text)\"")
        }
        return value
    }
}

/// JSON that parses but is not the shape expected: which member, and what is wrong with it.
package struct JSONShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The member's path, e.g. `runs[0].steps[1].result`.
    package var path: String
    /// What is wrong with it.
    package var problem: String

    /// Creates the error.
    package init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// The problem as one line.
    package var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}
