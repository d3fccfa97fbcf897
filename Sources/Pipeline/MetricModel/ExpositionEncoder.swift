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
            bytes.append(contentsOf: family.name.utf8)
            bytes.append(UInt8(ascii: " "))
            appendEscaped(family.help, quotes: false, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(contentsOf: "# TYPE ".utf8)
        bytes.append(contentsOf: family.name.utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: family.type.rawValue.utf8)
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
        bytes.append(contentsOf: metadataName.utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: typeName.utf8)
        bytes.append(UInt8(ascii: "\n"))
        if !family.help.isEmpty {
            bytes.append(contentsOf: "# HELP ".utf8)
            bytes.append(contentsOf: metadataName.utf8)
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
        bytes.append(contentsOf: familyName.utf8)
        bytes.append(contentsOf: sample.suffix.utf8)
    }

    /// `{a="x",b="y"}`, or nothing for an empty set. With `reformatBounds`, `le` and `quantile`
    /// values are rewritten in OpenMetrics' canonical float form (`1` becomes `1.0`).
    private func appendLabels(_ labels: [Label], reformatBounds: Bool, to bytes: inout [UInt8]) {
        guard !labels.isEmpty else { return }
        bytes.append(UInt8(ascii: "{"))
        for (index, label) in labels.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: label.name.utf8)
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
        let needsEscaping = text.utf8.contains {
            $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") || (quotes && $0 == UInt8(ascii: "\""))
        }
        guard needsEscaping else {
            bytes.append(contentsOf: text.utf8)  // the common case: one copy, no per-byte branching
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: "\\n".utf8)
            case UInt8(ascii: "\"") where quotes: bytes.append(contentsOf: "\\\"".utf8)
            default: bytes.append(byte)
            }
        }
    }
}
