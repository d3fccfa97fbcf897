#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import LookoutSupport
import MetricModel
import Synchronization

// Textfile reads every `*.prom` file (Prometheus text format 0.0.4) in the configured directories —
// each entry may be a glob, as node_exporter 1.5.0's `--collector.textfile.directory` — with the
// semantics of node_exporter 1.5.0's `textfile.go` plus client_golang's gatherer.
//
// Families: everything read from the files, and
// node_textfile_mtime_seconds{file} (gauge, full path; only files parsed successfully, stat'ed after
// parsing so a broken file never looks fresh) and node_textfile_scrape_error (gauge, 1 when any
// directory or file could not be read or parsed, or carried client-side timestamps).
//
// Merging, as node_exporter and client_golang do it: a family without HELP gets "Metric read from
// <every file naming it, joined by ", ">"; within one file's family, labels missing from a series
// are added as ""; across files, the first file's HELP and TYPE win and series of a later file whose
// HELP or TYPE differ are dropped (logged, but — as in 1.5.0 — not counted as a scrape error);
// a series repeated with the same labels keeps its first value. Series come out with labels sorted
// by name and sorted by label values.

/// node_exporter's `textfile` collector.
///
/// Errors of the last scrape are one line each ("<path>: line N: reason") in ``lastErrors``, are
/// logged at error level through the logger given to `init`, and are counted as
/// `lookout_component_errors_total{component="collector.textfile",error_type="bad_file"}`.
struct TextfileCollector: MetricCollector {
    /// The collector name, `textfile`.
    package let name = "textfile"
    /// The directories (or glob patterns of directories) read, in order.
    package let directories: [String]
    private let logger: Logger
    private let errors = ErrorList()
    private let componentErrors: ComponentErrors

    /// Creates the collector over `directories`; each is expanded as a glob first and used as given
    /// when that matches nothing. File problems are logged and counted in `componentErrors`.
    package init(
        directories: [String], logger: Logger = Logger(label: "lookout.collector.textfile"),
        componentErrors: ComponentErrors = ComponentErrors()
    ) {
        self.directories = directories
        self.logger = logger
        self.componentErrors = componentErrors
    }

    /// The one-line errors of the most recent `collect()`, e.g.
    /// `/var/lib/textfile/x.prom: line 3: expected float as value, got "abc"`.
    var lastErrors: [String] { errors.lines.withLock { $0 } }

    /// Reads and merges the files. Never throws: file problems become node_textfile_scrape_error 1.
    package func collect() throws -> [MetricFamily] {
        var read = TextfileRead()
        for entry in directories where !entry.isEmpty {
            // Nothing matching is the pattern itself, so that its absence is reported (Go's
            // `filepath.Glob` fallback in node_exporter).
            let matches = Glob.paths(matching: entry)
            for directory in matches.isEmpty ? [entry] : matches {
                read.readDirectory(directory)
            }
        }
        let families = read.families()
        for message in read.errors {
            componentErrors.emit(.collector("textfile"), .badFile, "textfile collector", metadata: ["error": "\(message)"], to: logger)
        }
        errors.lines.withLock { $0 = read.errors }
        return families
    }
}

/// One scrape's worth of files.
struct TextfileRead {
    /// Every problem, one line each, for the log and ``TextfileCollector/lastErrors``.
    private(set) var errors: [String] = []
    /// Whether a directory or file failed; series dropped while merging do not count, as in 1.5.0.
    private(set) var failed = false
    private var parsed: [(family: MetricFamily, hasHelp: Bool)] = []
    private var filesByName: [String: [String]] = [:]
    private var mtimes: [(file: String, seconds: Double)] = []

