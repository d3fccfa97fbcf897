import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport
import PipelineEvents
import Synchronization

/// `lookout run --pipeline P --run-id R --step S -- CMD ARGS…`: reports a pipeline step around
/// its command. Sends `step.started`, runs the command with Lookout's standard input, output and
/// error (nothing is copied or buffered), sends `step.finished` with the exit code and the
/// duration, and exits as the command did.
///
/// - The command runs whether or not the daemon can be reached: undeliverable events go to the
///   spool (see `DaemonOptions`), unless `--strict`, which makes them an error: the command is
///   then not started, or Lookout exits 1 after a successful command whose end could not be
///   reported.
/// - SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to Lookout are passed on to the command, whose
///   end is then reported as usual.
/// - A command killed by a signal is reported with exit code 128 + the signal's number, and
///   Lookout then kills itself with the same signal, so the caller sees what it would have seen
///   without Lookout. A command that cannot be started is reported as 127 (not found) or 126.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline step's command and report its start, end, exit code and duration.",
        discussion: "Example: lookout run --pipeline web --run-id $CI_PIPELINE_ID --step build -- make build")

    @Option(help: "The pipeline's name.")
    var pipeline: String

    @Option(name: .customLong("run-id"), help: "The run's id.")
    var runID: String

    @Option(help: "The step's name.")
    var step: String

    @Option(help: "The stage (preprod, prod, …), when the step has one.")
    var stage: String?

    @Option(help: "The revision built or deployed.")
    var revision: String?

    @Option(help: "A label NAME=VALUE; repeatable.")
    var label: [String] = []

    @OptionGroup var daemon: DaemonOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. lookout run … -- make test") }
    }

    func run() async throws {
        let delivery: EventDelivery
        let started: [UInt8]
        do {
            delivery = try daemon.delivery()
            started = try event(type: .stepStarted, time: CivilTime.nowMicroseconds())
        } catch {
            printError("\(error)")
            throw ExitCode((error as? ClientProblem)?.exitCode ?? 1)
        }
        guard await report(started, with: delivery) || !daemon.strict else { throw ExitCode.failure }

        let clock = ContinuousClock()
        let start = clock.now
        let ending: ChildProcess.Ending
        do {
            ending = try await ChildProcess.run(command)
        } catch {
            printError("\(error)")
            ending = .notStarted(error)
        }
        let seconds = (clock.now - start) / .seconds(1)

        let finished: [UInt8]
        do {
            finished = try event(type: .stepFinished, time: CivilTime.nowMicroseconds(), ending: ending, seconds: seconds)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
        let reported = await report(finished, with: delivery)
        switch ending {
        case .exited(0):
            if !reported && daemon.strict { throw ExitCode.failure }
        case .exited(let code):
            throw ExitCode(code)
        case .signalled(let signal):
            ChildProcess.dieLike(signal)
        case .notStarted(let error):
            throw ExitCode(error.exitCode)
        }
    }

    /// Delivers `event`; says on standard error what went wrong, if anything. True when the
    /// daemon stored it (or it was spooled).
    private func report(_ event: [UInt8], with delivery: EventDelivery) async -> Bool {
        await delivery.deliver(event).announced()
    }

    /// The event of `type`, from the flags and, for the end, how the command ended.
    private func event(type: PipelineEvent.Kind, time: Int64, ending: ChildProcess.Ending? = nil, seconds: Double? = nil)
        throws(EventError) -> [UInt8]
    {
        let event = PipelineEvent(
            id: EventDelivery.newID(), type: type, pipeline: pipeline, runID: runID, step: step, stage: stage,
            result: ending.map { $0.succeeded ? .success : .failure }, exitCode: ending.map { Int($0.exitCode) },
            durationSeconds: ending == nil ? nil : seconds, revision: revision, labels: try EventCommand.labels(label),
            message: ending?.message, time: time)
        return try EventDelivery.checked(event.json)
    }
}
