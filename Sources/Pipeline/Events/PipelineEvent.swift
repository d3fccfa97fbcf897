import LookoutSupport

/// One thing that happened in a deploy pipeline (unit tests → build → pre-prod deploy →
/// deterministic simulation test → report → deploy or roll back), as the pipeline reports it to
/// `POST /api/v1/events` or `lookout event`: a JSON object checked field by field, so that a bad
/// event is refused with the field and the problem named, and nothing of it is stored.
package struct PipelineEvent: Sendable, Equatable {
    /// What happened.
    package enum Kind: String, Sendable, CaseIterable {
        case runStarted = "run.started"
        case runFinished = "run.finished"
        case stepStarted = "step.started"
        case stepFinished = "step.finished"
        case deploy
        case rollback
        case dstReport = "dst.report"
        case note
        /// `lookout gate`'s answer for a stage: labels `verdict` (promote, rollback,
        /// inconclusive, error) and, per check, `check_NAME` = `pass=N fail=N no_data=N error=N`
        /// with the check's outcome (``GateReport/eventLabels``); the message is the report.
        case gateVerdict = "gate.verdict"
    }

    /// The prefix of a ``Kind/gateVerdict`` event's labels that carry one check's counts
    /// (`check_NAME`).
    package static let gateCheckLabelPrefix = "check_"

    /// The measurement counts in a `check_NAME` label value of a ``Kind/gateVerdict`` event:
    /// (result, count) pairs, skipping what is not one.
    static func gateCheckCounts(_ value: String) -> [(String, Int)] {
        value.split(separator: " ").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, GateMeasurementResult(rawValue: String(parts[0])) != nil, let count = Int(parts[1]), count >= 0 else { return nil }
            return (String(parts[0]), count)
        }
    }

    /// How a run, step or deployment ended.
    package enum Result: String, Sendable, CaseIterable {
        case success, failure, cancelled, skipped
    }

    /// What a deterministic simulation test (Jepsen, Maelstrom) concluded: `dst.report` events.
    /// Each fact is optional (nil: not reported); ``SimulationResults`` reads them from a results file.
    package struct SimulationReport: Sendable, Equatable {
        /// The checker's verdict: true, false, or nil for `:unknown`.
        package var valid: Bool?
        /// Operations that completed in any way (`:stats :count`).
        package var operationCount: Int?
        /// Operations that completed (`:ok-count`).
        package var okCount: Int?
        /// Operations that failed (`:fail-count`).
        package var failCount: Int?
        /// Operations with an indeterminate outcome (`:info-count`).
        package var infoCount: Int?
        /// Messages sent on the simulated network, clients' included (Maelstrom's `:net :all :msg-count`).
        package var messageCount: Int?
        /// Messages between servers (Maelstrom's `:net :servers :msg-count`).
        package var serverMessageCount: Int?
        /// The composed checkers that found the history invalid (`workload`, `perf`, …), sorted.
        package var invalidCheckers: [String]?
        /// The composed checkers that could not decide (`:valid? :unknown`), sorted.
        package var unknownCheckers: [String]?
        /// The anomalies the checkers name (Elle's `G1c`, `internal`, …), sorted.
        package var anomalyTypes: [String]?

        /// Creates a report.
        package init(valid: Bool? = nil, operationCount: Int? = nil, okCount: Int? = nil, failCount: Int? = nil, infoCount: Int? = nil,
                    messageCount: Int? = nil, serverMessageCount: Int? = nil, invalidCheckers: [String]? = nil,
                    unknownCheckers: [String]? = nil, anomalyTypes: [String]? = nil) {
            self.valid = valid
            self.operationCount = operationCount
            self.okCount = okCount
            self.failCount = failCount
            self.infoCount = infoCount
            self.messageCount = messageCount
            self.serverMessageCount = serverMessageCount
            self.invalidCheckers = invalidCheckers
            self.unknownCheckers = unknownCheckers
            self.anomalyTypes = anomalyTypes
        }

        /// Writes the report as the members of an event's `dst` object, as ``PipelineEvent/decode(_:receivedAt:newID:)``
        /// reads them; facts not reported are left out.
        package func write(to dst: inout JSONObjectWriter) {
            if let valid { dst.boolean("valid", valid) } else { dst.string("valid", "unknown") }
            dst.integer("count", operationCount.map(Int64.init))
            dst.integer("ok_count", okCount.map(Int64.init))
            dst.integer("fail_count", failCount.map(Int64.init))
            dst.integer("info_count", infoCount.map(Int64.init))
            dst.integer("msg_count", messageCount.map(Int64.init))
            dst.integer("server_msg_count", serverMessageCount.map(Int64.init))
            dst.strings("invalid_checkers", invalidCheckers)
            dst.strings("unknown_checkers", unknownCheckers)
            dst.strings("anomaly_types", anomalyTypes)
        }
    }

    /// The client's id for idempotency (sending the same id again is a no-op), or a generated one.
    package var id: String
    /// What happened.
    package var type: Kind
    /// The pipeline's name.
    package var pipeline: String
    /// The run (one pass of the pipeline over one change).
    package var runID: String
    /// The step (`unit-tests`, `build`, `deploy-preprod`, `dst`, …); required for step events.
    package var step: String?
    /// The environment (`preprod`, `prod`); required for deploy and rollback.
    package var stage: String?
    /// How it ended; required for `run.finished`, `step.finished` and `deploy`.
    package var result: Result?
    /// A step's exit code.
    package var exitCode: Int?
    /// How long it took, in seconds.
    package var durationSeconds: Double?
    /// The revision being built or deployed.
    package var revision: String?
    /// Small free-form string labels.
    package var labels: [String: String]
    /// A human-readable message.
    package var message: String?
    /// When it happened, microseconds since the epoch (the event's `time`, else when it arrived).
    package var time: Int64
    /// The verdict of a `dst.report`.
    package var simulation: SimulationReport?

    /// Creates an event; ``decode(_:receivedAt:newID:)`` is the checked way in.
    package init(id: String, type: Kind, pipeline: String, runID: String, step: String? = nil, stage: String? = nil,
                result: Result? = nil, exitCode: Int? = nil, durationSeconds: Double? = nil, revision: String? = nil,
                labels: [String: String] = [:], message: String? = nil, time: Int64, simulation: SimulationReport? = nil) {
        self.id = id
        self.type = type
        self.pipeline = pipeline
        self.runID = runID
        self.step = step
        self.stage = stage
        self.result = result
        self.exitCode = exitCode
        self.durationSeconds = durationSeconds
        self.revision = revision
        self.labels = labels
        self.message = message
        self.time = time
        self.simulation = simulation
    }

    /// Longest name (pipeline, run id, step, event id), in bytes.
    static let maximumNameBytes = 128
    /// Longest revision, in bytes.
    static let maximumRevisionBytes = 256
    /// Longest message, in bytes.
    package static let maximumMessageBytes = 65_536
    /// Most names in one of a report's lists (`invalid_checkers`, `unknown_checkers`, `anomaly_types`).
    static let maximumReportNames = 64
    /// Most labels on one event.
    package static let maximumLabels = 32
    /// Longest label value, in bytes.
    static let maximumLabelValueBytes = 256

    /// Checks `json` field by field and builds the event. `receivedAt` (microseconds since the
    /// epoch) is its time when it has none; `newID` makes an id when it has none. Unknown fields
    /// are refused, so that a typo (`reslt`) is not silently dropped; `null` means absent.
    package static func decode(_ json: JSONValue, receivedAt: Int64, newID: () -> String) throws(EventError) -> PipelineEvent {
        guard case .object(let members) = json else { throw EventError(field: nil, problem: "an event must be a JSON object, got \(json.kindName)") }
        var fields: [String: JSONValue] = [:]
        for (key, value) in members {
            guard known.contains(key) else { throw EventError(field: key, problem: "unknown field") }
            if value != .null { fields[key] = value }
        }
        func text(_ field: String, limit: Int, required: Bool = false) throws(EventError) -> String? {
            guard let value = fields[field] else {
                if required { throw EventError(field: field, problem: "missing") }
                return nil
            }
            guard case .string(let string) = value else { throw EventError(field: field, problem: "must be a string, got \(value.kindName)") }
            guard !string.isEmpty else { throw EventError(field: field, problem: "must not be empty") }
            guard string.utf8.count <= limit else { throw EventError(field: field, problem: "longer than \(limit) bytes") }
            return string
        }
        func name(_ field: String, required: Bool = false) throws(EventError) -> String? {
            let value = try text(field, limit: maximumNameBytes, required: required)
            if let value, value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw EventError(field: field, problem: "must not contain control characters")
            }
            return value
        }

        let typeText = try name("type", required: true)!
        let type = try Kind(parsing: typeText)
        let result = try name("result").map { (text: String) throws(EventError) in try Result(parsing: text) }
        var time = receivedAt
        if let timeText = try text("time", limit: 64) {
            guard let parsed = CivilTime.parseMicroseconds(timeText) else {
                throw EventError(field: "time", problem: "must be an RFC 3339 time like 2026-11-27T10:00:00Z, got \"\(timeText)\"")
            }
            time = parsed
        }
        let event = PipelineEvent(
            id: try eventID(fields["id"]) ?? newID(), type: type,
            pipeline: try name("pipeline", required: true)!, runID: try name("run_id", required: true)!,
            step: try name("step"), stage: try name("stage"), result: result,
            exitCode: try integer(fields["exit_code"], field: "exit_code", in: Int(Int32.min)...Int(Int32.max)),
            durationSeconds: try duration(fields["duration_seconds"]),
            revision: try text("revision", limit: maximumRevisionBytes), labels: try labels(fields["labels"]),
            message: try text("message", limit: maximumMessageBytes), time: time,
            simulation: try simulation(fields["dst"], type: type))
        try event.checkRequiredFields()
        return event
    }

    /// How long the finished thing took: its own `duration_seconds`, else the time since
    /// `started` (microseconds since the epoch); nil when neither is known or it is negative.
    package func durationSeconds(startedAt started: Int64?) -> Double? {
        guard let seconds = durationSeconds ?? started.map({ Double(time - $0) / 1e6 }), seconds >= 0 else { return nil }
        return seconds
    }

    /// The event as the events API takes it (`POST /api/v1/events`) and
    /// ``decode(_:receivedAt:newID:)`` reads it back: the one encoder of every client that sends
    /// events (`lookout event`, `lookout run`, `lookout gate`). Absent fields are left out; labels
    /// are sorted by name.
    package var json: [UInt8] {
        var json = JSONObjectWriter()
        json.string("id", id)
        json.string("type", type.rawValue)
        json.string("pipeline", pipeline)
        json.string("run_id", runID)
        json.string("step", step)
        json.string("stage", stage)
        json.string("result", result?.rawValue)
        json.integer("exit_code", exitCode.map(Int64.init))
        json.number("duration_seconds", durationSeconds)
        json.string("revision", revision)
        if !labels.isEmpty {
            json.object("labels") { object in
                for (name, value) in labels.sorted(by: { $0.key < $1.key }) { object.string(name, value) }
            }
        }
        json.string("message", message)
        if let simulation { json.object("dst") { simulation.write(to: &$0) } }
        json.time("time", time)
        return json.finished()
    }

    /// The field names an event may have.
    static let known: Set<String> = ["id", "type", "pipeline", "run_id", "step", "stage", "result", "exit_code",
                                     "duration_seconds", "revision", "labels", "message", "time", "dst"]

    /// The fields each type needs beyond `type`, `pipeline` and `run_id`.
    func checkRequiredFields() throws(EventError) {
        switch type {
        case .stepStarted, .stepFinished:
            if step == nil { throw EventError(field: "step", problem: "required for \(type.rawValue)") }
        case .deploy, .rollback, .gateVerdict:
            if stage == nil { throw EventError(field: "stage", problem: "required for \(type.rawValue)") }
        default:
            break
        }
        switch type {
        case .runFinished, .stepFinished, .deploy:
            if result == nil { throw EventError(field: "result", problem: "required for \(type.rawValue)") }
        default:
            break
        }
        if simulation != nil, type != .dstReport { throw EventError(field: "dst", problem: "only for dst.report") }
    }

    private static func eventID(_ value: JSONValue?) throws(EventError) -> String? {
        guard let value else { return nil }
        guard case .string(let id) = value else { throw EventError(field: "id", problem: "must be a string, got \(value.kindName)") }
        let allowed = id.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":")].contains(byte)
        }
        guard !id.isEmpty, id.utf8.count <= maximumNameBytes, allowed else {
            throw EventError(field: "id", problem: "must be 1 to \(maximumNameBytes) letters, digits, '-', '_', '.' or ':'")
        }
        return id
    }

    private static func integer(_ value: JSONValue?, field: String, in range: ClosedRange<Int>) throws(EventError) -> Int? {
        guard let value else { return nil }
        guard case .number(let text) = value, let number = Int(text), range.contains(number) else {
            throw EventError(field: field, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(value.shortText)")
        }
        return number
    }

    private static func duration(_ value: JSONValue?) throws(EventError) -> Double? {
        guard let value else { return nil }
        guard case .number(let text) = value, let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 1e9 else {
            throw EventError(field: "duration_seconds", problem: "must be a number of seconds from 0 to 1e9, got \(value.shortText)")
        }
        return seconds
    }

    private static func labels(_ value: JSONValue?) throws(EventError) -> [String: String] {
        guard let value else { return [:] }
        guard case .object(let members) = value else { throw EventError(field: "labels", problem: "must be an object of strings, got \(value.kindName)") }
        guard members.count <= maximumLabels else { throw EventError(field: "labels", problem: "more than \(maximumLabels) labels") }
        var labels: [String: String] = [:]
        for (key, member) in members {
            let field = "labels.\(key)"
            guard let first = key.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7A,
                  key.utf8.count <= 64,
                  key.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A || (0x30...0x39).contains($0) })
            else {
                throw EventError(field: field, problem: "a label name must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 bytes")
            }
            guard case .string(let text) = member else { throw EventError(field: field, problem: "must be a string, got \(member.kindName)") }
            guard text.utf8.count <= maximumLabelValueBytes else { throw EventError(field: field, problem: "longer than \(maximumLabelValueBytes) bytes") }
            labels[key] = text
        }
        return labels
    }

    private static func simulation(_ value: JSONValue?, type: Kind) throws(EventError) -> SimulationReport? {
        guard let value else { return nil }
        guard case .object(let members) = value else { throw EventError(field: "dst", problem: "must be an object, got \(value.kindName)") }
        var report = SimulationReport()
        for (key, member) in members {
            switch key {
            case "valid":
                switch member {
                case .bool(let valid): report.valid = valid
                case .string("unknown"), .null: report.valid = nil
                default: throw EventError(field: "dst.valid", problem: "must be true, false or \"unknown\", got \(member.shortText)")
                }
            case "count": report.operationCount = try integer(member, field: "dst.count", in: 0...Int.max)
            case "ok_count": report.okCount = try integer(member, field: "dst.ok_count", in: 0...Int.max)
            case "fail_count": report.failCount = try integer(member, field: "dst.fail_count", in: 0...Int.max)
            case "info_count": report.infoCount = try integer(member, field: "dst.info_count", in: 0...Int.max)
            case "msg_count": report.messageCount = try integer(member, field: "dst.msg_count", in: 0...Int.max)
            case "server_msg_count": report.serverMessageCount = try integer(member, field: "dst.server_msg_count", in: 0...Int.max)
            case "invalid_checkers": report.invalidCheckers = try names(member, field: "dst.invalid_checkers")
            case "unknown_checkers": report.unknownCheckers = try names(member, field: "dst.unknown_checkers")
            case "anomaly_types": report.anomalyTypes = try names(member, field: "dst.anomaly_types")
            default: throw EventError(field: "dst.\(key)", problem: "unknown field")
            }
        }
        return report
    }

    /// A report's list of names: strings as names are (1 to 128 bytes, no control characters),
    /// at most ``maximumReportNames``, each once; sorted.
    private static func names(_ value: JSONValue, field: String) throws(EventError) -> [String] {
        guard case .array(let elements) = value else { throw EventError(field: field, problem: "must be an array of strings, got \(value.kindName)") }
        guard elements.count <= maximumReportNames else { throw EventError(field: field, problem: "more than \(maximumReportNames) names") }
        var names = Set<String>()
        for element in elements {
            guard case .string(let name) = element else { throw EventError(field: field, problem: "must be an array of strings, got \(element.shortText) in it") }
            guard !name.isEmpty, name.utf8.count <= maximumNameBytes, !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw EventError(field: field, problem: "a name must be 1 to \(maximumNameBytes) bytes without control characters, got \(element.shortText)")
            }
            guard names.insert(name).inserted else { throw EventError(field: field, problem: "\"\(name)\" is there twice") }
        }
        return names.sorted()
    }
}

