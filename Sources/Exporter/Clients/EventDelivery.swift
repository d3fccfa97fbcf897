import ArgumentParser
import Collectors
import Curl
#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport
import PipelineEvents

/// The flags of the commands that send events to a running daemon (`lookout event`,
/// `lookout run`): where it is, the token, and what to do when it cannot be reached.
struct DaemonOptions: ParsableArguments {
    @Option(help: "The daemon's base URL (default LOOKOUT_URL, else http://127.0.0.1:10100).")
    var url: String?

    @Option(name: .customLong("token-file"), help: "File holding the events token (default LOOKOUT_EVENTS_TOKEN_FILE).")
    var tokenFile: String?

    @Option(help: "How long to wait for the daemon, e.g. 10s.")
    var timeout: String = "10s"

    @Option(name: .customLong("spool-dir"),
            help: "Where events wait when the daemon cannot take them (default LOOKOUT_SPOOL_DIR, else /var/lib/lookout/spool).")
    var spoolDirectory: String?

    @Flag(help: "Fail when an event cannot be delivered now, instead of spooling it.")
    var strict = false

    @OptionGroup var access: DaemonAccessOptions

    /// The daemon's base URL: --url, else LOOKOUT_URL, else the default, without a trailing slash.
    var baseURL: String {
        (url ?? ProcessEnvironment()["LOOKOUT_URL"] ?? "http://127.0.0.1:10100").trimmingSuffix("/")
    }

    /// The delivery these flags describe, or a one-line problem.
    func delivery() throws(ClientProblem) -> EventDelivery {
        let environment = ProcessEnvironment()
        guard let tokenPath = tokenFile ?? environment["LOOKOUT_EVENTS_TOKEN_FILE"] else {
            throw ClientProblem("no events token: give --token-file or LOOKOUT_EVENTS_TOKEN_FILE")
        }
        do {
            return EventDelivery(
                baseURL: baseURL,
                token: try SecretFile.read(tokenPath, what: "events token"),
                access: try access.resolve(environment),
                timeout: try SettingValue.checked(timeout, flag: "--timeout", SettingValue.duration),
                spool: strict ? nil : EventSpool(directory: spoolDirectory ?? environment["LOOKOUT_SPOOL_DIR"] ?? "/var/lib/lookout/spool"))
        } catch let error as ConfigurationError {
            throw ClientProblem("\(error)", exitCode: error.exitCode)
        } catch let error as ClientProblem {
            throw error
        } catch {
            throw ClientProblem("\(error)")
        }
    }
}

/// Gets one event to the daemon: `POST /api/v1/events`, else (when the daemon cannot be
/// reached or cannot store it now, and a spool is given) into the spool, which the daemon
/// imports. An event the daemon refuses (bad event, wrong token, too large) is not spooled:
/// sending it again would be refused again.
struct EventDelivery: Sendable {
    /// The daemon's base URL, without a trailing slash.
    let baseURL: String
    /// The events token.
    let token: String
    /// TLS material and credentials for a secured daemon.
    let access: DaemonAccess
    /// How long to wait for the daemon.
    let timeout: Duration
    /// Where undeliverable events go; nil to fail instead (`--strict`).
    let spool: EventSpool?

    /// What became of an event.
    enum Outcome: Sendable {
        /// The daemon stored it (or had it); its answer.
        case stored(answer: String)
        /// The daemon could not take it (why); it waits in the spool file.
        case spooled(file: String, reason: String)
        /// It is neither stored nor spooled: one line saying why.
        case failed(String)

        /// Says on standard error what went wrong, if anything (a warning for a spooled event,
        /// an error for a lost one); true unless it failed.
        func announced() -> Bool {
            switch self {
            case .stored: return true
            case .spooled(let file, let reason):
                printWarning("\(reason); the event waits in \(file) for the daemon")
                return true
            case .failed(let reason):
                printError(reason)
                return false
            }
        }
    }

    /// `event` after the daemon's own check, so that a mistake is one line here, never a round
    /// trip (or a spooled file the daemon would reject).
    static func checked(_ event: [UInt8]) throws(EventError) -> [UInt8] {
        let json: JSONValue
        do {
            json = try JSONValue.parse(event)
        } catch {
            throw EventError(field: nil, problem: "\(error)")
        }
        _ = try PipelineEvent.decode(json, receivedAt: 0, newID: { "local-check" })
        return event
    }

    /// Sends `event`, one JSON object that carries its `id` and `time`, so that a spooled copy
    /// keeps both.
    func deliver(_ event: [UInt8]) async -> Outcome {
        let request = HTTPRequest(
            method: "POST", url: baseURL + EventsEndpoint.path,
            // The token has a header of its own, so that Authorization is free for basic authentication.
            headers: access.headers + ["\(EventsEndpoint.tokenHeader): \(token)", "Content-Type: application/json"], body: event)
        let reason: String
        do {
            let response = try await CurlEasy().perform(request, options: access.transfer(timeout: timeout))
            if let refusal = access.refusal(response, base: baseURL) { return .failed(refusal) }
            let answer = String(decoding: response.body, as: UTF8.self).trimmingSuffix("\n")
            switch response.status {
            case 200: return .stored(answer: answer)
            case 500...: reason = "the daemon at \(baseURL) cannot store it now (\(response.status)): \(answer)"
            default: return .failed("the daemon refused the event (\(response.status)): \(answer)")
            }
        } catch {
            reason = access.unreachable(baseURL, error)
        }
        guard let spool else { return .failed(reason) }
        do {
            try spool.create()
            return .spooled(file: try spool.write(event), reason: reason)
        } catch {
            return .failed("\(reason), and \(error)")
        }
    }

    /// A fresh event id: `lookout-` and 128 random bits in hex, as the daemon makes them.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt64
        return "lookout-" + String(high, radix: 16) + String(low, radix: 16)
    }
}
