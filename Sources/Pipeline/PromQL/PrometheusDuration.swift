/// Durations as Prometheus writes them (`model.ParseDuration`): one or more number-unit pairs
/// from the largest unit down, `1h30m`, `90s`, `500ms`, `1d`, `2w`, `1y` (a day is 24 h, a week
/// 7 days, a year 365 days), or `0`. PromQL's ranges and offsets read them here too.
package enum PrometheusDuration {
    /// Why a text is not a duration.
    package enum Failure: Error, Sendable {
        /// Not in the notation.
        case invalid
        /// In the notation, but longer than ``maximumMilliseconds``.
        case outOfRange
    }

    /// The longest duration, about 292 years: what Go's `time.Duration` (int64 nanoseconds)
    /// holds, beyond which Prometheus answers "duration out of range". It also keeps every
    /// `time ± offset` and range start of an evaluation far inside Int64.
    package static let maximumMilliseconds = Int64.max / 1_000_000

    /// Milliseconds in `text`, or nil when it is not a duration.
    package static func milliseconds(_ text: String) -> Int64? {
        try? parse(text)
    }

    /// Milliseconds in `text`.
    package static func parse(_ text: String) throws(Failure) -> Int64 {
        if text == "0" { return 0 }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .invalid }
        var index = 0, nextUnit = 0
        var total: Int64 = 0
        while index < bytes.count {
            var count: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflowA) = count.multipliedReportingOverflow(by: 10)
                let (sum, overflowB) = times.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                if overflowA || overflowB { throw .outOfRange }
                count = sum
                index += 1
            }
            guard index > digitsStart, index < bytes.count else { throw .invalid }
            var unitName = String(UnicodeScalar(bytes[index]))
            index += 1
            if unitName == "m", index < bytes.count, bytes[index] == UInt8(ascii: "s") {
                unitName = "ms"
                index += 1
            }
            // Each unit at most once, largest first.
            guard let unit = PromQLDuration.units.indices.first(where: { PromQLDuration.units[$0].name == unitName }),
                  unit >= nextUnit else { throw .invalid }
            nextUnit = unit + 1
            let (product, overflowA) = count.multipliedReportingOverflow(by: PromQLDuration.units[unit].milliseconds)
            let (sum, overflowB) = total.addingReportingOverflow(product)
            if overflowA || overflowB || sum > maximumMilliseconds { throw .outOfRange }
            total = sum
        }
        return total
    }
}
