import Synchronization
import MetricModel

/// The counters of one scrape that the summary turns into rates and increases: host CPU time,
/// each microVM's CPU time, and each unit's journal entries of priority err or worse.
package struct CounterReading: Sendable {
    /// When the scrape ended.
    package var at: ContinuousClock.Instant
    /// All CPUs' time (`node_cpu_seconds_total`); nil when the cpu collector is off.
    package var hostCPU: HostCPUTime?
    /// Each microVM's CPU time, user + system (`microvm_cpu_usage_seconds_total`); nil when the
    /// microvm collector has no data, and without the VMs that have no cgroup.
    package var microVMCPU: [String: Double]?
    /// Each unit's journal entries of priority 0–3 (`lookout_journal_entries_total`); nil when
    /// the journal is not read.
    var unitErrors: [String: Double]?

    /// CPU seconds summed over all CPUs.
    package struct HostCPUTime: Sendable, Equatable {
        /// Every mode.
        package var total: Double
        /// Every mode but idle, iowait and steal: what node-mixin counts as utilisation.
        package var busy: Double
        /// How many CPUs.
        package var cpus: Int

        /// Creates a reading.
        package init(total: Double, busy: Double, cpus: Int) {
            self.total = total
            self.busy = busy
            self.cpus = cpus
        }
    }

    /// A reading made of its parts.
    package init(at: ContinuousClock.Instant, hostCPU: HostCPUTime? = nil, microVMCPU: [String: Double]? = nil,
                unitErrors: [String: Double]? = nil) {
        self.at = at
        self.hostCPU = hostCPU
        self.microVMCPU = microVMCPU
        self.unitErrors = unitErrors
    }

    /// The counters in `families`, a scrape that ended `at`.
    package init(_ families: [MetricFamily], at: ContinuousClock.Instant) {
        self.at = at
        var cpuFamily: MetricFamily?, microVMFamily: MetricFamily?, journalFamily: MetricFamily?
        var hasMicroVMs = false, readsJournal = false
        for family in families {
            switch family.name {
            case "node_cpu_seconds_total": cpuFamily = family
            case "microvm_cpu_usage_seconds_total": microVMFamily = family
            case "microvm_info": hasMicroVMs = true
            case "lookout_journal_entries_total": journalFamily = family
            // Always present while the journal is read, even before its first entry.
            case "lookout_journal_lag_seconds": readsJournal = true
            default: break
            }
        }
        if let cpuFamily {
            var time = HostCPUTime(total: 0, busy: 0, cpus: 0)
            var cpus = Set<String>()
            for sample in cpuFamily.samples {
                time.total += sample.value
                if !["idle", "iowait", "steal"].contains(sample.label("mode") ?? "") { time.busy += sample.value }
                if let cpu = sample.label("cpu") { cpus.insert(cpu) }
            }
            time.cpus = cpus.count
            hostCPU = time
        }
        if hasMicroVMs {
            var seconds: [String: Double] = [:]
            for sample in microVMFamily?.samples ?? [] {
                if let vm = sample.label("vm") { seconds[vm, default: 0] += sample.value }
            }
            microVMCPU = seconds
        }
        if readsJournal {
            var errors: [String: Double] = [:]
            for sample in journalFamily?.samples ?? [] {
                // PRIORITY 0–3: emerg, alert, crit, err (syslog(3)); "" is an entry without one.
                guard let priority = sample.label("priority").flatMap(Int.init), priority <= 3 else { continue }
                errors[sample.label("unit") ?? "", default: 0] += sample.value
            }
            unitErrors = errors
        }
    }
}

/// An earlier and a later reading of the same counters: what a rate or an increase covers.
package struct ReadingInterval: Sendable {
    /// The earlier reading.
    package var start: CounterReading
    /// The later reading.
    package var end: CounterReading

    /// The interval from `start` to `end`.
    package init(start: CounterReading, end: CounterReading) {
        self.start = start
        self.end = end
    }

    /// Its length in seconds.
    package var seconds: Double { (end.at - start.at).seconds }
}

