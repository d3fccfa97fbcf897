import Curl
import DaemonSummary
import LookoutSupport

/// Asks a running daemon for its summary (`GET /api/v1/summary`), as `lookout summary` does.
struct SummaryClient: Sendable {
    /// Its base URL, without a trailing slash.
    let base: String
    /// `?runs=`.
    let runs: Int
    /// How long a request may take.
    let timeout: Duration
    /// TLS material and credentials for a secured daemon.
    var access = DaemonAccess()

    /// An answer: the JSON as sent, and what it says.
    struct Answer: Sendable {
        var body: [UInt8]
        var summary: Summary

        /// The JSON as one line, newline included.
        var line: String { String(decoding: body, as: UTF8.self) + (body.last == 0x0A ? "" : "\n") }
    }

    /// Why there is no answer, in one line.
    struct Problem: Error {
        var message: String
    }

    /// Asks for one summary.
    func fetch() async -> Result<Answer, Problem> {
        let request = HTTPRequest(
            method: "GET", url: base + SummaryEndpoint.path + "?runs=\(runs)", headers: access.headers + ["Accept: application/json"],
            body: [])
        let response: HTTPResponse
        do {
            response = try await CurlEasy().perform(request, options: access.transfer(timeout: timeout))
        } catch {
            return .failure(Problem(message: access.unreachable(base, error)))
        }
        if let refusal = access.refusal(response, base: base) { return .failure(Problem(message: refusal)) }
        let text = String(decoding: response.body, as: UTF8.self).trimmingSuffix("\n")
        guard response.status == 200 else {
            return .failure(Problem(message: "the daemon at \(base) answered HTTP \(response.status): \(text.prefix(200))"))
        }
        do {
            return .success(Answer(body: response.body, summary: try Summary(json: try JSONValue.parse(response.body))))
        } catch {
            return .failure(Problem(message: "the daemon at \(base) sent a summary this lookout cannot read: \(error)"))
        }
    }
}
