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
    package func encode(_ families: [MetricFamily]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(families.reduce(0) { $0 + 96 + $1.samples.count * 64 })
        for family in families where !family.samples.isEmpty {
            switch format {
            case .text: appendText(family, to: &bytes)
            case .openMetrics: appendOpenMetrics(family, to: &bytes)
            }
        }
        if format == .openMetrics { bytes.append(contentsOf: "# EOF\n".utf8) }
        return bytes
    }

    private func appendText(_ family: MetricFamily, to bytes: inout [UInt8]) {
        if !family.help.isEmpty {
            bytes.append(contentsOf: "# HELP ".utf8)
            Self.append(family.name, to: &bytes)
            bytes.append(UInt8(ascii: " "))
            appendEscaped(family.help, quotes: false, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(contentsOf: "# TYPE ".utf8)
        Self.append(family.name, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        Self.append(family.type.rawValue, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        for sample in family.samples {
            appendSampleName(family.name, sample, to: &bytes)
            appendLabels(sample.labels, reformatBounds: false, to: &bytes)
            bytes.append(UInt8(ascii: " "))
            PrometheusFloat.append(sample.value, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    private func appendOpenMetrics(_ family: MetricFamily, to bytes: inout [UInt8]) {
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
        bytes.append(contentsOf: "# TYPE ".utf8)
        Self.append(metadataName, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        Self.append(typeName, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
        if !family.help.isEmpty {
            bytes.append(contentsOf: "# HELP ".utf8)
            Self.append(metadataName, to: &bytes)
            bytes.append(UInt8(ascii: " "))
            appendEscaped(family.help, quotes: true, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        let reformatBounds = family.type == .histogram || family.type == .summary
        for sample in family.samples {
            appendSampleName(family.name, sample, to: &bytes)
            appendLabels(sample.labels, reformatBounds: reformatBounds, to: &bytes)
            bytes.append(UInt8(ascii: " "))
            PrometheusFloat.appendOpenMetrics(sample.value, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    private func appendSampleName(_ familyName: String, _ sample: Sample, to bytes: inout [UInt8]) {
        Self.append(familyName, to: &bytes)
        Self.append(sample.suffix, to: &bytes)
    }

    /// `{a="x",b="y"}`, or nothing for an empty set. With `reformatBounds`, `le` and `quantile`
    /// values are rewritten in OpenMetrics' canonical float form (`1` becomes `1.0`).
    private func appendLabels(_ labels: [Label], reformatBounds: Bool, to bytes: inout [UInt8]) {
        guard !labels.isEmpty else { return }
        bytes.append(UInt8(ascii: "{"))
        for (index, label) in labels.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.append(label.name, to: &bytes)
            bytes.append(contentsOf: "=\"".utf8)
            if reformatBounds, label.name == "le" || label.name == "quantile",
               let bound = Double(label.value == "+Inf" ? "inf" : label.value) {
                PrometheusFloat.appendOpenMetrics(bound, to: &bytes)
            } else {
                appendEscaped(label.value, quotes: true, to: &bytes)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private func appendEscaped(_ text: String, quotes: Bool, to bytes: inout [UInt8]) {
        // Native strings lend their bytes: runs without escapes are copied whole.
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { source in
            var runStart = 0
            for index in source.indices {
                guard let escape = Self.escape(source[index], quotes: quotes) else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index]))
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(escape)
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...]))
        }
        if copied != nil { return }
        for byte in text.utf8 {
            if let escape = Self.escape(byte, quotes: quotes) {
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(escape)
            } else {
                bytes.append(byte)
            }
        }
    }

    /// Appends the UTF-8 of `text`: one copy of a native string's bytes (appending a `UTF8View`
    /// goes byte by byte, and names and values are most of a scrape's body).
    private static func append(_ text: String, to bytes: inout [UInt8]) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0) }
        if copied == nil { bytes.append(contentsOf: text.utf8) }
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
