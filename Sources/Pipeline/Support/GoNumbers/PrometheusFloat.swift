/// Sample values in the exposition text, the dialect of client_golang's `writeFloat`
/// (``GoFloat`` lists the others): `strconv.FormatFloat(f, 'g', -1, 64)` with `+Inf`, `-Inf` and
/// `NaN` spelled out and negative zero written `0`, so that golden files and differential tests
/// against node_exporter compare byte for byte. Swift's `description` prints `1418183276.0` and
/// `inf`; Go prints `1.418183276e+09` and `+Inf`.
package enum PrometheusFloat {
    /// The Go `%g` text of `value`, e.g. `1.418183276e+09`, `0.21`, `+Inf`.
    package static func format(_ value: Double) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The OpenMetrics text of `value`: the Go text with `.0` added to integral values (`1.0`), as
    /// client_golang's OpenMetrics encoder writes them.
    static func formatOpenMetrics(_ value: Double) -> String {
        var bytes: [UInt8] = []
        appendOpenMetrics(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the OpenMetrics text of `value` to `bytes`.
    package static func appendOpenMetrics(_ value: Double, to bytes: inout [UInt8]) {
        let start = bytes.count
        append(value, to: &bytes)
        guard value.isFinite else { return }
        if !bytes[start...].contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: ".") }) {
            bytes.append(UInt8(ascii: "."))
            bytes.append(UInt8(ascii: "0"))
        }
    }

    /// Appends the Go `%g` text of `value` to `bytes` without building an intermediate `String`.
    package static func append(_ value: Double, to bytes: inout [UInt8]) {
        if value.isNaN { bytes.append(contentsOf: "NaN".utf8); return }
        if value == .infinity { bytes.append(contentsOf: "+Inf".utf8); return }
        if value == -.infinity { bytes.append(contentsOf: "-Inf".utf8); return }
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        if value.magnitude < 1e15, value == value.rounded(.towardZero) {
            appendIntegral(value, to: &bytes)
            return
        }

        let decimal = ShortestDecimal(value)
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Go's 'g' with shortest precision switches to exponent form when the decimal exponent is
        // below -4 or at least 6 (strconv/ftoa.go: "if shortest { eprec = 6 }").
        let exponent = decimal.pointPosition - 1
        if exponent < -4 || exponent >= 6 {
            decimal.appendExponentForm(to: &bytes)
        } else {
            decimal.appendPlainForm(to: &bytes)
        }
    }
}

extension PrometheusFloat {
    /// A sample value or `le`/`quantile` bound as the exposition parsers read one (expfmt's and
    /// Prometheus' textparse `parseFloat`): Go's `strconv.ParseFloat` (``GoFloat/parse(_:)``)
    /// with `p`, `P` and `_` refused, so no hexadecimal floats and no digit separators. Nil when
    /// `text` is not such a number.
    package static func parse(_ text: String) -> Double? {
        guard !text.utf8.contains(where: { $0 == UInt8(ascii: "p") || $0 == UInt8(ascii: "P") || $0 == UInt8(ascii: "_") }) else {
            return nil
        }
        return GoFloat.parse(text)
    }
}

extension PrometheusFloat {
    /// The Go text of an integral value below 10^15 (most counters and gauges), written without
    /// heap allocations: plain digits below 10^6, `d.ddde+XX` from there on.
    fileprivate static func appendIntegral(_ value: Double, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var integer = UInt64(value.magnitude)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { scratch in
            // Digits are produced least significant first, into the end of the scratch buffer.
            var start = scratch.count
            while integer > 0 {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(integer % 10)
                integer /= 10
            }
            let digitCount = scratch.count - start
            if digitCount <= 6 {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[start...]))
                return
            }
            var end = scratch.count
            while scratch[end - 1] == UInt8(ascii: "0") { end -= 1 }
            bytes.append(scratch[start])
            if end - start > 1 {
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[(start + 1)..<end]))
            }
            let exponent = digitCount - 1
            bytes.append(UInt8(ascii: "e"))
            bytes.append(UInt8(ascii: "+"))
            if exponent < 10 { bytes.append(UInt8(ascii: "0")) }
            if exponent >= 10 { bytes.append(UInt8(ascii: "0") + UInt8(exponent / 10)) }
            bytes.append(UInt8(ascii: "0") + UInt8(exponent % 10))
        }
    }
}

/// The shortest decimal digits that round-trip a `Double`: value = 0.d₁d₂…dₙ × 10^pointPosition.
/// Every Go float layout here (``PrometheusFloat``, ``GoFloat``) is written from these digits.
struct ShortestDecimal {
    /// ASCII digits without leading or trailing zeros.
    var digits: [UInt8]
    /// Where the decimal point goes, counted from the left of `digits`.
    var pointPosition: Int

    init(_ value: Double) {
        // Swift's description already holds the shortest round-trip digits (SwiftDtoa); only
        // their layout differs from Go's, so take the digits and exponent apart.
        (digits, pointPosition) = ShortestDecimal.parse(value.magnitude.description)
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
    }

    private static func parse(_ text: String) -> ([UInt8], Int) {
        var digits: [UInt8] = []
        var pointPosition: Int? = nil
        var exponent = 0
        var utf8 = Substring(text).utf8[...]
        while let byte = utf8.first {
            utf8 = utf8.dropFirst()
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(byte)
            case UInt8(ascii: "."):
                pointPosition = digits.count
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                exponent = Int(String(decoding: utf8, as: UTF8.self)) ?? 0
                utf8 = utf8[utf8.endIndex...]
            default:
                break
            }
        }
        var position = (pointPosition ?? digits.count) + exponent
        while digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            position -= 1
        }
        return (digits, position)
    }

    /// `d.ddde±XX` (or with another `marker`), with at least two exponent digits, as Go writes it.
    func appendExponentForm(to bytes: inout [UInt8], marker: UInt8 = UInt8(ascii: "e")) {
        bytes.append(digits[0])
        if digits.count > 1 {
            bytes.append(UInt8(ascii: "."))
            bytes.append(contentsOf: digits[1...])
        }
        bytes.append(marker)
        var exponent = pointPosition - 1
        if exponent < 0 {
            bytes.append(UInt8(ascii: "-"))
            exponent = -exponent
        } else {
            bytes.append(UInt8(ascii: "+"))
        }
        if exponent < 10 { bytes.append(UInt8(ascii: "0")) }
        bytes.append(contentsOf: String(exponent).utf8)
    }

    /// `ddd.ddd` with exactly the significant digits, as Go's `%f` with shortest precision.
    func appendPlainForm(to bytes: inout [UInt8]) {
        if pointPosition <= 0 {
            bytes.append(UInt8(ascii: "0"))
        } else {
            for index in 0..<pointPosition {
                bytes.append(index < digits.count ? digits[index] : UInt8(ascii: "0"))
            }
        }
        let fractionDigits = digits.count - pointPosition
        guard fractionDigits > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        for index in pointPosition..<digits.count {
            bytes.append(index < 0 ? UInt8(ascii: "0") : digits[index])
        }
    }
}
