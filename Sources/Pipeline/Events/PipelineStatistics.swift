import Synchronization
import LookoutSupport
import MetricModel

/// The `pipeline_*` families, kept up to date from pipeline events as they are stored (and
/// rebuilt from the store at start-up, so counters survive a restart). Runs and steps are paired
/// from their start and finish events; a run id is never a label.
///
/// - `pipeline_runs_total{pipeline,result}`: finished runs; `result="stale"` for runs whose
///   events stopped for longer than `staleAfter` without a `run.finished`.
/// - `pipeline_run_duration_seconds{pipeline}`, `pipeline_step_duration_seconds{pipeline,step,result}`:
///   histograms, from `duration_seconds` when the finish event has it, else finish − start time.
/// - `pipeline_step_last_success{pipeline,step}` (1/0), `pipeline_step_last_timestamp_seconds{pipeline,step}`.
/// - `pipeline_runs_in_progress{pipeline}`.
/// - `pipeline_deployments_total{pipeline,stage,result}`, `pipeline_rollbacks_total{pipeline,stage}`,
///   `pipeline_deployment_last_success{pipeline,stage}` (1/0),
///   `pipeline_deployment_last_timestamp_seconds{pipeline,stage}`.
/// - `pipeline_dst_valid{pipeline}` (the latest report's verdict; absent while unknown),
///   `pipeline_dst_operations_total{pipeline,result}` (`ok`, `fail`, `info`),
///   `pipeline_dst_messages_total{pipeline}` (messages on the simulated network, Maelstrom's `msg_count`).
/// - `pipeline_gate_verdicts_total{pipeline,stage,verdict}`, `pipeline_gate_check_measurements_total{check,result}`.
///
/// A labelled counter starts at 0 for every value of its last label once the rest are known
/// (every result of a pipeline's runs once the pipeline sends its first event; deployments,
/// rollbacks and verdicts once a stage is named), so a dashboard shows 0 rather than no data
/// and `increase()` sees the first event (prometheus.io/docs/practices/instrumentation, "Avoid
/// missing metrics"). Events of a run that has finished or gone stale never reopen it.
package final class PipelineStatistics: MetricCollector, Sendable {
    /// The collector's name.
    package let name = "pipeline"
    /// How long a run may go without events before it counts as stale, in microseconds.
    package let staleAfter: Int64
    private let now: @Sendable () -> Int64
    private let state = Mutex(State())

    /// Upper bounds of `pipeline_run_duration_seconds`: half a minute to four hours.
    static let runBuckets: [Double] = [30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 7200, 14400]
    /// Upper bounds of `pipeline_step_duration_seconds`: a second to an hour.
    static let stepBuckets: [Double] = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600]

    /// Statistics that call a run stale after `staleAfter` without events (default six hours),
    /// judged against `now` (microseconds since the epoch; the wall clock unless a test says).
    package init(staleAfter: Duration = .seconds(6 * 3600), now: @escaping @Sendable () -> Int64 = CivilTime.nowMicroseconds) {
        self.staleAfter = staleAfter.components.seconds * 1_000_000
        self.now = now
    }

    private struct RunKey: Hashable { var pipeline: String, run: String }
    private struct StepKey: Hashable { var pipeline: String, run: String, step: String }

    private struct Histogram {
        var counts: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(bounds: [Double]) { counts = Array(repeating: 0, count: bounds.count) }

        mutating func observe(_ value: Double, bounds: [Double]) {
            for (index, bound) in bounds.enumerated() where value <= bound { counts[index] += 1 }
            sum += value
            count += 1
        }
    }

    private struct OpenRun { var started: Int64?, lastSeen: Int64 }

    private struct State {
        var runs: [[String]: UInt64] = [:]  // [pipeline, result]
        var runDurations: [String: Histogram] = [:]
        var stepDurations: [[String]: Histogram] = [:]  // [pipeline, step, result]
        var stepLast: [[String]: (success: Bool, time: Int64)] = [:]  // [pipeline, step]
        var openRuns: [RunKey: OpenRun] = [:]
        var closedRuns: [RunKey: Int64] = [:]  // the time of the run's latest event
        var pipelines: Set<String> = []
        var openSteps: [StepKey: Int64] = [:]
        var deployments: [[String]: UInt64] = [:]  // [pipeline, stage, result]
        var rollbacks: [[String]: UInt64] = [:]  // [pipeline, stage]
        var deploymentLast: [[String]: (success: Bool, time: Int64)] = [:]  // [pipeline, stage]
        var dstValid: [String: (valid: Bool?, time: Int64)] = [:]
        var dstOperations: [[String]: UInt64] = [:]  // [pipeline, result]
        var dstMessages: [[String]: UInt64] = [:]  // [pipeline]
        var gateVerdicts: [[String]: UInt64] = [:]  // [pipeline, stage, verdict]
        var gateMeasurements: [[String]: UInt64] = [:]  // [check, result]
    }

    /// Counts newly stored events (never one twice: the store tells which are new).
    package func add(_ events: some Sequence<PipelineEvent>) {
        state.withLock { state in
            for event in events { Self.add(event, to: &state) }
        }
    }

    /// The results a finished run is counted under: the event results and `stale`.
    static let runResults = PipelineEvent.Result.allCases.map(\.rawValue) + ["stale"]

    private static func add(_ event: PipelineEvent, to state: inout State) {
        let run = RunKey(pipeline: event.pipeline, run: event.runID)
        if state.pipelines.insert(event.pipeline).inserted {
            for result in runResults { state.runs[[event.pipeline, result], default: 0] += 0 }
        }
        if let stage = event.stage, [.deploy, .rollback, .gateVerdict].contains(event.type) {
            for result in PipelineEvent.Result.allCases { state.deployments[[event.pipeline, stage, result.rawValue], default: 0] += 0 }
            state.rollbacks[[event.pipeline, stage], default: 0] += 0
            for verdict in GateVerdict.allCases { state.gateVerdicts[[event.pipeline, stage, verdict.rawValue], default: 0] += 0 }
        }
        if let closed = state.closedRuns[run] {
            state.closedRuns[run] = max(closed, event.time)
        } else if event.type != .runFinished {
            state.openRuns[run, default: OpenRun(started: nil, lastSeen: event.time)].lastSeen =
                max(state.openRuns[run]?.lastSeen ?? event.time, event.time)
        }
        switch event.type {
        case .runStarted:
            state.openRuns[run]?.started = event.time
        case .runFinished:
            guard state.closedRuns[run] == nil else { break }
            let open = state.openRuns.removeValue(forKey: run)
            state.closedRuns[run] = max(open?.lastSeen ?? event.time, event.time)
            state.runs[[event.pipeline, event.result?.rawValue ?? "success"], default: 0] += 1
            if let seconds = event.durationSeconds(startedAt: open?.started) {
                state.runDurations[event.pipeline, default: Histogram(bounds: runBuckets)].observe(seconds, bounds: runBuckets)
            }
            state.openSteps = state.openSteps.filter { $0.key.pipeline != run.pipeline || $0.key.run != run.run }
        case .stepStarted:
            state.openSteps[StepKey(pipeline: event.pipeline, run: event.runID, step: event.step ?? "")] = event.time
        case .stepFinished:
            let step = event.step ?? ""
            let started = state.openSteps.removeValue(forKey: StepKey(pipeline: event.pipeline, run: event.runID, step: step))
            let result = event.result?.rawValue ?? "success"
            if let seconds = event.durationSeconds(startedAt: started) {
                state.stepDurations[[event.pipeline, step, result], default: Histogram(bounds: stepBuckets)].observe(seconds, bounds: stepBuckets)
            }
            if event.time >= state.stepLast[[event.pipeline, step]]?.time ?? .min {
                state.stepLast[[event.pipeline, step]] = (event.result == .success, event.time)
            }
        case .deploy:
            let stage = event.stage ?? ""
            state.deployments[[event.pipeline, stage, event.result?.rawValue ?? "success"], default: 0] += 1
            if event.time >= state.deploymentLast[[event.pipeline, stage]]?.time ?? .min {
                state.deploymentLast[[event.pipeline, stage]] = (event.result ?? .success == .success, event.time)
            }
        case .rollback:
            state.rollbacks[[event.pipeline, event.stage ?? ""], default: 0] += 1
        case .dstReport:
            if let report = event.simulation {
                for result in ["ok", "fail", "info"] { state.dstOperations[[event.pipeline, result], default: 0] += 0 }
                state.dstMessages[[event.pipeline], default: 0] += 0
                if event.time >= state.dstValid[event.pipeline]?.time ?? .min {
                    state.dstValid[event.pipeline] = (report.valid, event.time)
                }
                for (result, count) in [("ok", report.okCount), ("fail", report.failCount), ("info", report.infoCount)] {
                    if let count { state.dstOperations[[event.pipeline, result], default: 0].addSaturating(count) }
                }
                if let messages = report.messageCount { state.dstMessages[[event.pipeline], default: 0].addSaturating(messages) }
            }
        case .gateVerdict:
            state.gateVerdicts[[event.pipeline, event.stage ?? "", event.labels["verdict"] ?? "unknown"], default: 0] += 1
            for (key, value) in event.labels where key.hasPrefix(PipelineEvent.gateCheckLabelPrefix) {
                let check = String(key.dropFirst(PipelineEvent.gateCheckLabelPrefix.count))
                for (result, count) in PipelineEvent.gateCheckCounts(value) {
                    state.gateMeasurements[[check, result], default: 0].addSaturating(count)
                }
            }
        case .note:
            break
        }
    }

    /// Closes runs without events for longer than ``staleAfter`` before `now` (microseconds since
    /// the epoch), counting each in `pipeline_runs_total{result="stale"}`, and forgets closed runs
    /// quiet for four times as long: run ids come from clients, so remembering every one would
    /// grow without end, and an event that late for a finished run is not expected.
    func closeStaleRuns(now: Int64) {
        state.withLock { state in
            state.closedRuns = state.closedRuns.filter { now - $0.value <= 4 * staleAfter }
            for (run, open) in state.openRuns where now - open.lastSeen > staleAfter {
                state.openRuns[run] = nil
                state.closedRuns[run] = open.lastSeen
                state.runs[[run.pipeline, "stale"], default: 0] += 1
                state.openSteps = state.openSteps.filter { $0.key.pipeline != run.pipeline || $0.key.run != run.run }
            }
        }
    }

    /// The families, as of the events added so far, after closing runs that went stale.
    package func collect() -> [MetricFamily] {
        closeStaleRuns(now: now())
        return state.withLock { state in
            func labelled(_ names: [String], _ values: [String]) -> [Label] { zip(names, values).map { Label($0, $1) } }
            func counter(_ name: String, _ help: String, _ names: [String], _ counts: [[String]: UInt64]) -> MetricFamily {
                MetricFamily(name: name, help: help, type: .counter, samples: counts.keys.sorted { $0.lexicographicallyPrecedes($1) }
                    .map { Sample(labels: labelled(names, $0), value: Double(counts[$0]!)) })
            }
            func histogram(_ name: String, _ help: String, _ names: [String], _ series: [[String]: Histogram], _ bounds: [Double]) -> MetricFamily {
                var family = MetricFamily(name: name, help: help, type: .histogram)
                for key in series.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    let histogram = series[key]!
                    family.appendHistogram(labels: labelled(names, key), buckets: Array(zip(bounds, histogram.counts)).map { ($0, $1) },
                                           sum: histogram.sum, count: histogram.count)
                }
                return family
            }
            var inProgress = Dictionary(uniqueKeysWithValues: state.pipelines.map { ($0, 0) })
            for run in state.openRuns.keys { inProgress[run.pipeline, default: 0] += 1 }
            let stepKeys = state.stepLast.keys.sorted { $0.lexicographicallyPrecedes($1) }
            let deploymentKeys = state.deploymentLast.keys.sorted { $0.lexicographicallyPrecedes($1) }
            return [
                counter("pipeline_runs_total", "Pipeline runs that finished, by result (stale: no events for too long).", ["pipeline", "result"], state.runs),
                histogram("pipeline_run_duration_seconds", "Duration of finished pipeline runs.", ["pipeline"],
                          Dictionary(uniqueKeysWithValues: state.runDurations.map { ([$0.key], $0.value) }), Self.runBuckets),
                histogram("pipeline_step_duration_seconds", "Duration of finished pipeline steps.", ["pipeline", "step", "result"],
                          state.stepDurations, Self.stepBuckets),
                MetricFamily(name: "pipeline_step_last_success", help: "1 when the step's latest run succeeded.", type: .gauge,
                             samples: stepKeys.map { Sample(labels: labelled(["pipeline", "step"], $0), value: state.stepLast[$0]!.success ? 1 : 0) }),
                MetricFamily(name: "pipeline_step_last_timestamp_seconds", help: "When the step last finished, in seconds since the epoch.", type: .gauge,
                             samples: stepKeys.map { Sample(labels: labelled(["pipeline", "step"], $0), value: Double(state.stepLast[$0]!.time) / 1e6) }),
                MetricFamily(name: "pipeline_runs_in_progress", help: "Pipeline runs started and not yet finished or stale.", type: .gauge,
                             samples: inProgress.keys.sorted().map { Sample(labels: [Label("pipeline", $0)], value: Double(inProgress[$0]!)) }),
                counter("pipeline_deployments_total", "Deployments, by stage and result.", ["pipeline", "stage", "result"], state.deployments),
                counter("pipeline_rollbacks_total", "Rollbacks, by stage.", ["pipeline", "stage"], state.rollbacks),
                MetricFamily(name: "pipeline_deployment_last_success", help: "1 when the latest deployment to the stage succeeded.", type: .gauge,
                             samples: deploymentKeys.map { Sample(labels: labelled(["pipeline", "stage"], $0), value: state.deploymentLast[$0]!.success ? 1 : 0) }),
                MetricFamily(name: "pipeline_deployment_last_timestamp_seconds", help: "When the stage was last deployed to, in seconds since the epoch.",
                             type: .gauge, samples: deploymentKeys.map {
                                 Sample(labels: labelled(["pipeline", "stage"], $0), value: Double(state.deploymentLast[$0]!.time) / 1e6)
                             }),
                MetricFamily(name: "pipeline_dst_valid", help: "1 when the latest simulation test report was valid, 0 when it was not.", type: .gauge,
                             samples: state.dstValid.keys.sorted().compactMap { pipeline in
                                 state.dstValid[pipeline]!.valid.map { Sample(labels: [Label("pipeline", pipeline)], value: $0 ? 1 : 0) }
                             }),
                counter("pipeline_dst_operations_total", "Operations of simulation tests, by outcome (ok, fail, info).", ["pipeline", "result"], state.dstOperations),
                counter("pipeline_dst_messages_total", "Messages sent on the simulated network of simulation tests.", ["pipeline"], state.dstMessages),
                counter("pipeline_gate_verdicts_total", "Verdicts of lookout gate, by pipeline, stage and verdict.", ["pipeline", "stage", "verdict"],
                        state.gateVerdicts),
                counter("pipeline_gate_check_measurements_total", "Measurements of lookout gate's checks, by check and result.", ["check", "result"],
                        state.gateMeasurements),
            ].filter { !$0.samples.isEmpty }
        }
    }
}

extension UInt64 {
    /// Adds a count a client reported, stopping at the largest value rather than overflowing:
    /// counts come from outside and may be absurd, and the daemon must not trap on them.
    mutating func addSaturating(_ count: Int) {
        let (sum, overflow) = addingReportingOverflow(UInt64(clamping: count))
        self = overflow ? .max : sum
    }
}
