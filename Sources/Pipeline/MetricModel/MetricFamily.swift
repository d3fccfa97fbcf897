import LookoutSupport

/// The kind of a metric family, as the Prometheus text format names it.
package enum MetricType: String, Sendable, Equatable {
    /// A value that only goes up (or resets to zero on restart).
    case counter
    /// A value that can go up and down.
    case gauge
    /// Cumulative buckets plus `_sum` and `_count`.
    case histogram
    /// Quantiles plus `_sum` and `_count`.
    case summary
    /// A value whose type the producer did not state.
    case untyped
}

/// One label pair of a sample, e.g. `cpu="0"`.
package struct Label: Sendable, Equatable, Hashable {
    /// The label name; must match `[a-zA-Z_][a-zA-Z0-9_]*`.
    package var name: String
    /// The label value; any UTF-8 text, escaped by the encoder.
    package var value: String

    /// Creates a label pair.
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

extension Label {
    /// Whether `text` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    package static func isValidName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first.isASCIILetter || first == UInt8(ascii: "_") else { return false }
        return text.utf8.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == UInt8(ascii: "_") }
    }

    /// Whether `text` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    package static func isValidMetricName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first.isASCIILetter || first == UInt8(ascii: "_") || first == UInt8(ascii: ":") else { return false }
        return text.utf8.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") }
    }
}

private extension UInt8 {
    var isASCIILetter: Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) }
    var isASCIIDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }
}

extension Label: Comparable {
    /// Labels order by name, then value.
    package static func < (left: Label, right: Label) -> Bool { (left.name, left.value) < (right.name, right.value) }
}

/// One line of exposition: an optional name suffix (`_bucket`, `_sum`, `_count` for histograms and
/// summaries), a label set and a value.
package struct Sample: Sendable, Equatable {
    /// Appended to the family name for this line, e.g. `_bucket`; empty for plain samples.
    package var suffix: String
    /// The sample's labels, in the order they are written.
    package var labels: [Label]
    /// The sample's value.
    package var value: Double

    /// Creates a sample.
    package init(suffix: String = "", labels: [Label] = [], value: Double) {
        self.suffix = suffix
        self.labels = labels
        self.value = value
    }

    /// The value of the label called `name`, if the sample has one.
    package func label(_ name: String) -> String? {
        labels.first { $0.name == name }?.value
    }
}

/// A named group of samples sharing one HELP text and one TYPE, the unit of exposition.
package struct MetricFamily: Sendable, Equatable {
    /// The metric name as written on TYPE and sample lines, e.g. `node_cpu_seconds_total`.
    package var name: String
    /// One-line description; escaped by the encoder.
    package var help: String
    /// The metric type.
    package var type: MetricType
    /// Every sample of the family.
    package var samples: [Sample]

    /// Creates a family from its parts.
    package init(name: String, help: String, type: MetricType, samples: [Sample] = []) {
        self.name = name
        self.help = help
        self.type = type
        self.samples = samples
    }

    /// A family with one unlabelled sample, the shape of `node_load1` or `node_boot_time_seconds`.
    package static func single(
        _ name: String, help: String, type: MetricType = .gauge, value: Double
    ) -> MetricFamily {
        MetricFamily(name: name, help: help, type: type, samples: [Sample(value: value)])
    }

    /// A histogram family. `buckets` are `(upper bound, cumulative count)` pairs in increasing
    /// order; a `+Inf` bucket equal to `count` is added when missing, as the format requires.
    package static func histogram(
        _ name: String, help: String, labels: [Label] = [],
        buckets: [(upperBound: Double, count: UInt64)], sum: Double, count: UInt64
    ) -> MetricFamily {
        var family = MetricFamily(name: name, help: help, type: .histogram)
        family.appendHistogram(labels: labels, buckets: buckets, sum: sum, count: count)
        return family
    }

    /// Appends one labelled histogram series (buckets, `_sum`, `_count`) to this family.
    package mutating func appendHistogram(
        labels: [Label], buckets: [(upperBound: Double, count: UInt64)], sum: Double, count: UInt64
    ) {
        precondition(type == .histogram, "appendHistogram on a \(type) family")
        var sawInfinity = false
        for bucket in buckets {
            if bucket.upperBound == .infinity { sawInfinity = true }
            let le = Label("le", PrometheusFloat.format(bucket.upperBound))
            samples.append(Sample(suffix: "_bucket", labels: labels + [le], value: Double(bucket.count)))
        }
        if !sawInfinity {
            samples.append(Sample(suffix: "_bucket", labels: labels + [Label("le", "+Inf")], value: Double(count)))
        }
        samples.append(Sample(suffix: "_sum", labels: labels, value: sum))
        samples.append(Sample(suffix: "_count", labels: labels, value: Double(count)))
    }
}

extension JSONObjectWriter {
    /// An object member of label names to values: `"labels": {"job": "node"}`.
    package mutating func labels(_ name: String, _ labels: [Label]) {
        object(name) { inner in
            for label in labels { inner.string(label.name, label.value) }
        }
    }
}