/// Past readings of the counters the summary needs, fed by every scrape (Prometheus' and the
/// summary's own), so that a summary can say how things went lately rather than since the
/// daemon started:
///
/// - rates (CPU %) are taken over the newest earlier reading between ``rateWindow`` bounds
///   (1 s to 60 s old); with none, the summary endpoint reads twice, 250 ms apart;
/// - journal errors are counted over about ``errorWindow`` (15 minutes): one reading is kept a
///   minute, the oldest one still needed as the window's start and the daemon's start (all
///   zero) until readings are that old, so the window is shorter for the first 15 minutes.
///
/// Memory stays bounded: at most ``maximumRateReadings`` rate readings and about sixteen
/// journal readings of at most `--journal.max-units` + 2 units each.
package final class SummaryHistory: Sendable {
    /// How old a reading may be, and must be, to start a rate's interval.
    static let rateWindow: ClosedRange<Duration> = .seconds(1) ... .seconds(60)
    /// How far back journal errors are counted.
    static let errorWindow: Duration = .seconds(15 * 60)
    /// The spacing of the journal readings kept.
    static let errorSpacing: Duration = .seconds(60)
    /// The most rate readings kept: beyond that, the oldest go first (clients asking many times a
    /// second then get a fresh 250 ms interval instead).
    static let maximumRateReadings = 32

    private struct State {
        var rates: [CounterReading] = []
        var errors: [CounterReading]
    }

    private let state: Mutex<State>

    /// An empty history of a daemon started `startedAt`: until the journal's first reading is
    /// old enough, its errors are counted from then, when every counter was zero.
    package init(startedAt: ContinuousClock.Instant = .now) {
        state = Mutex(State(errors: [CounterReading(at: startedAt, unitErrors: [:])]))
    }

    /// Keeps what `reading` has that a later summary may need.
    package func record(_ reading: CounterReading) {
        state.withLock { state in
            if reading.hostCPU != nil || reading.microVMCPU != nil {
                // Scrapes may finish out of order; keep the readings sorted by time.
                let index = state.rates.lastIndex { $0.at <= reading.at }.map { $0 + 1 } ?? 0
                state.rates.insert(reading, at: index)
                let oldest = state.rates.last!.at - Self.rateWindow.upperBound
                state.rates.removeAll { $0.at < oldest }
                if state.rates.count > Self.maximumRateReadings { state.rates.removeFirst(state.rates.count - Self.maximumRateReadings) }
            }
            if reading.unitErrors != nil, let last = state.errors.last, reading.at - last.at >= Self.errorSpacing {
                state.errors.append(reading)
                // Drop the oldest while the next one is old enough to start the window.
                while state.errors.count >= 2, reading.at - state.errors[1].at >= Self.errorWindow {
                    state.errors.removeFirst()
                }
            }
        }
    }

    /// The interval for `current`'s rates: from the newest reading 1 to 60 s older that has
    /// every counter `current` has; nil when there is none.
    package func rateInterval(to current: CounterReading) -> ReadingInterval? {
        state.withLock { state in
            state.rates.last { reading in
                let age = current.at - reading.at
                return Self.rateWindow.contains(age)
                    && (current.hostCPU == nil || reading.hostCPU != nil)
                    && (current.microVMCPU == nil || reading.microVMCPU != nil)
            }
        }.map { ReadingInterval(start: $0, end: current) }
    }

    /// The interval for `current`'s journal errors: from the oldest journal reading kept (about
    /// 15 minutes back, or the daemon's start); nil when `current` has no journal counters.
    package func errorInterval(to current: CounterReading) -> ReadingInterval? {
        guard current.unitErrors != nil else { return nil }
        return state.withLock { state in
            state.errors.first { $0.at <= current.at }.map { ReadingInterval(start: $0, end: current) }
        }
    }
}
