import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Runs the enabled collectors concurrently for one scrape and merges what they return.
///
/// A dispatch thread takes collectors from a shared list until it is empty, under one deadline
/// for the scrape; when the round is still going after ``helpAfter`` (a slow or hung collector),
/// more threads join it (`parallelism` in all, about one per core). A collector that throws or misses the
/// deadline gets `lookout_scrape_collector_success{collector}` 0 and the scrape goes on with
/// everything else (node_exporter's `ContinueOnError`); one that hangs holds only the thread it
/// runs on, the others finish the list. Families are merged by name and sorted.
package final class CollectorRegistry: Sendable {
    /// The collectors run on each scrape, in byte order of their names (the order they are reported in).
    package let collectors: [any MetricCollector]
    /// Runtime error counts; collector failures are recorded here under component `collector.NAME`.
    package let errors: ComponentErrors
    private let logger: Logger
    private let constantFamilies: [MetricFamily]
    private let exporterFamilies: @Sendable () -> [MetricFamily]
    private let failing = Mutex<Set<String>>([])
    private let lastDurations = Mutex<[String: Duration]>([:])
    private let running = RunningCollectors()

    /// The collectors whose latest run failed (an error, or the deadline passed), by name. One
    /// without data to report (a missing kernel feature, no microVMs) is not failing.
    package var failingCollectors: Set<String> { failing.withLock { $0 } }

    /// How many threads run one scrape's collectors at once, at most.
    package let parallelism: Int

    /// How long one thread runs a scrape's collectors alone before the others join it.
    package static let helpAfter: Duration = .milliseconds(1)

    /// Creates a registry over `collectors`, run `parallelism` at a time (at least two, so that
    /// one hung collector cannot hold up the rest). `constantFamilies` (build info) are added to
    /// every scrape as they are, and `exporterFamilies` (the exporter's own `process_*`) as they
    /// are at that moment, whatever collectors a scrape selects.
    package init(
        collectors: [any MetricCollector], constantFamilies: [MetricFamily] = [],
        exporterFamilies: @escaping @Sendable () -> [MetricFamily] = { [] }, parallelism: Int = 2,
        errors: ComponentErrors = ComponentErrors(), logger: Logger
    ) {
        precondition(Set(collectors.map(\.name)).count == collectors.count, "collector names must be unique")
        self.collectors = collectors.sorted { precedesInByteOrder($0.name, $1.name) }
        self.constantFamilies = constantFamilies
        self.exporterFamilies = exporterFamilies
        self.parallelism = max(2, parallelism)
        self.errors = errors
        self.logger = logger
    }

    /// Runs every collector once (or only those named in `selection`), waiting at most `timeout`,
    /// and returns the merged, sorted families plus the per-collector duration and success gauges.
    package func scrape(timeout: Duration, selection: Set<String>? = nil) async -> [MetricFamily] {
        let selected = selection.map { names in self.collectors.filter { names.contains($0.name) } } ?? self.collectors
        // Longest first (by the previous scrape's durations), so that the workers finish together
        // instead of one of them starting a slow collector last.
        let lastDurations = self.lastDurations.withLock { $0 }
        // A collector still running past a deadline from an earlier scrape (hung in a read) is not
        // started again: it would only pin one more thread. It counts as timed out until it returns.
        let hung = running.names(runningLongerThan: timeout)
        let runOrder = selected.indices.filter { !hung.contains(selected[$0].name) }
            .sorted { (lastDurations[selected[$0].name] ?? .zero) > (lastDurations[selected[$1].name] ?? .zero) }
        let runOutcomes = await ScrapeRound.run(
            runOrder.map { selected[$0] }, parallelism: parallelism, timeout: timeout, running: running)
        var outcomes = [CollectorOutcome](repeating: .timedOut, count: selected.count)
        for (index, outcome) in zip(runOrder, runOutcomes) { outcomes[index] = outcome }
        self.lastDurations.withLock { durations in
            for index in runOrder { durations[selected[index].name] = outcomes[index].elapsed ?? timeout }
        }
        var merged = FamilyMerger(logger: logger, errors: errors)
        var durations = MetricFamily(
            name: "lookout_scrape_collector_duration_seconds",
            help: "lookout: Duration of a collector scrape.", type: .gauge)
        var successes = MetricFamily(
            name: "lookout_scrape_collector_success",
            help: "lookout: Whether a collector succeeded.", type: .gauge)

        for (collector, outcome) in zip(selected, outcomes) {
            let label = [Label("collector", collector.name)]
            var succeeded = false
            switch outcome {
            case .finished(.success(let families), let elapsed):
                merged.add(families, from: collector.name)
                durations.samples.append(Sample(labels: label, value: elapsed.seconds))
                succeeded = true
            case .finished(.failure(let error), let elapsed):
                durations.samples.append(Sample(labels: label, value: elapsed.seconds))
                report(collector.name, error: error)
            case .timedOut:
                durations.samples.append(Sample(labels: label, value: timeout.seconds))
                report(collector.name, error: nil)
            }
            successes.samples.append(Sample(labels: label, value: succeeded ? 1 : 0))
            if succeeded { markRecovered(collector.name) }
        }
        merged.add(constantFamilies + exporterFamilies() + [durations, successes, errors.family()], from: "registry")
        return merged.sortedFamilies()
    }

    /// Logs a failure at error level when a collector starts failing and at debug level while it
    /// keeps failing; "no data" (a missing kernel feature) is always debug, as in node_exporter.
    private func report(_ name: String, error: (any Error)?) {
        let errorType: ErrorType
        let message: String
        switch error {
        case nil:
            errorType = .timeout
            message = "collector did not finish before the scrape deadline"
        case let error as CollectorError:
            errorType = error.errorType
            message = error.description
        case let error?:
            errorType = .other
            message = "\(error)"
        }
        if errorType == .noData {
            logger.debug("collector has no data", metadata: ["collector": "\(name)", "reason": "\(message)"])
            return
        }
        errors.record(.collector(name), errorType)
        let isNew = failing.withLock { $0.insert(name).inserted }
        logger.log(
            level: isNew ? .error : .debug, "collector failed",
            metadata: ["collector": "\(name)", "error_type": "\(errorType)", "error": "\(message)"])
    }

    private func markRecovered(_ name: String) {
        if failing.withLock({ $0.remove(name) != nil }) {
            logger.info("collector recovered", metadata: ["collector": "\(name)"])
        }
    }
}

