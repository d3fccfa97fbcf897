import Foundation

// Numbers and times as Go's standard library prints them, for the texts promtool and Prometheus'
// templates produce: the rule unit-test report and alert annotations must read byte for byte
// the same.

/// `value` as Go's `%v` prints a float64 (`strconv.FormatFloat(v, 'g', -1, 64)`): the shortest
/// digits, in exponent form when the exponent is below -4 or 6 and above (`1e+06`, `1.5e-05`),
/// `+Inf`, `-Inf`, `NaN`.
public func goFloat(_ value: Double) -> String {
    if value.isNaN || value.isInfinite || value == 0 { return goSpecialFloat(value, zero: "0") }
    let exponent = shortestDecimalDigits(value).point - 1
    guard exponent < -4 || exponent >= 6 else { return plainPromQLNumber(value) }
    return goExponentForm(value, marker: "e")
}

/// `value` as Go's `strconv.FormatFloat(value, 'E', -1, 64)`: `1E+00`, `5E-01`, `1.234E+03`.
public func goExponentFloat(_ value: Double) -> String {
    if value.isNaN || value.isInfinite || value == 0 { return goSpecialFloat(value, zero: "0E+00") }
    return goExponentForm(value, marker: "E")
}

/// NaN, the infinities and zero (with its sign) as Go spells them.
private func goSpecialFloat(_ value: Double, zero: String) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
    return value.sign == .minus ? "-" + zero : zero
}

/// The shortest digits of a finite, non-zero `value` as `d.ddd`, `marker`, a sign and at least
/// two exponent digits.
private func goExponentForm(_ value: Double, marker: String) -> String {
    let (digits, point) = shortestDecimalDigits(value)
    let exponent = point - 1
    let mantissa = digits.count > 1 ? "\(digits[0]).\(String(digits[1...]))" : "\(digits[0])"
    let magnitude = exponent.magnitude < 10 ? "0\(exponent.magnitude)" : "\(exponent.magnitude)"
    return (value < 0 ? "-" : "") + mantissa + marker + (exponent < 0 ? "-" : "+") + magnitude
}

/// `value` formatted by a C-style float conversion (`%.4g`, `%.2f`), with Go's spelling of the
/// values C spells differently (`+Inf`, `-Inf`, `NaN`).
public func goFormat(_ spec: String, _ value: Double) -> String {
    if value.isNaN || value.isInfinite { return goSpecialFloat(value, zero: "") }
    return String(format: spec, value)
}

/// Milliseconds as Go's `time.Duration.String()` prints them: `0s`, `1m0s`, `1h30m0s`, `1.5s`, `500ms`.
public func goDuration(_ milliseconds: Int64) -> String {
    if milliseconds == 0 { return "0s" }
    let sign = milliseconds < 0 ? "-" : ""
    let total = milliseconds.magnitude
    if total < 1000 { return "\(sign)\(total)ms" }
    let hours = total / 3_600_000, minutes = total / 60_000 % 60, seconds = total / 1000 % 60
    let secondsText = "\(seconds)" + goFraction(Int(total % 1000), digits: 3)
    if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(secondsText)s" }
    if minutes > 0 { return "\(sign)\(minutes)m\(secondsText)s" }
    return "\(sign)\(secondsText)s"
}

/// A fraction of `digits` decimal places as Go prints one after a whole number: `.5` for 500
/// thousandths, nothing for zero.
public func goFraction(_ fraction: Int, digits: Int) -> String {
    guard fraction > 0 else { return "" }
    var text = String(fraction)
    text = String(repeating: "0", count: digits - text.count) + text
    while text.hasSuffix("0") { text.removeLast() }
    return "." + text
}

/// `value` as Prometheus prints a number literal, Go's `strconv.FormatFloat(value, 'f', -1, 64)`:
/// the shortest digits that read back, never in exponent form (`0.0000001`, not `1e-07`).
public func plainPromQLNumber(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
    let sign = value.sign == .minus ? "-" : ""
    if value == 0 { return sign + "0" }
    let (digits, point) = shortestDecimalDigits(value)
    if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + String(digits) }
    if point >= digits.count { return sign + String(digits) + String(repeating: "0", count: point - digits.count) }
    return sign + String(digits[..<point]) + "." + String(digits[point...])
}

/// The shortest decimal digits that read back as `value` (finite, not zero), without leading or
/// trailing zeros, and where the decimal point goes: the value is `0.digits × 10^point`.
public func shortestDecimalDigits(_ value: Double) -> (digits: [Character], point: Int) {
    // Swift's description holds the same shortest digits as Go's (`1.5e-07`, `100.0`); only the layout differs.
    let parts = value.magnitude.description.split(separator: "e")
    let mantissa = parts[0]
    var digits = Array(mantissa.filter { $0 != "." })
    var point = (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count)
        + (parts.count > 1 ? Int(parts[1])! : 0)
    while digits.first == "0" {
        digits.removeFirst()
        point -= 1
    }
    while digits.last == "0" { digits.removeLast() }
    return (digits, point)
}
