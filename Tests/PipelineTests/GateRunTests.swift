import MetricModel
import PipelineEvents
import PromQL
import SeriesHistory
@testable import Gate
import Synchronization
import Testing

/// The gate's verdicts from recorded series and an injected clock: each test records points in
/// a SeriesStore, then measures at chosen times as `lookout gate` would every interval.
@Suite struct GateRunTests {
    /// Queries recorded series the way the daemon's /api/v1/query would.
    struct RecordedSeries: GateQuerier {
        let store: SeriesStore
        var unreachable = false

        func query(_ expression: String, at time: Int64) async throws(GateQueryError) -> PromQLResult {
            if unreachable { throw GateQueryError("connection refused") }
            do {
                return try PromQLQuery(try PromQLExpression.parse(expression)).evaluate(at: time, in: store)
            } catch {
                throw GateQueryError("\(error)")
            }
        }

        /// The recorded series stand for rules defining no alert of their own.
        func definedAlerts() async throws(GateQueryError) -> Set<String> { [] }
    }

    static let minute: Int64 = 60_000

    /// `name{job="web"}` with one value per minute from 0.
    static func store(_ series: [String: [Double?]]) -> SeriesStore {
        let store = SeriesStore()
        for (name, values) in series {
            for (minute, value) in values.enumerated() {
                guard let value else { continue }
                store.append(name: name, labels: [Label("job", "web")], timestamp: Int64(minute) * Self.minute, value: value)
            }
        }
        return store
    }

    static func errorRate(_ failure: String = "> 0.05", noData: GateCheck.NoData = .wait, failureLimit: Int = 0,
                          consecutive: Int? = nil, window: Int64 = 0, dryRun: Bool = false, name: String = "error_rate") -> GateCheck {
        GateCheck(name: name, query: .expression("errors"), failure: GateCheck.failure(parsing: failure)!, noData: noData,
                  failureLimit: failureLimit, consecutiveFailureLimit: consecutive, windowMilliseconds: window, dryRun: dryRun)
    }

    /// Measures once a minute from minute 1 until a verdict or the deadline.
    static func run(_ checks: [GateCheck], _ querier: RecordedSeries, deadlineMinutes: Int64 = 10) async -> GateRun {
        var run = GateRun(policy: GatePolicy(intervalMilliseconds: minute, checks: checks), start: minute, deadline: (1 + deadlineMinutes) * minute)
        var time = minute
        while await run.measure(at: time, using: querier) == nil { time += minute }
        return run
    }

    @Test func aFlappingMetricRollsBackOnlyAfterItsConsecutiveLimit() async {
        // Fails every other minute: tolerated with a consecutive limit of 1 and room in the
        // cumulative limit ...
        let flapping = RecordedSeries(store: Self.store(["errors": [0, 0.1, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0.1]]))
        let tolerant = await Self.run([Self.errorRate(failureLimit: 10, consecutive: 1, window: 4 * Self.minute)], flapping)
        #expect(tolerant.verdict == .promote)
        #expect(tolerant.checks[0].failures == 3 && tolerant.decidedAt == 6 * Self.minute)
        // ... but two failures in a row exceed it.
        let twice = RecordedSeries(store: Self.store(["errors": [0, 0.1, 0, 0.1, 0.2, 0, 0, 0, 0, 0]]))
        let strict = await Self.run([Self.errorRate(failureLimit: 10, consecutive: 1, window: 8 * Self.minute)], twice)
        #expect(strict.verdict == .rollback)
        #expect(strict.decidedAt == 4 * Self.minute)
        #expect(strict.checks[0].reason == #"2 failed measurements in a row (limit 1): errors{job="web"} = 0.2 (fails when > 0.05)"#)
        // Without limits, the first failure rolls back.
        let plain = await Self.run([Self.errorRate()], flapping)
        #expect(plain.verdict == .rollback && plain.decidedAt == Self.minute)
    }

