import ArgumentParser
import Collectors
#if canImport(Glibc)
import Glibc
#endif
import Logging
import MetricModel
import Zlib

/// Where a scrape's time goes (run by bench/scrape.sh, built apart from `lookout`): the same host
/// collectors `lookout serve` runs, built from the same catalog and settings, timed in-process
/// stage by stage — each collector alone, the registry's round (every collector on its dispatch
/// threads, merged and sorted, with the exporter's own `process_*` families), the exposition
/// encoding and gzip. What an HTTP scrape costs beyond these is the request handling; the script
/// subtracts.
@main
struct ScrapeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrape-benchmark", abstract: "Time each stage of a scrape in-process (for bench/scrape.sh).")

    @Option(name: .customLong("collector"), help: "A collector to run (repeatable).")
    var collectors: [String] = []

    @Option(name: .customLong("collector.textfile.directory"), help: "The textfile collector's directory.")
    var textfileDirectories: [String] = []

    @Option(name: .customLong("path.procfs"), help: "procfs mountpoint.")
    var procfs = "/proc"

    @Option(name: .customLong("path.sysfs"), help: "sysfs mountpoint.")
    var sysfs = "/sys"

    @Option(name: .customLong("path.rootfs"), help: "rootfs mountpoint.")
    var rootfs = "/"

    @Option(name: .customLong("collector.microvm.state-dir"), help: "microvm.nix's state directory.")
    var microvmStateDirectory = "/var/lib/microvms"

    @Flag(name: .customLong("collector.microvm.netlink"), inversion: .prefixedNo,
          help: "Read the VMs' interface counters with one rtnetlink dump, not from sysfs.")
    var microvmNetlink = true

    @Option(help: "Timed runs of each stage.")
    var iterations = 1000

    func run() async throws {
        var settings = HostCollectorSettings()
        settings.paths = HostPaths(procfs: procfs, sysfs: sysfs, rootfs: rootfs)
        settings.textfileDirectories = textfileDirectories
        settings.microvmStateDirectory = microvmStateDirectory
        settings.microvmNetlink = microvmNetlink
        let errors = ComponentErrors()
        let built = try collectors.map { name -> any MetricCollector in
            guard let spec = HostCollectors.spec(named: name) else { throw ValidationError("no collector \(name)") }
            return try spec.make(settings, errors)
        }
        var logger = Logger(label: "lookout-benchmark")
        logger.logLevel = .critical

        // Each collector alone, one after another.
        for collector in built {
            print(Self.line("collector \(collector.name)", try Self.time(iterations) { _ = try collector.collect() }))
        }
        // All of them one after another on this thread, for comparison with the registry's round.
        print(Self.line("stage sequential", try Self.time(iterations) { for collector in built { _ = try collector.collect() } }))
        // The same after the thread slept a millisecond, as a scrape starts after the gap between
        // two requests: what the idle CPU lost of its caches (and, in a VM, the halted vCPU's
        // wake-up) shows as the difference to "stage sequential".
        print(Self.line("stage sequential_after_1ms_idle", try Self.time(iterations, after: { usleep(1_000) }) {
            for collector in built { _ = try collector.collect() }
        }))
        let registry = CollectorRegistry(
            collectors: built, exporterFamilies: { ProcessMetrics.families() }, parallelism: 2, errors: errors, logger: logger)
        var families: [MetricFamily] = []
        var roundTimes: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let start = clock.now
            families = await registry.scrape(timeout: .seconds(10))
            roundTimes.append((clock.now - start).microseconds)
        }
        print(Self.line("stage round", roundTimes))
        print(Self.line("stage process_metrics", try Self.time(iterations) { _ = ProcessMetrics.families() }))
        var body: [UInt8] = []
        print(Self.line("stage encode", try Self.time(iterations) { body = ExpositionEncoder(format: .text).encode(families) }))
        var compressed: [UInt8] = []
        print(Self.line("stage gzip", try Self.time(iterations) { compressed = Gzip.compress(body, level: Gzip.scrapeLevel) }))
        // zlib's default level, which client_golang's gzip writer uses, for comparison.
        var compressedAtDefault: [UInt8] = []
        print(Self.line("stage gzip_level_6", try Self.time(iterations) { compressedAtDefault = Gzip.compress(body, level: 6) }))
        print("gzip \(compressed.count) bytes at level \(Gzip.scrapeLevel), \(compressedAtDefault.count) bytes at level 6")
        print("body \(body.count) bytes, \(families.count) families, \(families.reduce(0) { $0 + $1.samples.count }) samples")
    }

    /// `iterations` timings of `work`, in microseconds, each run after `pause` (not timed).
    static func time(_ iterations: Int, after pause: () -> Void = {}, _ work: () throws -> Void) throws -> [Double] {
        let clock = ContinuousClock()
        return try (0..<iterations).map { _ in
            pause()
            let start = clock.now
            try work()
            return (clock.now - start).microseconds
        }
    }

    /// `NAME median_us p99_us`.
    static func line(_ name: String, _ microseconds: [Double]) -> String {
        let sorted = microseconds.sorted()
        let median = sorted[sorted.count / 2], p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        return "\(name) \(String(format: "%.1f", median)) \(String(format: "%.1f", p99))"
    }
}

extension Duration {
    /// The duration in microseconds.
    var microseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }
}

