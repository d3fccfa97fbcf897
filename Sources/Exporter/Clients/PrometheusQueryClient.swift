import Curl
import Gate
import LookoutSupport
import MetricModel
import PromQL

/// Asks a Prometheus-compatible query API (`GET /api/v1/query`) for an instant value: a real
/// Prometheus (`lookout gate --prometheus-url`) or the daemon's own (`RulesEndpoint`), which
/// answers in the same shape, so the gate's logic cannot tell them apart.
struct PrometheusQueryClient: GateQuerier, Sendable {
    /// The server's base URL, without a trailing slash.
    let baseURL: String
    /// How long one query may take.
    let timeout: Duration

    func query(_ expression: String, at time: Int64) async throws(GateQueryError) -> PromQLResult {
        let url = baseURL + "/api/v1/query?query=" + PercentEncoding.encoded(expression) + "&time=" + RulesEndpoint.seconds(time)
        let response: HTTPResponse
        do {
            response = try await CurlEasy().perform(HTTPRequest(method: "GET", url: url, headers: [], body: []),
                                                    options: TransferOptions(requestTimeout: timeout, connectTimeout: timeout))
        } catch {
            throw GateQueryError("cannot reach \(baseURL): \(error)")
        }
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
        return try Self.result(json["data"])
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
