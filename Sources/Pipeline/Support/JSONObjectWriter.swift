/// Writes one JSON object member by member, keys and strings escaped by ``JSONText``; members
/// whose value is nil are left out.
package struct JSONObjectWriter {
    private var json: [UInt8] = [UInt8(ascii: "{")]
    private var empty = true

    /// An empty object.
    package init() {}

    private mutating func key(_ name: String) {
        if !empty { json.append(UInt8(ascii: ",")) }
        empty = false
        JSONText.appendString(name, to: &json)
        json.append(UInt8(ascii: ":"))
    }

    /// A string member.
    package mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONText.appendString(value, to: &json)
    }

    /// An integer member.
    package mutating func integer(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        json.append(contentsOf: String(value).utf8)
    }

    /// A number member, written as Prometheus writes floats (`1.5`, `100`); must be finite.
    package mutating func number(_ name: String, _ value: Double?) {
        guard let value else { return }
        precondition(value.isFinite, "JSON has no \(value)")
        key(name)
        json.append(contentsOf: PrometheusFloat.format(value).utf8)
    }

    /// A boolean member.
    package mutating func boolean(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        json.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// An array-of-strings member.
    package mutating func strings(_ name: String, _ values: [String]?) {
        guard let values else { return }
        key(name)
        json.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            JSONText.appendString(value, to: &json)
        }
        json.append(UInt8(ascii: "]"))
    }

    /// A time member in RFC 3339 with microseconds.
    package mutating func time(_ name: String, _ microseconds: Int64) {
        key(name)
        json.append(UInt8(ascii: "\""))
        CivilTime(microseconds: microseconds).appendRFC3339(to: &json)
        json.append(UInt8(ascii: "\""))
    }

    /// A nested object filled by `fill`.
    package mutating func object(_ name: String, _ fill: (inout JSONObjectWriter) -> Void) {
        var inner = JSONObjectWriter()
        fill(&inner)
        key(name)
        json.append(contentsOf: inner.finished())
    }

    /// A JSON array of values that are JSON text made elsewhere.
    package static func array(_ elements: [[UInt8]]) -> [UInt8] {
        var json: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in elements.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(contentsOf: element)
        }
        return json + [UInt8(ascii: "]")]
    }

    /// A `null` member, for a key that readers should always find.
    package mutating func null(_ name: String) {
        key(name)
        json.append(contentsOf: "null".utf8)
    }

    /// A member whose value is JSON text made elsewhere (an object another writer finished).
    package mutating func raw(_ name: String, _ value: [UInt8]) {
        key(name)
        json.append(contentsOf: value)
    }

    /// An array member of values that are JSON text made elsewhere.
    package mutating func array(_ name: String, _ elements: [[UInt8]]) {
        key(name)
        json.append(contentsOf: Self.array(elements))
    }

    /// The object's text.
    package func finished() -> [UInt8] { json + [UInt8(ascii: "}")] }
}
