/// Milliseconds as Go's `time.Duration.String()` prints them: `0s`, `1m0s`, `1h30m0s`, `1.5s`, `500ms`.
package func goDuration(_ milliseconds: Int64) -> String {
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
package func goFraction(_ fraction: Int, digits: Int) -> String {
    guard fraction > 0 else { return "" }
    var text = String(fraction)
    text = String(repeating: "0", count: digits - text.count) + text
    while text.hasSuffix("0") { text.removeLast() }
    return "." + text
}
