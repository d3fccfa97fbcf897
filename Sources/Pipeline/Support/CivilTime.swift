#if canImport(Glibc)
import Glibc
#endif

/// A UTC calendar time from microseconds since the Unix epoch, without Foundation: what
/// `@timestamp` and dated index names are written from.
package struct CivilTime: Sendable, Equatable {
    /// The year (proleptic Gregorian).
    package var year: Int
    /// 1...12.
    package var month: Int
    /// 1...31.
    package var day: Int
    /// 0...23.
    package var hour: Int
    /// 0...59.
    package var minute: Int
    /// 0...59.
    package var second: Int
    /// 0...999_999.
    package var microsecond: Int

    /// The UTC calendar time `microseconds` after 1970-01-01T00:00:00Z.
    package init(microseconds: Int64) {
        let (seconds, micros) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        let wholeSeconds = micros < 0 ? seconds - 1 : seconds
        microsecond = Int(micros < 0 ? micros + 1_000_000 : micros)
        var days = wholeSeconds / 86_400
        var secondOfDay = wholeSeconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        hour = Int(secondOfDay / 3600)
        minute = Int(secondOfDay % 3600 / 60)
        second = Int(secondOfDay % 60)
        // Howard Hinnant's civil_from_days.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
    }

    /// Creates a calendar time from its parts (UTC).
    package init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
    }

    /// Microseconds since the Unix epoch (Howard Hinnant's days_from_civil).
    package var microseconds: Int64 {
        let shiftedYear = Int64(month <= 2 ? year - 1 : year)
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let monthIndex = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthIndex + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
        return seconds * 1_000_000 + Int64(microsecond)
    }

    /// RFC 3339 with microseconds, `2026-11-26T23:44:47.123456Z`.
    package var rfc3339: String {
        var text: [UInt8] = []
        appendRFC3339(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends RFC 3339 with microseconds, `2026-11-26T23:44:47.123456Z`.
    package func appendRFC3339(to output: inout [UInt8]) {
        Self.appendDigits(year, width: 4, to: &output)
        output.append(UInt8(ascii: "-"))
        Self.appendDigits(month, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        Self.appendDigits(day, width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        Self.appendDigits(hour, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        Self.appendDigits(minute, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        Self.appendDigits(second, width: 2, to: &output)
        output.append(UInt8(ascii: "."))
        Self.appendDigits(microsecond, width: 6, to: &output)
        output.append(UInt8(ascii: "Z"))
    }

    /// Appends a non-negative `value` in decimal, zero-padded to at least `width` digits.
    static func appendDigits(_ value: Int, width: Int, to output: inout [UInt8]) {
        let value = max(value, 0)
        var place = 1
        var digitCount = 1
        while place <= value / 10 {
            place *= 10
            digitCount += 1
        }
        for _ in digitCount..<max(width, digitCount) { output.append(UInt8(ascii: "0")) }
        var remaining = value
        while place > 0 {
            output.append(UInt8(ascii: "0") + UInt8(remaining / place))
            remaining %= place
            place /= 10
        }
    }

    /// Microseconds since the epoch for an absolute time in UTC unless it names an offset:
    /// RFC 3339 (`2026-11-26T10:00:00Z`, `…T10:00:00.5+01:00`), or journalctl's
    /// `2026-11-26 10:00:00`, `2026-11-26 10:00` and `2026-11-26`. RFC 3339 §5.6 lets `T` and `Z`
    /// be written in lower case. Nil for anything else, and for dates and offsets that cannot be:
    /// a day past its month's end (February 29th only in leap years), an offset of 24 hours or
    /// more or with 60 minutes or more (Go's `time.Parse` refuses the same).
    package static func parseMicroseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ bytes[$0] >= 48 && bytes[$0] <= 57 }) else { return nil }
            return range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) }
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day) else { return nil }
        var time = CivilTime(year: year, month: month, day: day)
        var index = 10
        if index < bytes.count {
            guard bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") || bytes[index] == UInt8(ascii: "t"),
                  let hour = number(11..<13), bytes.count > 13, bytes[13] == UInt8(ascii: ":"), let minute = number(14..<16),
                  hour < 24, minute < 60 else { return nil }
            time.hour = hour
            time.minute = minute
            index = 16
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                guard let second = number(17..<19), second < 61 else { return nil }
                time.second = min(second, 59)
                index = 19
                if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                    var digits = 0
                    var fraction = 0
                    index += 1
                    while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                        if digits < 6 { fraction = fraction * 10 + Int(bytes[index] - 48); digits += 1 }
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in digits..<6 { fraction *= 10 }
                    time.microsecond = fraction
                }
            }
        }
        var offsetSeconds = 0
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "Z") where index + 1 == bytes.count, UInt8(ascii: "z") where index + 1 == bytes.count: break
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard bytes.count == index + 6, bytes[index + 3] == UInt8(ascii: ":"),
                      let hours = number((index + 1)..<(index + 3)), let minutes = number((index + 4)..<(index + 6)),
                      hours < 24, minutes < 60 else { return nil }
                offsetSeconds = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
            default: return nil
            }
        }
        return time.microseconds - Int64(offsetSeconds) * 1_000_000
    }

    /// The days of `month` (1–12) in the proleptic Gregorian `year`.
    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The wall clock, in microseconds since the epoch.
    package static func nowMicroseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
