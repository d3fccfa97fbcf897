import LookoutSupport

/// One run of a pipeline as its events tell it: when it started and ended, how it went, and
/// each step's outcome. Derived, never stored: the events are the record.
package struct PipelineRun: Sendable, Equatable {
    /// How a run stands.
    package enum Status: String, Sendable, CaseIterable {
        /// Started, not finished, events still coming.
        case running
        /// No `run.finished` and no event for longer than the stale timeout.
        case stale
        case success, failure, cancelled, skipped
    }

    /// One step's outcome within the run.
    package struct Step: Sendable, Equatable {
        /// The step's name.
        package var name: String
        /// Its result; nil while it runs.
        package var result: PipelineEvent.Result?
        /// When it started and finished, microseconds since the epoch.
        package var started: Int64?, finished: Int64?
        /// `duration_seconds` of its finish event, else finished − started.
        package var durationSeconds: Double?
        /// Its exit code, when reported.
        package var exitCode: Int?

        /// Creates a step.
        package init(name: String, result: PipelineEvent.Result? = nil, started: Int64? = nil, finished: Int64? = nil,
                    durationSeconds: Double? = nil, exitCode: Int? = nil) {
            self.name = name
            self.result = result
            self.started = started
            self.finished = finished
            self.durationSeconds = durationSeconds
            self.exitCode = exitCode
        }
    }

    /// The pipeline's name.
    package var pipeline: String
    /// The run id.
    package var runID: String
    /// How it stands.
    package var status: Status
    /// The revision its events name (the latest one given).
    package var revision: String?
    /// When it started (its `run.started`, else its first event).
    package var started: Int64
    /// When it finished (`run.finished`); nil while it has not.
    package var finished: Int64?
    /// The run's duration: `duration_seconds` of `run.finished`, else finished − started.
    package var durationSeconds: Double?
    /// Its steps in the order they first appeared.
    package var steps: [Step]
    /// The simulation test's verdict, when a `dst.report` came.
    package var simulation: PipelineEvent.SimulationReport?
    /// Deployments and rollbacks: (type, stage, result).
    package var deployments: [(type: PipelineEvent.Kind, stage: String, result: PipelineEvent.Result?)]

    /// Creates a run; ``derive(_:now:staleAfter:)`` is how runs are made from events.
    package init(pipeline: String, runID: String, status: Status, revision: String?, started: Int64, finished: Int64?,
                durationSeconds: Double?, steps: [Step], simulation: PipelineEvent.SimulationReport?,
                deployments: [(type: PipelineEvent.Kind, stage: String, result: PipelineEvent.Result?)]) {
        self.pipeline = pipeline
        self.runID = runID
        self.status = status
        self.revision = revision
        self.started = started
        self.finished = finished
        self.durationSeconds = durationSeconds
        self.steps = steps
        self.simulation = simulation
        self.deployments = deployments
    }

    /// Whether the two runs are the same in every field.
    package static func == (left: PipelineRun, right: PipelineRun) -> Bool {
        left.pipeline == right.pipeline && left.runID == right.runID && left.status == right.status && left.revision == right.revision
            && left.started == right.started && left.finished == right.finished && left.durationSeconds == right.durationSeconds
            && left.steps == right.steps && left.simulation == right.simulation
            && left.deployments.map { "\($0.type.rawValue) \($0.stage) \($0.result?.rawValue ?? "")" }
            == right.deployments.map { "\($0.type.rawValue) \($0.stage) \($0.result?.rawValue ?? "")" }
    }

    /// The run the events of one (pipeline, run id) tell, in arrival order; nil for no events.
    /// A run without `run.finished` is stale when its newest event is older than `staleAfter`
    /// microseconds before `now`.
    package static func derive(_ events: [PipelineEvent], now: Int64, staleAfter: Int64) -> PipelineRun? {
        guard let first = events.first else { return nil }
        var run = PipelineRun(pipeline: first.pipeline, runID: first.runID, status: .running, revision: nil,
                              started: events.map(\.time).min()!, finished: nil, durationSeconds: nil, steps: [],
                              simulation: nil, deployments: [])
        var finish: PipelineEvent?
        for event in events {
            if let revision = event.revision { run.revision = revision }
            switch event.type {
            case .runStarted:
                run.started = event.time
            case .runFinished:
                run.finished = event.time
                finish = event
            case .stepStarted, .stepFinished:
                let name = event.step ?? ""
                var index = run.steps.firstIndex { $0.name == name }
                if index == nil {
                    run.steps.append(Step(name: name))
                    index = run.steps.count - 1
                }
                if event.type == .stepStarted {
                    run.steps[index!].started = event.time
                } else {
                    run.steps[index!].finished = event.time
                    run.steps[index!].result = event.result
                    run.steps[index!].exitCode = event.exitCode
                    run.steps[index!].durationSeconds = event.durationSeconds(startedAt: run.steps[index!].started)
                }
            case .deploy, .rollback:
                run.deployments.append((event.type, event.stage ?? "", event.result))
            case .dstReport:
                run.simulation = event.simulation
            case .note, .gateVerdict:
                break
            }
        }
        if let finish {
            run.status = Status(rawValue: (finish.result ?? .success).rawValue)!
            run.durationSeconds = finish.durationSeconds(startedAt: run.started)
        } else if now - events.map(\.time).max()! > staleAfter {
            run.status = .stale
        }
        return run
    }

    /// The run that ``json`` wrote, read back (by `lookout summary`).
    package init(json: JSONValue) throws(JSONShapeError) {
        try self.init(reading: JSONObjectReader(json))
    }

    /// The run in an object of a summary or runs answer, as ``json`` writes it.
    package init(reading run: JSONObjectReader) throws(JSONShapeError) {
        var steps: [Step] = []
        for step in try run.objects("steps") ?? [] {
            steps.append(Step(
                name: try step.required(try step.string("name"), "name"),
                result: try step.choice(try step.string("result"), "result", as: PipelineEvent.Result.self),
                started: try step.time("started"), finished: try step.time("finished"),
                durationSeconds: try step.number("duration_seconds"), exitCode: try step.integer("exit_code")))
        }
        var deployments: [(type: PipelineEvent.Kind, stage: String, result: PipelineEvent.Result?)] = []
        for deployment in try run.objects("deployments") ?? [] {
            deployments.append((
                try deployment.required(try deployment.choice(try deployment.string("type"), "type", as: PipelineEvent.Kind.self), "type"),
                try deployment.string("stage") ?? "",
                try deployment.choice(try deployment.string("result"), "result", as: PipelineEvent.Result.self)))
        }
        var simulation: PipelineEvent.SimulationReport?
        if let report = try run.object("dst") {
            // `valid` is true, false, or "unknown" for the checker's :unknown.
            let valid = report.value("valid") == .string("unknown") ? nil : try report.boolean("valid")
            simulation = PipelineEvent.SimulationReport(
                valid: valid, okCount: try report.integer("ok_count"), failCount: try report.integer("fail_count"),
                infoCount: try report.integer("info_count"))
        }
        self.init(
            pipeline: try run.required(try run.string("pipeline"), "pipeline"),
            runID: try run.required(try run.string("run_id"), "run_id"),
            status: try run.required(try run.choice(try run.string("status"), "status", as: Status.self), "status"),
            revision: try run.string("revision"),
            started: try run.required(try run.time("started"), "started"),
            finished: try run.time("finished"), durationSeconds: try run.number("duration_seconds"),
            steps: steps, simulation: simulation, deployments: deployments)
    }

    /// The run as a JSON object, for `GET /api/v1/runs`: times in RFC 3339.
    package var json: [UInt8] {
        var output: [UInt8] = []
        func string(_ text: String) { JSONText.appendString(text, to: &output) }
        func time(_ microseconds: Int64?) {
            guard let microseconds else { return output.append(contentsOf: "null".utf8) }
            output.append(UInt8(ascii: "\""))
            CivilTime(microseconds: microseconds).appendRFC3339(to: &output)
            output.append(UInt8(ascii: "\""))
        }
        func number(_ value: Double?) { output.append(contentsOf: (value.map { PrometheusFloat.format($0) } ?? "null").utf8) }
        func optional(_ text: String?) { if let text { string(text) } else { output.append(contentsOf: "null".utf8) } }
        func raw(_ text: String) { output.append(contentsOf: text.utf8) }
        func integer(_ value: Int?) { raw(value.map(String.init) ?? "null") }
        func strings(_ values: [String]?) {
            guard let values else { return raw("null") }
            raw("[")
            for (index, value) in values.enumerated() {
                if index > 0 { raw(",") }
                string(value)
            }
            raw("]")
        }

        raw(#"{"pipeline":"#); string(pipeline)
        raw(#","run_id":"#); string(runID)
        raw(#","status":"#); string(status.rawValue)
        raw(#","revision":"#); optional(revision)
        raw(#","started":"#); time(started)
        raw(#","finished":"#); time(finished)
        raw(#","duration_seconds":"#); number(durationSeconds)
        raw(#","steps":["#)
        for (index, step) in steps.enumerated() {
            if index > 0 { raw(",") }
            raw(#"{"name":"#); string(step.name)
            raw(#","result":"#); optional(step.result?.rawValue)
            raw(#","started":"#); time(step.started)
            raw(#","finished":"#); time(step.finished)
            raw(#","duration_seconds":"#); number(step.durationSeconds)
            raw(#","exit_code":"#); integer(step.exitCode)
            raw("}")
        }
        raw(#"],"deployments":["#)
        for (index, deployment) in deployments.enumerated() {
            if index > 0 { raw(",") }
            raw(#"{"type":"#); string(deployment.type.rawValue)
            raw(#","stage":"#); string(deployment.stage)
            raw(#","result":"#); optional(deployment.result?.rawValue)
            raw("}")
        }
        raw(#"],"dst":"#)
        if let report = simulation {
            raw(#"{"valid":"#); raw(report.valid.map { $0 ? "true" : "false" } ?? #""unknown""#)
            raw(#","count":"#); integer(report.operationCount)
            raw(#","ok_count":"#); integer(report.okCount)
            raw(#","fail_count":"#); integer(report.failCount)
            raw(#","info_count":"#); integer(report.infoCount)
            raw(#","msg_count":"#); integer(report.messageCount)
            raw(#","server_msg_count":"#); integer(report.serverMessageCount)
            raw(#","invalid_checkers":"#); strings(report.invalidCheckers)
            raw(#","unknown_checkers":"#); strings(report.unknownCheckers)
            raw(#","anomaly_types":"#); strings(report.anomalyTypes)
            raw("}")
        } else {
            raw("null")
        }
        raw("}")
        return output
    }
}