/// Merges families from several collectors, as client_golang's gatherer does: a family of the
/// same name and type from a later source adds only the series the first did not have (a series
/// seen twice is counted as `duplicate_series`); one with another type is dropped and counted as
/// `type_conflict`. The first source's HELP text wins.
///
/// Families are gathered as they come and put in order once, by name and then by arrival (a
/// stable sort), so merging is a walk over neighbours: the names of different collectors almost
/// never meet, and hashing every family name of every scrape into a dictionary cost more than
/// the sort (bench/RESULTS.md).
struct FamilyMerger {
    private var gathered: [(family: MetricFamily, source: String)] = []
    private let logger: Logger
    private let errors: ComponentErrors

    /// A merger that reports dropped series and families to `logger` and `errors`.
    init(logger: Logger, errors: ComponentErrors) {
        self.logger = logger
        self.errors = errors
    }

    /// Takes `families` of `source`, after those of earlier calls.
    mutating func add(_ families: [MetricFamily], from source: String) {
        for family in families { gathered.append((family, source)) }
    }

    /// The merged families in byte order of their names, Go's exposition order, without empty ones.
    func sortedFamilies() -> [MetricFamily] {
        // Names with their positions, sorted as values: the comparisons borrow them instead of
        // copying families out of `gathered`.
        var keyed = gathered.enumerated().map { (name: $0.element.family.name, index: $0.offset) }
        keyed.sort { left, right in
            let order = byteOrder(left.name, right.name)
            return order != 0 ? order < 0 : left.index < right.index
        }
        // Walk the names in order: a family whose name repeats the one before is merged into it.
        var merged: [MetricFamily] = []
        merged.reserveCapacity(keyed.count)
        var seen: Set<SeriesKey>?  // the merged family's series, made when a second family of its name comes
        for (position, key) in keyed.enumerated() {
            guard position > 0, keyed[position - 1].name == key.name else {
                seen = nil
                merged.append(gathered[key.index].family)
                continue
            }
            if seen == nil { seen = Set(merged[merged.count - 1].samples.map(SeriesKey.init)) }
            merge(gathered[key.index], into: &merged[merged.count - 1], seen: &seen!)
        }
        return merged.filter { !$0.samples.isEmpty }
    }

