import Rules
import Hummingbird
import Synchronization
import NIOCore
import LookoutSupport
import MetricModel
import PromQL
import SeriesHistory

/// The part of Prometheus' HTTP API (`docs/querying/api.md`) that reads the daemon's rule
/// evaluation, in Prometheus' JSON shapes, so that `lookout gate` asks Lookout and a real
/// Prometheus the same questions the same way:
///
/// - `GET` or `POST /api/v1/query?query=EXPR[&time=T]`: an instant query over the rule history
///   (T in seconds since the epoch or RFC 3339; default now). Parameters come from the URL or a
///   form body (`application/x-www-form-urlencoded`, for long queries), decoded as Go decodes
///   them. 400 `bad_data` for an expression that does not parse, a bad time or a bad escape,
///   422 `execution` when evaluation fails or would load more than `--query.max-samples`, 503
///   `timeout` past `--query.timeout` (waiting for a turn included).
/// - `GET /api/v1/alerts`: the pending and firing alerts.
/// - `GET /api/v1/rules[?type=alert|record]`: the loaded groups and their rules (name, query,
///   type, health, labels, and an alert's `for`, `keep_firing_for` and annotations), so that
///   `lookout gate` can tell an alert no rule defines from one that is not firing.
///
/// With no rules evaluated (`--no-rules.defaults` and no `--rules.file`) no history is kept, but
/// the API still answers, over nothing, with a warning saying why, as Prometheus answers with
/// warnings: a client sees JSON it can read, not a 404.
///
/// At most `--query.max-concurrency` queries are evaluated at once, each on a dispatch thread:
/// the cooperative threads that answer scrapes never run one, and the engine's lock is not held
/// while one runs, so scrapes and rule rounds never wait behind a query.
struct RulesEndpoint {
    /// The largest form body a query may send (Go's `ParseForm` allows 10 MB; an expression
    /// longer than this has more nodes than the parser accepts anyway).
    static let maximumBodyBytes = 1 << 20

    /// The rule engine, nil when no rules are evaluated.
    let engine: RuleEngine?
    let errors: ComponentErrors
    /// `--query.timeout`.
    let timeout: Duration
    /// `--query.max-samples`.
    let maximumSamples: Int
    /// `--query.max-concurrency`.
    let gate: QueryGate

    /// The warning every answer carries when no rules are evaluated.
    static let noHistoryWarning = "no rules are evaluated (--no-rules.defaults and no --rules.file), so no history is kept to query"