    @Test func missingDataUnderEachPolicy() async {
        let none = RecordedSeries(store: Self.store(["other": [1, 1, 1]]))
        #expect(await Self.run([Self.errorRate(noData: .fail)], none).verdict == .rollback)
        #expect(await Self.run([Self.errorRate(noData: .pass)], none).verdict == .promote)
        let inconclusive = await Self.run([Self.errorRate(noData: .inconclusive)], none)
        #expect(inconclusive.verdict == .inconclusive && inconclusive.decidedAt == Self.minute)
        // Waiting lasts until the deadline: no data never means promote.
        let waited = await Self.run([Self.errorRate(noData: .wait)], none, deadlineMinutes: 3)
        #expect(waited.verdict == .inconclusive)
        #expect(waited.decidedAt == 4 * Self.minute)
        #expect(waited.checks[0].measurements.count == 4)
        #expect(waited.checks[0].reason.hasPrefix("deadline reached before it could pass"))
        // Data that arrives while waiting is measured: here it arrives at minute 3 and passes.
        let late = RecordedSeries(store: Self.store(["errors": [nil, nil, nil, 0.01, 0.01]]))
        let arrived = await Self.run([Self.errorRate(noData: .wait)], late)
        #expect(arrived.verdict == .promote && arrived.decidedAt == 3 * Self.minute)
    }

    @Test func dryRunChecksAreMeasuredAndReportedButNeverDecide() async {
        let failing = RecordedSeries(store: Self.store(["errors": [1, 1, 1, 1], "latency": [0.1, 0.1, 0.1, 0.1]]))
        let latency = GateCheck(name: "latency", query: .expression("latency"), failure: .comparison(.greater, 0.5))
        let run = await Self.run([Self.errorRate(dryRun: true), latency], failing)
        #expect(run.verdict == .promote)
        #expect(run.checks[0].status == .failed)
        #expect(run.checks[0].measurements.map(\.result) == [.fail])
    }

    @Test func theDeadlineEndsAWindowThatCannotBeMet() async {
        let fine = RecordedSeries(store: Self.store(["errors": Array(repeating: 0, count: 20)]))
        let run = await Self.run([Self.errorRate(window: 15 * Self.minute)], fine, deadlineMinutes: 5)
        #expect(run.verdict == .inconclusive)
        #expect(run.decidedAt == 6 * Self.minute)
        #expect(run.checks[0].passes == 6)
        let met = await Self.run([Self.errorRate(window: 3 * Self.minute)], fine, deadlineMinutes: 5)
        #expect(met.verdict == .promote && met.decidedAt == 4 * Self.minute)
    }

    @Test func theWorstCheckDecides() async {
        let series = RecordedSeries(store: Self.store(["errors": [0, 0, 0, 0], "latency": [0.9, 0.9, 0.9, 0.9]]))
        let passing = Self.errorRate()
        let unknown = GateCheck(name: "missing", query: .expression("nothing"), failure: .comparison(.greater, 1), noData: .inconclusive)
        let failing = GateCheck(name: "latency", query: .expression("latency"), failure: .comparison(.greater, 0.5))
        #expect(await Self.run([passing, unknown], series).verdict == .inconclusive)
        #expect(await Self.run([passing, unknown, failing], series).verdict == .rollback)
        #expect(await Self.run([passing], series).verdict == .promote)
        #expect(GateVerdict.rollback < GateVerdict.error && GateVerdict.error < GateVerdict.inconclusive && GateVerdict.inconclusive < GateVerdict.promote)
        #expect([GateVerdict.promote, .rollback, .inconclusive, .error].map(\.exitCode) == [0, 1, 2, 3])
    }

    @Test func anUnreachableSourceErrorsAfterItsLimit() async {
        var down = RecordedSeries(store: Self.store([:]))
        down.unreachable = true
        let run = await Self.run([Self.errorRate()], down)
        #expect(run.verdict == .error)
        #expect(run.checks[0].measurements.count == 5)
        #expect(run.checks[0].reason == "5 errors in a row (limit 4): connection refused")
    }

    @Test func alertChecksFailWhileTheAlertFires() async {
        let store = SeriesStore()
        store.append(name: "ALERTS", labels: [Label("alertname", "MicroVMDown"), Label("alertstate", "firing"), Label("vm", "web")],
                     timestamp: Self.minute, value: 1)
        let check = GateCheck(name: "vm_up", query: .alert("MicroVMDown"), failure: .present)
        let run = await Self.run([check], RecordedSeries(store: store))
        #expect(run.verdict == .rollback)
        #expect(run.checks[0].reason.contains(#"ALERTS{alertname="MicroVMDown", alertstate="firing", vm="web"} = 1"#))
        let quiet = await Self.run([GateCheck(name: "other", query: .alert("Other"), failure: .present)], RecordedSeries(store: store))
        #expect(quiet.verdict == .promote)
    }