    /// Adds the series of a later family of the same name to `family`, or drops it when its type differs.
    private func merge(_ later: (family: MetricFamily, source: String), into family: inout MetricFamily, seen: inout Set<SeriesKey>) {
        guard later.family.type == family.type else {
            errors.record(.collector(later.source), .typeConflict)
            logger.warning(
                "dropping family with conflicting type",
                metadata: ["family": "\(later.family.name)", "collector": "\(later.source)",
                           "type": "\(later.family.type.rawValue)", "kept_type": "\(family.type.rawValue)"])
            return
        }
        var duplicates = 0
        for sample in later.family.samples {
            if seen.insert(SeriesKey(sample)).inserted {
                family.samples.append(sample)
            } else {
                duplicates += 1
            }
        }
        if duplicates > 0 {
            errors.record(.collector(later.source), .duplicateSeries)
            logger.warning(
                "dropping series already collected",
                metadata: ["family": "\(later.family.name)", "collector": "\(later.source)", "series": "\(duplicates)"])
        }
    }
}

/// Whether `left` sorts before `right` comparing their UTF-8 bytes, the order Go's `sort.Strings`
/// gives; much cheaper than Swift's Unicode-aware `<`, and the same for metric names.
func precedesInByteOrder(_ left: String, _ right: String) -> Bool {
    byteOrder(left, right) < 0
}

/// Negative, zero or positive as `left` sorts before, with or after `right` comparing their UTF-8
/// bytes. Native strings lend their bytes without a copy, and memcmp compares them.
func byteOrder(_ left: String, _ right: String) -> Int {
    let compared = left.utf8.withContiguousStorageIfAvailable { leftBytes in
        right.utf8.withContiguousStorageIfAvailable { rightBytes -> Int in
            let common = min(leftBytes.count, rightBytes.count)
            let order = common == 0 ? 0 : memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, common)
            return order != 0 ? Int(order) : leftBytes.count - rightBytes.count
        }
    }
    if let order = compared ?? nil { return order }
    if left.utf8.elementsEqual(right.utf8) { return 0 }
    return left.utf8.lexicographicallyPrecedes(right.utf8) ? -1 : 1
}

/// The `collect()` calls executing right now, across concurrent scrapes, by collector name and
/// start time; a call older than a scrape deadline is a hung one.
final class RunningCollectors: Sendable {
    private let starts = Mutex<[String: [ContinuousClock.Instant]]>([:])

    func started(_ name: String, at instant: ContinuousClock.Instant) {
        starts.withLock { $0[name, default: []].append(instant) }
    }

    func finished(_ name: String, startedAt instant: ContinuousClock.Instant) {
        starts.withLock { starts in
            guard let position = starts[name]?.firstIndex(of: instant) else { return }
            starts[name]!.remove(at: position)
            if starts[name]!.isEmpty { starts[name] = nil }
        }
    }

    /// Collectors with a call that started more than `duration` ago and has not returned.
    func names(runningLongerThan duration: Duration) -> Set<String> {
        let cutoff = ContinuousClock.now - duration
        return starts.withLock { starts in
            Set(starts.compactMap { name, instants in instants.contains { $0 < cutoff } ? name : nil })
        }
    }
}

/// What identifies a series within a family: its name suffix and label pairs.
private struct SeriesKey: Hashable {
    var suffix: String
    var labels: [Label]

    init(_ sample: Sample) {
        suffix = sample.suffix
        labels = sample.labels
    }
}

/// What became of one collector in one scrape.
enum CollectorOutcome: Sendable {
    case finished(Result<[MetricFamily], any Error>, elapsed: Duration)
    case timedOut

    /// How long the collector ran, when it finished.
    var elapsed: Duration? {
        if case .finished(_, let elapsed) = self { elapsed } else { nil }
    }
}

