import LookoutSupport

/// Writes metric families as Prometheus text 0.0.4 or OpenMetrics 1.0.0.
///
/// Families are written in the order given (the registry sorts them); each family is one group with
/// its metadata first. Escaping follows prometheus/docs `exposition_formats.md` (HELP: `\\` and
/// `\n`; label values: also `\"`) and the OpenMetrics specification (HELP also escapes `\"`).
package struct ExpositionEncoder: Sendable {
    /// The format this encoder writes.
    package let format: ExpositionFormat

    /// Creates an encoder for one format.
    package init(format: ExpositionFormat) {
        self.format = format
    }

    /// The complete exposition body for `families`, including OpenMetrics' closing `# EOF`.
    ///
    /// The body is written once into storage of a size computed beforehand from the strings'
    /// lengths (``ExpositionSize``): growing an array append by append cost a uniqueness check,
    /// a capacity check and retains of every string on each of a scrape's thousands of appends
    /// (a 250-sample scrape: 71–131 µs that way, 52–70 µs this way; bench/RESULTS.md, sixth pass).
    package func encode(_ families: [MetricFamily]) -> [UInt8] {
        let bound = ExpositionSize.bound(of: families, format: format)
        return [UInt8](unsafeUninitializedCapacity: bound) { storage, written in
            var out = ByteWriter(storage)
            // Families, samples and labels are read in place, through their buffers: a `for`
            // loop's copy of each element retains and releases every string in it.
            families.withUnsafeBufferPointer { families in
                for index in families.indices where !families[index].samples.isEmpty {
                    switch format {
                    case .text: appendText(families[index], to: &out)
                    case .openMetrics: appendOpenMetrics(families[index], to: &out)
                    }
                }
            }
            if format == .openMetrics { out.append("# EOF\n") }
            written = out.count
        }
    }

    private func appendText(_ family: MetricFamily, to out: inout ByteWriter) {
        if !family.help.isEmpty {
            out.append("# HELP ")
            out.append(family.name)
            out.append(UInt8(ascii: " "))
            out.appendEscaped(family.help, quotes: false)
            out.append(UInt8(ascii: "\n"))
        }
        out.append("# TYPE ")
        out.append(family.name)
        out.append(UInt8(ascii: " "))
        out.append(family.type.rawValue)
        out.append(UInt8(ascii: "\n"))
        family.samples.withUnsafeBufferPointer { samples in
            for index in samples.indices {
                out.append(family.name)
                out.append(samples[index].suffix)
                appendLabels(samples[index].labels, reformatBounds: false, to: &out)
                out.append(UInt8(ascii: " "))
                out.appendFloat(samples[index].value, openMetrics: false)
                out.append(UInt8(ascii: "\n"))
            }
        }
    }

    private func appendOpenMetrics(_ family: MetricFamily, to out: inout ByteWriter) {
        // OpenMetrics names a counter family without its `_total`; client_golang demotes a counter
        // whose name lacks the suffix to `unknown` rather than rename its samples.
        var metadataName = family.name
        var typeName: String
        switch family.type {
        case .counter:
            if family.name.hasSuffix("_total") {
                metadataName = String(family.name.dropLast("_total".count))
                typeName = "counter"
            } else {
                typeName = "unknown"
            }
        case .untyped: typeName = "unknown"
        case .gauge, .histogram, .summary: typeName = family.type.rawValue
        }
        out.append("# TYPE ")
        out.append(metadataName)
        out.append(UInt8(ascii: " "))
        out.append(typeName)
        out.append(UInt8(ascii: "\n"))
        if !family.help.isEmpty {
            out.append("# HELP ")
            out.append(metadataName)
            out.append(UInt8(ascii: " "))
            out.appendEscaped(family.help, quotes: true)
            out.append(UInt8(ascii: "\n"))
        }
        let reformatBounds = family.type == .histogram || family.type == .summary
        for sample in family.samples {
            out.append(family.name)
            out.append(sample.suffix)
            appendLabels(sample.labels, reformatBounds: reformatBounds, to: &out)
            out.append(UInt8(ascii: " "))
            out.appendFloat(sample.value, openMetrics: true)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// `{a="x",b="y"}`, or nothing for an empty set. With `reformatBounds`, `le` and `quantile`
    /// values are rewritten in OpenMetrics' canonical float form (`1` becomes `1.0`).
    private func appendLabels(_ labels: [Label], reformatBounds: Bool, to out: inout ByteWriter) {
        guard !labels.isEmpty else { return }
        out.append(UInt8(ascii: "{"))
        labels.withUnsafeBufferPointer { labels in
            for index in labels.indices {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(labels[index].name)
                out.append("=\"")
                if reformatBounds, labels[index].name == "le" || labels[index].name == "quantile",
                   let bound = Double(labels[index].value == "+Inf" ? "inf" : labels[index].value) {
                    out.appendFloat(bound, openMetrics: true)
                } else {
                    out.appendEscaped(labels[index].value, quotes: true)
                }
                out.append(UInt8(ascii: "\""))
            }
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// The most bytes an exposition of some families can take, computed from the lengths of their
/// strings before any is written: every byte of HELP texts and label values doubled (each may be
/// escaped), every number at its longest.
enum ExpositionSize {
    /// The longest text of a sample value or `le`/`quantile` bound: Go's `%g` of a negative
    /// subnormal, `-2.2250738585072014e-308` (24 bytes), with OpenMetrics' `.0` on top.
    static let longestNumber = 26

    /// An upper bound of the size of `families` encoded in `format`.
    static func bound(of families: [MetricFamily], format: ExpositionFormat) -> Int {
        var total = "# EOF\n".utf8.count
        for family in families {
            let name = family.name.utf8.count
            // "# HELP name text\n" and "# TYPE name type\n", the longest type name being "histogram".
            total += 2 * ("# HELP ".utf8.count + name + 2) + 2 * family.help.utf8.count + "histogram".utf8.count
            for sample in family.samples {
                // name, suffix, "{" and "}", " value\n"
                total += name + sample.suffix.utf8.count + 2 + 2 + longestNumber
                for label in sample.labels {
                    // ",name=\"value\"", a bound rewritten as a number included
                    total += label.name.utf8.count + 4 + max(2 * label.value.utf8.count, longestNumber)
                }
            }
        }
        return total
    }
}

/// Writes bytes into storage sized beforehand (``ExpositionSize``): each write is a copy and an
/// increment. Writing past the end is a bug in the size bound, and stops the process rather
/// than overwrite memory.
struct ByteWriter {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    /// How many bytes have been written.
    private(set) var count = 0
    /// Room for one number's text, reused for every one.
    private var number: [UInt8] = []

    /// A writer filling `storage` from its start.
    init(_ storage: UnsafeMutableBufferPointer<UInt8>) {
        self.storage = storage
        number.reserveCapacity(ExpositionSize.longestNumber)
    }

    /// Writes one byte.
    mutating func append(_ byte: UInt8) {
        precondition(count < storage.count, "exposition size bound exceeded")
        storage[count] = byte
        count += 1
    }

    /// Writes `bytes` as they are.
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        precondition(bytes.count <= storage.count - count, "exposition size bound exceeded")
        (storage.baseAddress! + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Writes the UTF-8 of `text`: one copy of its bytes, which strings lend without copying.
    mutating func append(_ text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append($0) }
        if copied == nil { for byte in text.utf8 { append(byte) } }
    }

    /// Writes `text` with `\\` and `\n` escaped, and `\"` too when `quotes`; runs without
    /// anything to escape are copied whole.
    mutating func appendEscaped(_ text: String, quotes: Bool) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { source in
            var runStart = 0
            for index in source.indices {
                guard let escape = Self.escape(source[index], quotes: quotes) else { continue }
                append(UnsafeBufferPointer(rebasing: source[runStart..<index]))
                append(UInt8(ascii: "\\"))
                append(escape)
                runStart = index + 1
            }
            append(UnsafeBufferPointer(rebasing: source[runStart...]))
        }
        if copied != nil { return }
        for byte in text.utf8 {
            if let escape = Self.escape(byte, quotes: quotes) {
                append(UInt8(ascii: "\\"))
                append(escape)
            } else {
                append(byte)
            }
        }
    }

    /// Writes `value` as client_golang's text encoder does (``PrometheusFloat``), or as its
    /// OpenMetrics encoder does.
    mutating func appendFloat(_ value: Double, openMetrics: Bool) {
        number.removeAll(keepingCapacity: true)
        if openMetrics {
            PrometheusFloat.appendOpenMetrics(value, to: &number)
        } else {
            PrometheusFloat.append(value, to: &number)
        }
        number.withUnsafeBufferPointer { append($0) }
    }

    /// The letter written after a backslash for `byte`, or nil when it goes out as it is:
    /// `\\` and `\n`, and `\"` where quotes are escaped.
    private static func escape(_ byte: UInt8, quotes: Bool) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\\"): UInt8(ascii: "\\")
        case UInt8(ascii: "\n"): UInt8(ascii: "n")
        case UInt8(ascii: "\""): quotes ? UInt8(ascii: "\"") : nil
        default: nil
        }
    }
}