    mutating func readDirectory(_ directory: String) {
        let names: [String]
        do {
            names = try SourceFile.list(directory)
        } catch {
            fail("failed to read textfile collector directory: \(error)")
            return
        }
        for name in names where name.hasSuffix(".prom") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            readFile(path)
        }
    }

    /// Reads, parses and then fstat's one file through the same descriptor.
    mutating func readFile(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            fail("\(path): cannot open: \(TextFile.errnoText(errno))")
            return
        }
        defer { close(descriptor) }
        let text: String
        do {
            text = try TextFile.readToEnd(descriptor, path: path, fromStart: false)
        } catch {
            fail("\(path): cannot read: \(error.reason)")
            return
        }
        let document: ExpositionDocument
        do {
            document = try ExpositionParser.parseDocument(text)
        } catch {
            fail("\(path): \(error)")
            return
        }
        if let line = document.timestampedLines.first {
            fail("\(path): line \(line): unsupported client-side timestamp, skipping entire file")
            return
        }
        // client_golang refuses label names starting with "__" and node_exporter 1.5.0 panics on
        // them; here the file is skipped like any other bad file.
        for family in document.families {
            if let label = family.samples.lazy.flatMap(\.labels).first(where: { $0.name.hasPrefix("__") }) {
                fail("\(path): metric \(family.name): label name \"\(label.name)\" is reserved")
                return
            }
        }
        for (family, hasHelp) in zip(document.families, document.hasHelp) {
            filesByName[family.name, default: []].append(path)
            parsed.append((family, hasHelp))
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            // As in node_exporter: the metrics stay, the file gets no mtime, the scrape is in error.
            fail("\(path): cannot stat: \(TextFile.errnoText(errno))")
            return
        }
        mtimes.append((path, Double(status.st_mtim.tv_sec)))
    }

    private mutating func fail(_ message: String) {
        failed = true
        errors.append(message)
    }

    mutating func families() -> [MetricFamily] {
        var merged: [String: MergedFamily] = [:]
        var order: [String] = []
        for (family, hasHelp) in parsed {
            var family = family
            if !hasHelp {
                family.help = "Metric read from " + (filesByName[family.name] ?? []).joined(separator: ", ")
            }
            if let existing = merged[family.name] {
                if existing.family.help != family.help {
                    errors.append(
                        "collected metric \(family.name) has help \"\(family.help)\" but should have \"\(existing.family.help)\"; dropped")
                    continue
                }
                if existing.family.type != family.type {
                    errors.append(
                        "collected metric \(family.name) has type \(family.type.rawValue) but should have \(existing.family.type.rawValue); dropped")
                    continue
                }
            } else {
                order.append(family.name)
                merged[family.name] = MergedFamily(
                    family: MetricFamily(name: family.name, help: family.help, type: family.type))
            }
            for series in TextfileRead.uniformSeries(family) {
                guard merged[family.name]!.seen.insert(series.labels).inserted else {
                    errors.append("collected metric \(family.name)\(labelText(series.labels)) was collected before; dropped")
                    continue
                }
                merged[family.name]!.series.append(series)
            }
        }

        var result: [MetricFamily] = order.compactMap { name in
            guard var entry = merged[name] else { return nil }
            entry.series.sort { $0.labels.precedesInExposition($1.labels) }
            entry.family.samples = entry.series.flatMap(\.samples)
            return entry.family
        }
        if !mtimes.isEmpty {
            var family = MetricFamily(
                name: "node_textfile_mtime_seconds", help: "Unixtime mtime of textfiles successfully read.", type: .gauge)
            family.samples = mtimes
                .sorted { $0.file.utf8.lexicographicallyPrecedes($1.file.utf8) }
                .map { Sample(labels: [Label("file", $0.file)], value: $0.seconds) }
            result.append(family)
        }
        result.append(.single(
            "node_textfile_scrape_error", help: "1 if there was an error opening or reading a file, 0 otherwise",
            value: failed ? 1 : 0))
        return result
    }

    private struct MergedFamily {
        var family: MetricFamily
        var series: [Series] = []
        var seen = Set<[Label]>()
    }

    /// One metric in client_golang's sense: a single sample, or a histogram's or summary's lines.
    struct Series {
        /// The series' own labels (without `le`/`quantile`), sorted by name.
        var labels: [Label]
        var samples: [Sample]
    }

    /// The family's series with node_exporter's `convertMetricFamily` applied: every series gets
    /// every label name used in the family ("" when missing), labels sorted by name, and histogram
    /// counts truncated to integers as the Go parser stores them (`uint64`).
    static func uniformSeries(_ family: MetricFamily) -> [Series] {
        let grouped = groupSeries(family)
        var allNames: [String] = []
        for series in grouped {
            for label in series.labels where !allNames.contains(label.name) { allNames.append(label.name) }
        }
        return grouped.map { series in
            var labels = series.labels
            for name in allNames where !labels.contains(where: { $0.name == name }) { labels.append(Label(name, "")) }
            labels = labels.sortedByName()
            let samples = series.samples.map { sample -> Sample in
                var sample = sample
                // The parser puts a bucket's `le` or a quantile's `quantile` last; it stays last,
                // as the Go text writer appends it after the sorted labels.
                let hasBound = family.type == .histogram && sample.suffix == "_bucket"
                    || family.type == .summary && sample.suffix.isEmpty
                sample.labels = labels + (hasBound ? [sample.labels.last!] : [])
                if family.type == .histogram && sample.suffix != "_sum" || family.type == .summary && sample.suffix == "_count" {
                    sample.value = truncatedCount(sample.value)
                }
                return sample
            }
            return Series(labels: labels, samples: samples)
        }
    }

    /// Splits a parsed family into series: each sample on its own for counters, gauges and
    /// untyped; for histograms and summaries, the run of lines ending in `_count` (the parser's
    /// layout).
    private static func groupSeries(_ family: MetricFamily) -> [Series] {
        switch family.type {
        case .counter, .gauge, .untyped:
            return family.samples.map { Series(labels: $0.labels, samples: [$0]) }
        case .histogram, .summary:
            var result: [Series] = []
            var current: [Sample] = []
            for sample in family.samples {
                current.append(sample)
                if sample.suffix == "_count" {
                    result.append(Series(labels: sample.labels, samples: current))
                    current = []
                }
            }
            return result
        }
    }

    /// Go's `uint64(value)` on amd64, which the Go parser applies to bucket and sample counts:
    /// truncation toward zero, negative values wrapping around, and 2^63 for NaN, infinities and
    /// anything out of range (the CVTTSD2SQ "integer indefinite" result).
    static func truncatedCount(_ value: Double) -> Double {
        let indefinite: UInt64 = 1 << 63
        if value.isNaN { return Double(indefinite) }
        if value < 0x1p63 {
            return value >= -0x1p63 ? Double(UInt64(bitPattern: Int64(value))) : Double(indefinite)
        }
        let high = value - 0x1p63
        return high < 0x1p63 ? Double(UInt64(Int64(high)) | indefinite) : Double(indefinite)
    }
}

/// `{a="1",b="2"}` for log lines.
private func labelText(_ labels: [Label]) -> String {
    "{" + labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
}

/// The last scrape's error lines, shared by copies of the collector.
private final class ErrorList: Sendable {
    let lines = Mutex<[String]>([])
}

extension TextfileCollector {
    /// The `textfile` collector's entry in the catalog.
    package static let spec = HostCollectorSpec(
        name: "textfile", readsProcfs: false,
        options: [CollectorOption("directory", .texts, help: "Directory of *.prom files to merge in; repeatable.") { $0.textfileDirectories = $1.texts }]
    ) { settings, errors in
        TextfileCollector(directories: settings.textfileDirectories, componentErrors: errors)
    }
}