    /// The endpoint over `engine` (nil: no rules) with the query limits of `settings`.
    init(engine: RuleEngine?, errors: ComponentErrors, settings: RuleSettings) {
        self.engine = engine
        self.errors = errors
        self.timeout = settings.queryTimeout
        self.maximumSamples = settings.queryMaxSamples
        self.gate = QueryGate(limit: settings.queryMaxConcurrency)
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/query") { request, _ in
            await query(request)
        }
        router.post("/api/v1/query") { request, _ in
            await query(request)
        }
        router.get("/api/v1/alerts") { _, _ in
            alerts()
        }
        router.get("/api/v1/rules") { request, _ in
            rules(request)
        }
        AllowedMethods(allowed: [.get, .post]).refuseOthers(at: "/api/v1/query", on: router, errors: errors)
        AllowedMethods(allowed: [.get]).refuseOthers(at: "/api/v1/alerts", on: router, errors: errors)
        AllowedMethods(allowed: [.get]).refuseOthers(at: "/api/v1/rules", on: router, errors: errors)
    }

    func query(_ request: Request) async -> Response {
        let deadline = ContinuousClock.now + timeout
        let parameters: FormParameters
        switch await Self.parameters(of: request) {
        case .success(let found): parameters = found
        case .failure(let problem): return failure(.badRequest, "bad_data", problem.message)
        }
        guard let text = parameters["query"], !text.isEmpty else {
            return failure(.badRequest, "bad_data", "invalid parameter \"query\": the query is empty")
        }
        var time = CivilTime.nowMicroseconds() / 1000
        if let given = parameters["time"] {
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
        guard await gate.enter(before: deadline) else {
            return failure(.serviceUnavailable, "timeout", PromQLEvaluationError.timedOut(in: "query queue").message)
        }
        defer { gate.leave() }
        let result: PromQLResult
        do {
            let (engine, maximumSamples, evaluationTime) = (engine, maximumSamples, time)
            result = try await BlockingWork.run { () throws(PromQLEvaluationError) in
                let limits = PromQLLimits(deadline: deadline, maximumSamples: maximumSamples)
                guard let engine else {
                    return try PromQLQuery(expression).evaluate(at: evaluationTime, in: SeriesStore(), limits: limits)
                }
                return try engine.query(expression, at: evaluationTime, limits: limits)
            }
        } catch {
            if error.isTimeout { return failure(.serviceUnavailable, "timeout", error.message) }
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

    /// The request's parameters: a form body's, then the URL's (Go's `Request.Form`), or the
    /// reason they cannot be read.
    static func parameters(of request: Request) async -> Result<FormParameters, ParameterProblem> {
        do {
            var parameters = try FormParameters(query: request)
            let isForm = request.headers[.contentType].map {
                $0.split(separator: ";").first.map { $0.filter { $0 != " " && $0 != "\t" }.lowercased() } == "application/x-www-form-urlencoded"
            } ?? false
            if request.method == .post && isForm {
                let body: ByteBuffer
                do {
                    body = try await request.body.collect(upTo: maximumBodyBytes)
                } catch {
                    return .failure(ParameterProblem(message: "request body too large (more than \(maximumBodyBytes) bytes) or unreadable"))
                }
                let text = String(decoding: body.readableBytesView, as: UTF8.self)
                parameters = try FormParameters(decoding: Substring(text)).followed(by: parameters)
            }
            return .success(parameters)
        } catch {
            return .failure(ParameterProblem(message: "invalid parameters: \(error)"))
        }
    }

    func alerts() -> Response {
        var data = JSONObjectWriter()
        data.array("alerts", (engine?.activeAlerts() ?? []).sorted { $0.labels.lexicographicallyPrecedes($1.labels) }.map { alert in
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

    func rules(_ request: Request) -> Response {
        let type: String?
        do {
            type = try FormParameters(query: request)["type"]
        } catch {
            return failure(.badRequest, "bad_data", "invalid parameters: \(error)")
        }
        guard type == nil || type == "alert" || type == "record" else {
            return failure(.badRequest, "bad_data", "invalid parameter \"type\": must be alert or record, got \"\(type!)\"")
        }
        var data = JSONObjectWriter()
        data.array("groups", (engine?.loadedGroups() ?? []).map { group in
            var entry = JSONObjectWriter()
            entry.string("name", group.name)
            entry.string("file", group.file)
            entry.array("rules", group.rules.compactMap { rule, lastError in
                var item = JSONObjectWriter()
                item.string("name", rule.name)
                item.string("query", rule.expression)
                item.labels("labels", rule.labels.map { Label($0.key, $0.value) }.sorted())
                item.string("health", lastError == nil ? "ok" : "err")
                if let lastError { item.string("lastError", lastError) }
                switch rule.kind {
                case .alert(_, let forMilliseconds, let keepFiringMilliseconds, let annotations):
                    guard type != "record" else { return nil }
                    item.number("duration", Double(forMilliseconds) / 1000)
                    item.number("keepFiringFor", Double(keepFiringMilliseconds) / 1000)
                    item.labels("annotations", annotations.map { Label($0.key, $0.value) }.sorted())
                    item.string("type", "alerting")
                case .record:
                    guard type != "alert" else { return nil }
                    item.string("type", "recording")
                }
                return item.finished()
            })
            entry.number("interval", Double(group.intervalMilliseconds) / 1000)
            entry.integer("limit", Int64(group.limit))
            return entry.finished()
        })
        return success(data.finished())
    }

    private func success(_ data: [UInt8]) -> Response {
        var body = JSONObjectWriter()
        body.string("status", "success")
        body.raw("data", data)
        if engine == nil { body.strings("warnings", [Self.noHistoryWarning]) }
        return .json(.ok, body.finished())
    }

    private func failure(_ status: HTTPResponse.Status, _ type: String, _ message: String) -> Response {
        errors.record(.rules, type == "bad_data" ? .badQuery : type == "timeout" ? .timeout : .queryExecution)
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

/// Why a request's parameters could not be read: a bad escape, or a body too large.
struct ParameterProblem: Error {
    /// The one-line reason.
    var message: String
}

/// `--query.max-concurrency`: how many queries are evaluated at once. A query over the limit
/// waits for a turn until its deadline, as Prometheus' queries wait in its query queue.
final class QueryGate: Sendable {
    /// The most queries at once.
    let limit: Int
    private let running = Mutex(0)

    /// A gate letting `limit` queries through at once.
    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a turn, waiting until `deadline` at the most; false when none came in time.
    func enter(before deadline: ContinuousClock.Instant) async -> Bool {
        while true {
            let entered = running.withLock { count in
                guard count < limit else { return false }
                count += 1
                return true
            }
            if entered { return true }
            if ContinuousClock.now >= deadline { return false }
            // Queries run for milliseconds to seconds; a short poll costs nothing next to them.
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Gives the turn back.
    func leave() {
        running.withLock { $0 -= 1 }
    }
}
