import Foundation

/// Numbers as Go's `strconv` and `fmt` read and write them: Prometheus, promtool and
/// node_exporter are Go programs, and Lookout's outputs must read byte for byte as theirs and
/// its inputs be taken or refused as they take or refuse them. Every Go number dialect Lookout
/// needs lives here and in ``PrometheusFloat``; the differential tests
/// (IntegrationTests/GoNumbersDifferentialTests) hold them to a real Prometheus and promtool.
///
/// | dialect | Go | where | here |
/// |---|---|---|---|
/// | exposition text | `AppendFloat(f, 'g', -1, 64)`, `-0` written `0` (client_golang's `writeFloat`) | /metrics, textfile | ``PrometheusFloat/append(_:to:)`` |
/// | OpenMetrics | the same with `.0` on integral values | /metrics | ``PrometheusFloat/appendOpenMetrics(_:to:)`` |
/// | `%v` | `FormatFloat(f, 'g', -1, 64)`, `-0` kept | templates, promtool's messages, gate reports | ``formatG(_:)`` |
/// | `'f'` | `FormatFloat(f, 'f', -1, 64)`: never an exponent | PromQL literals, the HTTP API's values, `count_values` labels | ``formatF(_:)`` |
/// | `'E'` | `FormatFloat(f, 'E', -1, 64)` | promtool's `exp:`/`got:` sample lines | ``formatE(_:)`` |
/// | printf | `fmt.Sprintf("%.4g", f)` | templates, `/api/v1/alerts` values | ``printf(_:_:)`` |
/// | `ParseFloat` | `strconv.ParseFloat(s, 64)` | the HTTP API's values and `time`, `le` labels, templates, gate thresholds | ``parse(_:)`` |
/// | exposition values | `ParseFloat` without `p`, `P`, `_` (expfmt's and textparse's `parseFloat`) | textfile, the exposition parser | ``PrometheusFloat/parse(_:)`` |
///
/// promtool's series notation (`1+2x3`, `_`, `stale`) has a reader of its own, `SeriesValue`, in
/// the Rules module; its numbers are read here.
package enum GoFloat {
    // MARK: Writing

    /// `value` as Go's `%v` prints a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`): the shortest
    /// digits, in exponent form when the exponent is below -4 or 6 and above (`1e+06`, `1.5e-05`),
    /// `+Inf`, `-Inf`, `NaN`, and `-0` for negative zero (where the exposition text writes `0`).
    package static func formatG(_ value: Double) -> String {
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        return PrometheusFloat.format(value)
    }

    /// `value` as `strconv.FormatFloat(value, 'f', -1, 64)`, which Prometheus uses for number
    /// literals and its HTTP API's values: the shortest digits that read back, never in exponent
    /// form (`0.0000001`, not `1e-07`), `-0` for negative zero.
    package static func formatF(_ value: Double) -> String {
        if let special = special(value, zero: "0") { return special }
        var bytes: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
        ShortestDecimal(value).appendPlainForm(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `value` as `strconv.FormatFloat(value, 'E', -1, 64)`: `1E+00`, `5E-01`, `1.234E+03`.
    package static func formatE(_ value: Double) -> String {
        if let special = special(value, zero: "0E+00") { return special }
        var bytes: [UInt8] = value < 0 ? [UInt8(ascii: "-")] : []
        ShortestDecimal(value).appendExponentForm(to: &bytes, marker: UInt8(ascii: "E"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `value` formatted by a C-style float conversion (`%.4g`, `%.2f`), as Go's `fmt.Sprintf`
    /// formats it, with Go's spelling of the values C spells differently (`+Inf`, `-Inf`, `NaN`).
    package static func printf(_ spec: String, _ value: Double) -> String {
        if value.isNaN || value.isInfinite { return special(value, zero: "")! }
        return String(format: spec, value)
    }

    /// NaN, the infinities and zero (with its sign) as Go spells them; nil for any other value.
    private static func special(_ value: Double, zero: String) -> String? {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-" + zero : zero }
        return nil
    }

    // MARK: Reading

    /// `text` as `strconv.ParseFloat(text, 64)` reads it, or nil where Go returns an error:
    ///
    /// - decimal (`1`, `-1.5e-3`, `.5`, `1.`) and hexadecimal floats, whose `p` exponent is
    ///   required (`0x1.8p1`);
    /// - `_` between digits (`1_000`), as Go's `underscoreOK` allows;
    /// - `Inf`, `Infinity` with an optional sign and `NaN` without one, in any case;
    /// - nil for anything else, trailing text included, and for a finite number too large for a
    ///   float64 (Go's `ErrRange`); one too small is 0 or a subnormal, as in Go.
    package static func parse(_ text: String) -> Double? {
        var utf8 = Array(text.utf8)
        if let special = parseSpecial(utf8) { return special }
        guard let cleaned = checkedNumber(&utf8), let value = Double(cleaned), value.isFinite else { return nil }
        return value
    }

    /// `Inf`, `Infinity` (signed or not) and `NaN` (unsigned), in any case, as Go's `special`.
    private static func parseSpecial(_ bytes: [UInt8]) -> Double? {
        var body = bytes[...]
        var sign = 1.0
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? -1 : 1
            body = body.dropFirst()
        } else if String(decoding: body, as: UTF8.self).lowercased() == "nan" {
            return .nan
        }
        let word = String(decoding: body, as: UTF8.self).lowercased()
        return word == "inf" || word == "infinity" ? sign * .infinity : nil
    }

    /// The number in `bytes` without its underscores, when it follows Go's `readFloat` grammar
    /// to the end (and `underscoreOK` where it has underscores); nil otherwise.
    private static func checkedNumber(_ bytes: inout [UInt8]) -> String? {
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        var hex = false
        if index + 2 < bytes.count, bytes[index] == UInt8(ascii: "0"), bytes[index + 1] | 0x20 == UInt8(ascii: "x") {
            hex = true
            index += 2
        }
        func isDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || hex && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
        }
        var sawDigits = false, sawDot = false, underscores = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "_") {
                underscores = true
            } else if byte == UInt8(ascii: ".") {
                if sawDot { break }
                sawDot = true
            } else if isDigit(byte) {
                sawDigits = true
            } else {
                break
            }
            index += 1
        }
        guard sawDigits else { return nil }
        let exponentMarker = hex ? UInt8(ascii: "p") : UInt8(ascii: "e")
        if index < bytes.count, bytes[index] | 0x20 == exponentMarker {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) || bytes[index] == UInt8(ascii: "_") {
                if bytes[index] == UInt8(ascii: "_") { underscores = true }
                index += 1
            }
        } else if hex {
            return nil  // a hexadecimal float must have its p exponent
        }
        guard index == bytes.count else { return nil }
        if underscores {
            guard underscoresAreSeparators(bytes) else { return nil }
            bytes.removeAll { $0 == UInt8(ascii: "_") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Go's `underscoreOK`: every `_` stands between two digits, or between a base prefix and a
    /// digit.
    private static func underscoresAreSeparators(_ bytes: [UInt8]) -> Bool {
        var body = bytes[...]
        if let first = body.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") { body = body.dropFirst() }
        // What came last: a digit or base prefix, an underscore, or something else (start: none).
        enum Seen { case start, digit, underscore, other }
        var seen = Seen.start
        var hex = false
        if body.count >= 2, body.first == UInt8(ascii: "0"), [UInt8(ascii: "b"), UInt8(ascii: "o"), UInt8(ascii: "x")].contains(body[body.startIndex + 1] | 0x20) {
            hex = body[body.startIndex + 1] | 0x20 == UInt8(ascii: "x")
            body = body.dropFirst(2)
            seen = .digit
        }
        for byte in body {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || hex && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20) {
                seen = .digit
            } else if byte == UInt8(ascii: "_") {
                guard seen == .digit else { return false }
                seen = .underscore
            } else {
                if seen == .underscore { return false }
                seen = .other
            }
        }
        return seen != .underscore
    }
}
