import LookoutSupport
import PipelineEvents

/// What `lookout gate` tells: a short report for a person (each check, its measurements, why it
/// stands where it does), JSON for machines, and the labels of the `gate.verdict` event that
/// records it.
package struct GateReport: Sendable {
    /// The run reported, decided.
    package let run: GateRun
    /// The verdict.
    package let verdict: GateVerdict
    /// The pipeline, run and stage the gate was asked about.
    package let pipeline: String, runID: String, stage: String
    /// Where the measurements came from (`lookout http://…` or `prometheus http://…`).
    package let source: String

    /// A report of `run`, which must have a verdict.
    package init(run: GateRun, pipeline: String, runID: String, stage: String, source: String) {
        self.run = run
        verdict = run.verdict ?? .inconclusive
        self.pipeline = pipeline
        self.runID = runID
        self.stage = stage
        self.source = source
    }

    /// What the verdict says to do.
    static func headline(_ verdict: GateVerdict) -> String {
        switch verdict {
        case .promote: "PROMOTE"
        case .rollback: "ROLL BACK"
        case .inconclusive: "INCONCLUSIVE"
        case .error: "ERROR"
        }
    }

    /// The report for a person: the verdict, then each check with its status, reason and
    /// measurements (the last few, newest last).
    package var text: String {
        let elapsed = (run.decidedAt ?? run.start) - run.start
        let measured = run.checks.map(\.measurements.count).max() ?? 0
        var lines = ["\(Self.headline(verdict)): pipeline \(pipeline), run \(runID), stage \(stage) "
            + "(\(measured) measurement\(measured == 1 ? "" : "s") over \(goDuration(elapsed)), from \(source))"]
        for state in run.checks {
            let mark = switch state.status {
            case .passed: "ok  "
            case .failed: "FAIL"
            case .inconclusive: "??  "
            case .errored: "ERR "
            case .measuring: "..  "
            }
            let dryRun = state.check.dryRun ? " (dry run: does not decide)" : ""
            lines.append("  \(mark) \(state.check.name)\(dryRun): \(state.reason)")
            lines.append("       query: \(state.check.expression)  failure: \(state.check.failure.description)  no data: \(state.check.noData.rawValue)")
            let shown = state.measurements.suffix(5)
            if state.measurements.count > shown.count { lines.append("       … \(state.measurements.count - shown.count) earlier measurements") }
            for measurement in shown {
                let time = CivilTime(microseconds: measurement.time * 1000)
                let clock = [time.hour, time.minute, time.second].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
                var detail = measurement.result.rawValue
                if let error = measurement.error {
                    detail += ": " + error
                } else if !measurement.samples.isEmpty {
                    detail += ": " + GateRun.describe(measurement, failure: .present)
                }
                lines.append("       \(clock) \(detail)")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object: verdict, exit code, the run, and every check with its
    /// counts and measurements.
    package var json: [UInt8] {
        var object = JSONObjectWriter()
        object.string("verdict", verdict.rawValue)
        object.integer("exit_code", Int64(verdict.exitCode))
        object.string("pipeline", pipeline)
        object.string("run_id", runID)
        object.string("stage", stage)
        object.string("source", source)
        object.time("started", run.start * 1000)
        object.time("decided", (run.decidedAt ?? run.start) * 1000)
        object.array("checks", run.checks.map { state in
            var check = JSONObjectWriter()
            check.string("name", state.check.name)
            check.string("query", state.check.expression)
            check.string("failure", state.check.failure.description)
            check.string("no_data", state.check.noData.rawValue)
            check.boolean("dry_run", state.check.dryRun)
            check.string("status", state.status.rawValue)
            check.string("reason", state.reason)
            check.integer("failures", Int64(state.failures))
            check.array("measurements", state.measurements.map { measurement in
                var entry = JSONObjectWriter()
                entry.time("time", measurement.time * 1000)
                entry.string("result", measurement.result.rawValue)
                entry.string("error", measurement.error)
                entry.array("samples", measurement.samples.map { sample in
                    var item = JSONObjectWriter()
                    item.labels("labels", sample.labels)
                    item.string("value", GoFloat.formatG(sample.value))
                    return item.finished()
                })
                return entry.finished()
            })
            return check.finished()
        })
        return object.finished()
    }

    /// The `gate.verdict` event's labels: `verdict`, and for each check (up to the event's label
    /// limit) `check_NAME` = `pass=N fail=N no_data=N error=N status=S dry_run=B`.
    package var eventLabels: [String: String] {
        var labels = ["verdict": verdict.rawValue]
        for state in run.checks.prefix(PipelineEvent.maximumLabels - 1) {
            let counts = state.counts
            labels[PipelineEvent.gateCheckLabelPrefix + state.check.name] = GateMeasurement.Result.allCases.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }
                .joined(separator: " ") + " status=\(state.status.rawValue) dry_run=\(state.check.dryRun)"
        }
        return labels
    }
}
