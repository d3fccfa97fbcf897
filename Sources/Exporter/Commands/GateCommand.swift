import ArgumentParser
import Foundation
import Gate
import YAMLFiles
import LookoutSupport
import PipelineEvents

/// `lookout gate --pipeline P --run-id R --stage S`: decides whether a deploy may be promoted.
/// Every interval it measures each check of the policy (by default: no critical or warning alert
/// firing) against the daemon's rule history, or a Prometheus server's with `--prometheus-url`,
/// until the checks decide or `--wait` runs out; prints the report (`--json` for machines);
/// records the verdict as a `gate.verdict` pipeline event; and exits 0 promote, 1 roll back,
/// 2 inconclusive, 3 error (including a bad policy or flags).
struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Promote, roll back, or not yet: measure alert rules and PromQL checks until they decide.",
        discussion: """
            Exit status: 0 promote, 1 roll back, 2 inconclusive, 3 error. Checks come from --policy \
            (YAML: interval, checks with alert or expr, failure, no_data, failure_limit, \
            consecutive_failure_limit, window, dry_run; see README "The gate"); without one, the \
            gate rolls back while a critical or warning alert of the pipeline or of the host \
            fires. An alert check naming an alert no loaded rule defines is an error. The verdict is recorded as a \
            gate.verdict event when an events token is given (--token-file or LOOKOUT_EVENTS_TOKEN_FILE).
            """)

    @Option(help: "The pipeline's name.")
    var pipeline: String

    @Option(name: .customLong("run-id"), help: "The run's id.")
    var runID: String

    @Option(help: "The stage being judged (preprod, prod).")
    var stage: String

    @Option(help: "The gate policy (YAML).")
    var policy: String?

    @Option(help: "How long to keep measuring before answering inconclusive, e.g. 10m (default 10m).")
    var wait: String = "10m"

    @Option(help: "How often to measure, overriding the policy's interval, e.g. 15s.")
    var interval: String?

    @Option(name: .customLong("prometheus-url"), help: "Measure against this Prometheus server's query API instead of the daemon's.")
    var prometheusURL: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let policy: GatePolicy
        let wait: Duration
        let querier: PrometheusQueryClient
        let source: String
        do {
            var loaded = try self.policy.map { (path: String) throws(YAMLFileError) in try GatePolicyFile.load(path: path) } ?? .standard(pipeline: pipeline)
            if let interval {
                loaded.intervalMilliseconds = try SettingValue.checked(interval, flag: "--interval", SettingValue.duration).milliseconds
            }
            policy = loaded
            wait = try SettingValue.checked(self.wait, flag: "--wait", SettingValue.duration)
            let timeout = try SettingValue.checked(daemon.timeout, flag: "--timeout", SettingValue.duration)
            let base = prometheusURL?.trimmingSuffix("/") ?? daemon.baseURL
            querier = PrometheusQueryClient(baseURL: base, timeout: timeout, access: try daemon.access.resolve())
            source = (prometheusURL == nil ? "lookout " : "prometheus ") + base
        } catch {
            printError("\(error)")
            throw ExitCode(3)
        }

        // An alert check naming an alert no rule defines could never fail: refuse it. A source
        // that cannot list its rules now is left to the measurements, which report it.
        if policy.checks.contains(where: { if case .alert = $0.query { true } else { false } }),
           let defined = try? await querier.definedAlerts() {
            let undefined = policy.undefinedAlerts(defined: defined)
            if !undefined.isEmpty {
                for (check, alert) in undefined {
                    printError("check \(check): no rule loaded at \(source) defines the alert \"\(alert)\"")
                }
                throw ExitCode(3)
            }
        }
        let run = await GateRun.poll(policy: policy, wait: wait, using: querier, clock: SystemGateClock())
        let report = GateReport(run: run, pipeline: pipeline, runID: runID, stage: stage, source: source)
        if json {
            print(String(decoding: report.json, as: UTF8.self))
        } else {
            print(report.text)
        }
        await record(report)
        throw ExitCode(report.verdict.exitCode)
    }

    /// Sends the `gate.verdict` event; a gate without an events token says so and goes on (its
    /// verdict stands either way).
    private func record(_ report: GateReport) async {
        let delivery: EventDelivery
        do {
            delivery = try daemon.delivery()
        } catch {
            printWarning("the verdict is not recorded: \(error)")
            return
        }
        let event = PipelineEvent(
            id: EventDelivery.newID(), type: .gateVerdict, pipeline: pipeline, runID: runID, stage: stage, labels: report.eventLabels,
            message: String(report.text.utf8.prefix(PipelineEvent.maximumMessageBytes)) ?? "", time: CivilTime.nowMicroseconds())
        let body: [UInt8]
        do {
            body = try EventDelivery.checked(event.json)
        } catch {
            printWarning("the verdict is not recorded: \(error)")
            return
        }
        _ = await delivery.deliver(body).announced()
    }
}
