import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport
import PipelineEvents

/// `lookout event TYPE --pipeline P --run-id R …`: sends one pipeline event to the daemon's
/// `POST /api/v1/events`. The event is checked here first, with the daemon's own rules, so a
/// mistake is one line before anything is sent. Exits 0 once the daemon has stored it (or had
/// it already) or, when it cannot be reached, once the event is in the spool; 1 otherwise.
struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Send one pipeline event to a running `lookout serve`.",
        discussion: """
            TYPE is one of run.started, run.finished, step.started, step.finished, deploy, rollback, \
            dst.report (also spelled dst-report), note. A dst.report takes its verdict and counts \
            from --file, a Jepsen or Maelstrom results.edn (or the same as JSON). The daemon URL \
            comes from --url or LOOKOUT_URL, the token file from --token-file or \
            LOOKOUT_EVENTS_TOKEN_FILE. When the daemon cannot be reached the event is spooled for \
            it (--spool-dir, LOOKOUT_SPOOL_DIR) unless --strict is given.
            """)

    @Argument(help: "The event type.")
    var type: String

    @Option(help: "The pipeline's name.")
    var pipeline: String

    @Option(name: .customLong("run-id"), help: "The run's id.")
    var runID: String

    @Option(help: "The step (required for step events).")
    var step: String?

    @Option(help: "The stage (required for deploy and rollback).")
    var stage: String?

    @Option(help: "success, failure, cancelled or skipped.")
    var result: String?

    @Option(name: .customLong("exit-code"), parsing: .unconditional, help: "The step's exit code.")
    var exitCode: Int?

    @Option(help: "How long it took, in seconds.")
    var duration: Double?

    @Option(help: "The revision built or deployed.")
    var revision: String?

    @Option(help: "A label NAME=VALUE; repeatable.")
    var label: [String] = []

    @Option(help: "A message.")
    var message: String?

    @Option(help: "A simulation test's results file (results.edn, or JSON) for a dst.report.")
    var file: String?

    @Option(help: "An id for idempotency (sending it again is a no-op); made up by the daemon when absent.")
    var id: String?

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let body: [UInt8]
        let delivery: EventDelivery
        do {
            body = try EventDelivery.checked(
                event(id: id ?? EventDelivery.newID(), time: CivilTime.nowMicroseconds(), simulation: simulationReport()).json)
            delivery = try daemon.delivery()
        } catch {
            printError("\(error)")
            throw ExitCode((error as? ClientProblem)?.exitCode ?? 1)
        }
        let outcome = await delivery.deliver(body)
        if case .stored(let answer) = outcome { print(answer) }
        guard outcome.announced() else { throw ExitCode.failure }
    }

    /// The event's type, `dst-report` spelled as the API spells it.
    var eventType: String { type == "dst-report" ? PipelineEvent.Kind.dstReport.rawValue : type }

    /// The report in `--file`, which a dst.report must have and no other event may; nil for
    /// other events without `--file`.
    func simulationReport() throws -> PipelineEvent.SimulationReport? {
        guard let file else {
            // A dst.report without its results would be stored as the run's latest verdict
            // ("valid: unknown"), hiding the real one.
            guard eventType != PipelineEvent.Kind.dstReport.rawValue else {
                throw EventError(field: nil, problem: "dst.report needs --file, the simulation's results.edn (or the same as JSON)")
            }
            return nil
        }
        guard eventType == PipelineEvent.Kind.dstReport.rawValue else {
            throw EventError(field: nil, problem: "--file is only for dst.report, not \(eventType)")
        }
        return try SimulationResults.read(file)
    }

    /// The event from the flags, with its `id`, `time` (microseconds since the epoch) and
    /// `simulation`, the report read from `--file`.
    func event(id: String, time: Int64, simulation: PipelineEvent.SimulationReport?) throws(EventError) -> PipelineEvent {
        if let duration, !duration.isFinite {
            throw EventError(field: "duration_seconds", problem: "must be a finite number of seconds")
        }
        return PipelineEvent(
            id: id, type: try PipelineEvent.Kind(parsing: eventType), pipeline: pipeline, runID: runID, step: step, stage: stage,
            result: try result.map { (text: String) throws(EventError) in try PipelineEvent.Result(parsing: text) },
            exitCode: exitCode, durationSeconds: duration, revision: revision, labels: try Self.labels(label), message: message,
            time: time, simulation: simulation)
    }
}

extension EventCommand {
    /// The `--label NAME=VALUE` flags as an event's labels; a name given twice is refused, as the
    /// events API refuses a repeated key.
    static func labels(_ flags: [String]) throws(EventError) -> [String: String] {
        var labels: [String: String] = [:]
        for pair in flags {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw EventError(field: "labels", problem: "--label must be NAME=VALUE, got \"\(pair)\"")
            }
            let name = String(pair[..<equals])
            guard labels.updateValue(String(pair[pair.index(after: equals)...]), forKey: name) == nil else {
                throw EventError(field: "labels", problem: "--label \(name) is given twice")
            }
        }
        return labels
    }
}
