import Curl
import Gate
import LookoutSupport
import MetricModel
import PromQL

/// Asks a Prometheus-compatible API (`GET /api/v1/query`, `/api/v1/rules`) for an instant value
/// or the alerts its rules define: a real
/// Prometheus (`lookout gate --prometheus-url`) or the daemon's own (`RulesEndpoint`), which
/// answers in the same shape, so the gate's logic cannot tell them apart.
struct PrometheusQueryClient: GateQuerier, Sendable {
    /// The server's base URL, without a trailing slash.
    let baseURL: String
    /// How long one query may take.
    let timeout: Duration
    /// TLS material and credentials for a secured server.
    var access = DaemonAccess()

    func query(_ expression: String, at time: Int64) async throws(GateQueryError) -> PromQLResult {
        try Self.result(try await data(of: "/api/v1/query?query=" + PercentEncoding.encoded(expression) + "&time=" + RulesEndpoint.seconds(time)))
    }

    /// The alerts the server's rules define: every alerting rule's name in `/api/v1/rules`.
    func definedAlerts() async throws(GateQueryError) -> Set<String> {
        let data = try await data(of: "/api/v1/rules?type=alert")
        guard case .array(let groups) = data?["groups"] else { throw GateQueryError("the rules answer has no group list") }
        var names = Set<String>()
        for group in groups {
            guard case .array(let rules) = group["rules"] else { continue }
            for rule in rules {
                if case .string("alerting") = rule["type"], case .string(let name) = rule["name"] { names.insert(name) }
            }
        }
        return names
    }

    /// The `data` of a successful answer to a GET of `path`.
    private func data(of path: String) async throws(GateQueryError) -> JSONValue? {
        let url = baseURL + path
        let response: HTTPResponse
        do {
            response = try await CurlEasy().perform(HTTPRequest(method: "GET", url: url, headers: access.headers, body: []),
                                                    options: access.transfer(timeout: timeout))
        } catch {
            throw GateQueryError(access.unreachable(baseURL, error))
        }
        if let refusal = access.refusal(response, base: baseURL) { throw GateQueryError(refusal) }
        let json: JSONValue
        do {
            json = try JSONValue.parse(response.body)
        } catch {
            throw GateQueryError("\(baseURL) answered \(response.status) with something that is not JSON: \(error)")
        }
        guard case .string("success") = json["status"] else {
            let message = if case .string(let text) = json["error"] { text } else { "HTTP \(response.status)" }
            throw GateQueryError("\(baseURL) refused the query: \(message)")
        }
        return json["data"]
    }

    /// The `data` of a successful answer as a scalar or a vector.
    static func result(_ data: JSONValue?) throws(GateQueryError) -> PromQLResult {
        func value(_ pair: JSONValue?) throws(GateQueryError) -> Double {
            guard case .array(let items) = pair, items.count == 2, case .string(let text) = items[1],
                  let number = GoFloat.parse(text) else {
                throw GateQueryError("the answer has a malformed value")
            }
            return number
        }
        switch data?["resultType"] {
        case .string("scalar")?: return .scalar(try value(data?["result"]))
        case .string("vector")?:
            guard case .array(let entries) = data?["result"] else { throw GateQueryError("the answer has no result list") }
            var samples: [PromQLSample] = []
            for entry in entries {
                guard case .object(let metric) = entry["metric"] else { throw GateQueryError("the answer has a sample without metric") }
                var labels: [Label] = []
                for (name, member) in metric {
                    guard case .string(let text) = member else { throw GateQueryError("the answer has a label that is not a string") }
                    labels.append(Label(name, text))
                }
                samples.append(PromQLSample(labels: labels.sorted(), value: try value(entry["value"])))
            }
            return .vector(samples)
        case .string(let other)?: throw GateQueryError("the query gave a \(other), not a vector or a scalar")
        default: throw GateQueryError("the answer has no resultType")
        }
    }
}