    /// A clock that moves only when the run sleeps, and remembers when it was asked to wake.
    final class ManualClock: GateClock {
        private let state: Mutex<(now: Int64, wakes: [Int64])>

        init(now: Int64) { state = Mutex((now, [])) }

        var wakes: [Int64] { state.withLock { $0.wakes } }

        func now() -> Int64 { state.withLock { $0.now } }

        func sleep(until time: Int64) async {
            state.withLock { state in
                state.wakes.append(time)
                state.now = max(state.now, time)
            }
        }
    }

    @Test func thePollingLoopMeasuresEveryIntervalUntilTheChecksDecide() async {
        // Healthy for three minutes, failing from the fourth, before its 5-minute window is met.
        let failing = RecordedSeries(store: Self.store(["errors": [0, 0, 0, 0.1, 0.1]]))
        let clock = ManualClock(now: 0)
        let run = await GateRun.poll(policy: GatePolicy(intervalMilliseconds: Self.minute, checks: [Self.errorRate(window: 5 * Self.minute)]),
                                     wait: .seconds(600), using: failing, clock: clock)
        #expect(run.verdict == .rollback)
        #expect(run.checks[0].measurements.map(\.time) == [0, 1, 2, 3].map { $0 * Self.minute })
        #expect(run.decidedAt == 3 * Self.minute)
        #expect(clock.wakes == [1, 2, 3].map { $0 * Self.minute })
        #expect(run.deadline == 10 * Self.minute)
    }

    @Test func thePollingLoopStopsAtTheDeadlineWhenNothingDecides() async {
        // No data under the wait policy never decides: the deadline falls between two rounds,
        // and the run ends there, inconclusive, rather than sleeping a whole interval past it.
        let none = RecordedSeries(store: Self.store(["other": [1, 1, 1, 1]]))
        let clock = ManualClock(now: 5 * Self.minute)
        let run = await GateRun.poll(policy: GatePolicy(intervalMilliseconds: Self.minute, checks: [Self.errorRate(noData: .wait)]),
                                     wait: .seconds(150), using: none, clock: clock)
        #expect(run.verdict == .inconclusive)
        #expect(run.checks[0].measurements.map(\.time) == [5, 6, 7].map { $0 * Self.minute })
        #expect(clock.wakes == [6 * Self.minute, 7 * Self.minute, 7 * Self.minute + 30_000])
        #expect(run.decidedAt == 7 * Self.minute + 30_000)
    }

    /// The default policy judges the gated pipeline's alerts and the host's (no pipeline label),
    /// not another pipeline's; the pipeline's name is matched literally, whatever it holds.
    @Test func theDefaultPolicyIsScopedToThePipelineAndTheHost() async throws {
        let store = SeriesStore()
        func alert(_ labels: [Label]) -> [Label] {
            ([Label("alertname", "A"), Label("alertstate", "firing"), Label("severity", "critical")] + labels).sorted()
        }
        store.append(name: "ALERTS", labels: alert([Label("pipeline", "other")]), timestamp: 1_000, value: 1)
        store.append(name: "ALERTS", labels: alert([Label("pipeline", "web.api")]), timestamp: 1_000, value: 1)
        store.append(name: "ALERTS", labels: alert([Label("pipeline", "webXapi")]), timestamp: 1_000, value: 1)
        let querier = RecordedSeries(store: store)
        func firing(_ pipeline: String) async throws -> Int {
            guard case .expression(let expression) = GatePolicy.standard(pipeline: pipeline).checks[0].query else { return -1 }
            return try await querier.query(expression, at: 2_000).samples.count
        }
        #expect(try await firing("web.api") == 1)
        #expect(try await firing("shop") == 0)
        store.append(name: "ALERTS", labels: alert([]), timestamp: 1_500, value: 1)
        #expect(try await firing("shop") == 1)
        #expect(try await firing("a|b(c") == 1)
        let policy = GatePolicy(checks: [GateCheck(name: "x", query: .alert("Known"), failure: .present),
                                         GateCheck(name: "y", query: .alert("Typo"), failure: .present)])
        #expect(policy.undefinedAlerts(defined: ["Known"]).map { "\($0.check) \($0.alert)" } == ["y Typo"])
    }
}
