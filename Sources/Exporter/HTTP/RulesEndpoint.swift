import Rules
import Hummingbird
import NIOCore
import LookoutSupport
import MetricModel
import PromQL

/// The part of Prometheus' HTTP API (`docs/querying/api.md`) that reads the daemon's rule
/// evaluation, in Prometheus' JSON shapes, so that `lookout gate` asks Lookout and a real
/// Prometheus the same questions the same way:
///
/// - `GET /api/v1/query?query=EXPR[&time=T]`: an instant query over the rule history (T in
///   seconds since the epoch or RFC 3339; default now). 400 `bad_data` for an expression that
///   does not parse or a bad time, 422 `execution` when evaluation fails.
/// - `GET /api/v1/alerts`: the pending and firing alerts.
struct RulesEndpoint {
    let engine: RuleEngine
    let errors: ComponentErrors

    func add(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/query") { request, _ in
            query(request)
        }
        router.get("/api/v1/alerts") { _, _ in
            alerts()
        }
    }

    func query(_ request: Request) -> Response {
        let parameters = request.uri.queryParameters
        guard let text = parameters["query"].map(String.init), !text.isEmpty else {
            return failure(.badRequest, "bad_data", "invalid parameter \"query\": the query is empty")
        }
        var time = CivilTime.nowMicroseconds() / 1000
        if let given = parameters["time"].map(String.init) {
            guard let parsed = Self.parseTime(given) else {
                return failure(.badRequest, "bad_data", "invalid parameter \"time\": cannot parse \"\(given)\" to a valid timestamp")
            }
            time = parsed
        }
        let expression: PromQLExpression
        do {
            expression = try PromQLExpression.parse(text)
        } catch {
            return failure(.badRequest, "bad_data", "invalid parameter \"query\": \(error)")
        }
        let result: PromQLResult
        do {
            result = try engine.query(expression, at: time)
        } catch {
            return failure(.unprocessableContent, "execution", error.message)
        }
        let timestamp = Self.seconds(time)
        var data = JSONObjectWriter()
        switch result {
        case .scalar(let value):
            data.string("resultType", "scalar")
            data.raw("result", Array("[\(timestamp),\(Self.quoted(value))]".utf8))
        case .vector(let samples):
            data.string("resultType", "vector")
            data.array("result", samples.map { sample in
                var entry = JSONObjectWriter()
                entry.labels("metric", sample.labels)
                entry.raw("value", Array("[\(timestamp),\(Self.quoted(sample.value))]".utf8))
                return entry.finished()
            })
        }
        return success(data.finished())
    }

    func alerts() -> Response {
        var data = JSONObjectWriter()
        data.array("alerts", engine.activeAlerts().sorted { $0.labels.lexicographicallyPrecedes($1.labels) }.map { alert in
            var entry = JSONObjectWriter()
            entry.labels("labels", alert.labels)
            entry.labels("annotations", alert.annotations)
            entry.string("state", alert.state.rawValue)
            entry.time("activeAt", alert.activeAt * 1000)
            // Prometheus writes the value with ten digits after the point.
            entry.string("value", GoFloat.printf("%.10e", alert.value))
            return entry.finished()
        })
        return success(data.finished())
    }

    private func success(_ data: [UInt8]) -> Response {
        var body = JSONObjectWriter()
        body.string("status", "success")
        body.raw("data", data)
        return .json(.ok, body.finished())
    }

    private func failure(_ status: HTTPResponse.Status, _ type: String, _ message: String) -> Response {
        errors.record(.rules, type == "bad_data" ? .badQuery : .queryExecution)
        var body = JSONObjectWriter()
        body.string("status", "error")
        body.string("errorType", type)
        body.string("error", message)
        return .json(status, body.finished())
    }

    /// Milliseconds as the seconds Prometheus writes in results (`1435781451.781`).
    static func seconds(_ milliseconds: Int64) -> String {
        let whole = milliseconds / 1000, fraction = milliseconds % 1000
        guard fraction != 0 else { return "\(whole)" }
        return "\(whole)" + goFraction(Int(fraction.magnitude), digits: 3)
    }

    /// A value as Prometheus quotes one in results: `"1"`, `"0.5"`, `"NaN"`, `"+Inf"`.
    static func quoted(_ value: Double) -> String { "\"" + GoFloat.formatF(value) + "\"" }

    /// `time` as Prometheus reads it: seconds since the epoch (fractions allowed) or RFC 3339.
    static func parseTime(_ text: String) -> Int64? {
        if let seconds = GoFloat.parse(text), seconds.isFinite, seconds.magnitude < 1e12 { return Int64((seconds * 1000).rounded()) }
        return CivilTime.parseMicroseconds(text).map { $0 / 1000 }
    }
}