/// One scrape's worth of collector runs: one dispatch thread takes collectors from the list in
/// turn; if the round is still open after ``CollectorRegistry/helpAfter``, `parallelism − 1` more
/// join it, so a hung collector holds only its own thread and slow ones overlap. A host's
/// collectors usually finish in well under that time, and then one thread is the fastest way:
/// no wake-ups of other threads, no contention for the allocator between them (on this
/// project's 2-CPU machine two threads took 1.6 times as long as one, bench/RESULTS.md). One
/// timer of the ``ScrapeWatchdog`` fires first for the helpers, then at the deadline, and a
/// single continuation is resumed by whichever comes first — the last collector or the
/// deadline. Results that arrive after the deadline are discarded, and the timer is cancelled
/// as soon as the round completes so that nothing of a finished scrape stays alive.
private final class ScrapeRound: Sendable {
    private struct State {
        var outcomes: [CollectorOutcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[CollectorOutcome], Never>?
        /// The round's watchdog timer, cancelled when the round completes.
        var timer: ScrapeWatchdog.Timer?
    }

    private let state: Mutex<State>
    private let nextIndex = Atomic<Int>(0)
    /// Whether the helpers have been started (the timer's first firing).
    private let helped = Atomic<Bool>(false)

    private init(count: Int) {
        state = Mutex(State(outcomes: Array(repeating: nil, count: count), remaining: count))
    }

    static func run(
        _ collectors: [any MetricCollector], parallelism: Int, timeout: Duration, running: RunningCollectors
    ) async -> [CollectorOutcome] {
        guard !collectors.isEmpty else { return [] }
        let round = ScrapeRound(count: collectors.count)
        return await withCheckedContinuation { continuation in
            round.state.withLock { $0.continuation = continuation }
            let start = DispatchTime.now()
            let deadline = start + .nanoseconds(Int(min(timeout.seconds, 86_400) * 1e9))
            let helpAt = min(start + .nanoseconds(Int(CollectorRegistry.helpAfter.seconds * 1e9)), deadline)
            let helpers = min(parallelism, collectors.count) - 1
            // One timer: its first firing brings in the helpers and comes again at the deadline,
            // which completes the round. It runs on the watchdog's thread, which must not block:
            // helpers are sent to dispatch.
            let timer = ScrapeWatchdog.shared.arm(at: helpers > 0 ? helpAt : deadline) { [weak round] in
                guard let round, round.isOpen else { return nil }
                if helpers > 0, !round.helped.exchange(true, ordering: .acquiringAndReleasing) {
                    for _ in 0..<helpers {
                        DispatchQueue.global().async { round.work(through: collectors, running: running) }
                    }
                    return deadline
                }
                round.complete()
                return nil
            }
            round.state.withLock { $0.timer = timer }
            DispatchQueue.global().async { round.work(through: collectors, running: running) }
        }
    }

    /// Whether the scrape still waits for the round.
    private var isOpen: Bool { state.withLock { $0.continuation != nil } }

    /// One worker: runs the next collector nobody has taken until none are left or the round is over.
    private func work(through collectors: [any MetricCollector], running: RunningCollectors) {
        let clock = ContinuousClock()
        while true {
            let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < collectors.count, isOpen else { return }
            let name = collectors[index].name
            let start = clock.now
            running.started(name, at: start)
            let result = Result { try collectors[index].collect() }
            let elapsed = clock.now - start
            running.finished(name, startedAt: start)
            finish(index, .finished(result, elapsed: elapsed))
        }
    }

    private func finish(_ index: Int, _ outcome: CollectorOutcome) {
        let last = state.withLock { state -> Bool in
            guard state.continuation != nil else { return false }
            state.outcomes[index] = outcome
            state.remaining -= 1
            return state.remaining == 0
        }
        if last { complete() }
    }

    /// Resumes the scrape once, with `.timedOut` for every collector still running.
    private func complete() {
        let resumption: (CheckedContinuation<[CollectorOutcome], Never>, [CollectorOutcome], ScrapeWatchdog.Timer?)? = state.withLock { state in
            guard let continuation = state.continuation else { return nil }
            state.continuation = nil
            let outcomes = state.outcomes.map { $0 ?? .timedOut }
            state.outcomes = []
            return (continuation, outcomes, state.timer)
        }
        guard let (continuation, outcomes, timer) = resumption else { return }
        if let timer { ScrapeWatchdog.shared.cancel(timer) }
        continuation.resume(returning: outcomes)
    }
}