/// Why an event was refused: the field (nil for the event as a whole) and the problem.
package struct EventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offending field, dotted for nested ones (`labels.team`, `dst.valid`).
    package var field: String?
    /// What is wrong with it.
    package var problem: String

    /// Creates the error.
    package init(field: String?, problem: String) {
        self.field = field
        self.problem = problem
    }

    /// The problem as one line.
    package var description: String { field.map { "\($0): \(problem)" } ?? problem }
}

extension JSONValue {
    /// The value for a message: numbers and short strings as written, other kinds by name.
    var shortText: String {
        switch self {
        case .number(let text): text
        case .string(let text) where text.utf8.count <= 40: "\"\(text)\""
        case .bool(let value): String(value)
        default: kindName
        }
    }
}

/// The gate's answer, worst first: roll back beats an error, an error beats inconclusive,
/// inconclusive beats promote. A ``PipelineEvent/Kind/gateVerdict`` event carries it as its
/// `verdict` label.
package enum GateVerdict: String, Sendable, Equatable, Comparable, CaseIterable {
    /// A check failed: roll back.
    case rollback
    /// Measurements could not be taken: nothing can be said.
    case error
    /// Not enough was known by the deadline, or a check's no-data policy says so.
    case inconclusive
    /// Every check passed.
    case promote

    /// `lookout gate`'s exit status: 0 promote, 1 roll back, 2 inconclusive, 3 error.
    package var exitCode: Int32 {
        switch self {
        case .promote: 0
        case .rollback: 1
        case .inconclusive: 2
        case .error: 3
        }
    }

    private var severity: Int {
        switch self {
        case .rollback: 3
        case .error: 2
        case .inconclusive: 1
        case .promote: 0
        }
    }

    /// Worse verdicts order first.
    package static func < (left: GateVerdict, right: GateVerdict) -> Bool { left.severity > right.severity }
}

/// What one measurement of a gate check found; a ``PipelineEvent/Kind/gateVerdict`` event counts
/// each per check.
package enum GateMeasurementResult: String, Sendable, Equatable, CaseIterable {
    /// The check's condition held.
    case pass
    /// The check's condition failed.
    case fail
    /// The query returned nothing (the no-data policy decides what it counts as).
    case noData = "no_data"
    /// The measurement could not be taken.
    case error
}

extension PipelineEvent.Kind {
    /// The kind named `text`, or an error listing the known ones.
    package init(parsing text: String) throws(EventError) {
        guard let kind = Self(rawValue: text) else {
            throw EventError(field: "type", problem: "unknown type \"\(text)\"; known: \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }
}

extension PipelineEvent.Result {
    /// The result named `text`, or an error listing the known ones.
    package init(parsing text: String) throws(EventError) {
        guard let result = Self(rawValue: text) else {
            throw EventError(field: "result", problem: "must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        self = result
    }
}
