import Collectors
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import LookoutSupport
import MetricModel
import PipelineEvents
import Synchronization

/// `POST /api/v1/events`: a pipeline reports what happened, one JSON event or an NDJSON batch.
///
/// The request needs the token of `--web.events-token-file` (compared in constant time), as
/// `Authorization: Bearer <token>` or, beside basic authentication, `Lookout-Events-Token: <token>`. The whole body is checked before anything is stored: one bad
/// event refuses the batch with 400 and a body naming the line, the field and the problem. The
/// events are committed to the store before the 200 answer, which says how many were new and how
/// many were already stored under their ids. Every refusal counts in
/// `lookout_component_errors_total{component="events"}`; the daemon keeps serving.
struct EventsEndpoint: Sendable {
    /// Where events are kept.
    let store: EventStore
    /// The token a request must present.
    let token: String
    /// The largest body accepted.
    let maxBodyBytes: Int
    /// Refusals by type.
    let errors: ComponentErrors
    /// Events received, by result.
    let counters: EventCounters
    /// The `pipeline_*` families, fed with every newly stored event.
    let statistics: PipelineStatistics
    /// Rung when new events are stored, for shipping.
    let arrivals = EventArrivals()
    /// Where store failures are logged.
    let logger: Logger

    /// The path events are posted to.
    static let path = "/api/v1/events"

    /// The endpoint for `configuration`, or nil while the events API is off (no token file).
    /// Throws when the token file or the store cannot serve.
    static func make(_ configuration: ExporterConfiguration, errors: ComponentErrors, logger: Logger) throws(ConfigurationError) -> EventsEndpoint? {
        guard let tokenFile = configuration.eventsTokenFile else { return nil }
        let token: String
        do {
            token = try SecretFile.read(tokenFile, what: "events token")
        } catch {
            throw ConfigurationError(key: "web.events-token-file", line: nil, message: error.description)
        }
        let store: EventStore
        do {
            store = try EventStore(directory: configuration.dataDirectory)
        } catch {
            throw ConfigurationError(key: "data.dir", line: nil, message: error.description)
        }
        // The statistics are rebuilt from every stored event, so counters survive a restart.
        let statistics = PipelineStatistics()
        do {
            var seq: Int64 = 0
            while true {
                let page = try store.events(after: seq, limit: 10_000)
                guard let last = page.last else { break }
                statistics.add(page.map(\.event))
                seq = last.seq
            }
        } catch {
            throw ConfigurationError(key: "data.dir", line: nil, message: error.description)
        }
        return EventsEndpoint(store: store, token: token, maxBodyBytes: configuration.eventsMaxBodyBytes, errors: errors,
                              counters: EventCounters(), statistics: statistics, logger: logger)
    }

    /// Adds the routes to `router`: `POST /api/v1/events`, and `GET /api/v1/runs` (newest first;
    /// `?pipeline=P`, `?limit=N` up to 500, default 20) and `GET /api/v1/runs/{run id}`
    /// (`?pipeline=P` when run ids repeat across pipelines). Reading runs needs no token, as
    /// reading /metrics does not.
    func add(to router: Router<BasicRequestContext>) {
        router.post(RouterPath(Self.path)) { request, _ in
            await self.receive(request)
        }
        router.get("/api/v1/runs") { request, _ in
            await self.runs(request)
        }
        router.get("/api/v1/runs/:id") { request, context in
            await self.run(request, rawID: context.parameters.get("id") ?? "")
        }
        AllowedMethods(allowed: [.post]).refuseOthers(at: RouterPath(Self.path), on: router, errors: errors)
        AllowedMethods(allowed: [.get]).refuseOthers(at: "/api/v1/runs", on: router, errors: errors)
        AllowedMethods(allowed: [.get]).refuseOthers(at: "/api/v1/runs/:id", on: router, errors: errors)
    }

    /// How long a run may go without events before it is stale (as the statistics judge it).
    private var staleAfter: Int64 { statistics.staleAfter }

    /// Answers `GET /api/v1/runs`.
    func runs(_ request: Request) async -> Response {
        let query: FormParameters
        do {
            query = try FormParameters(query: request)
        } catch {
            errors.record(.events, .badRequest)
            return .problem(.badRequest, "\(error)")
        }
        let pipeline = query["pipeline"]
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...500).contains(value) else {
                errors.record(.events, .badRequest)
                return .problem(.badRequest, "limit must be an integer from 1 to 500, got \"\(text)\"")
            }
            limit = value
        }
        do {
            var body = JSONObjectWriter()
            body.array("runs", try await recentRuns(pipeline: pipeline, limit: limit).map(\.json))
            return .json(.ok, body.finished())
        } catch {
            return storeFailure(error)
        }
    }

    /// The latest `limit` runs (of `pipeline`, or of all pipelines), newest first.
    func recentRuns(pipeline: String? = nil, limit: Int) async throws(EventStoreError) -> [PipelineRun] {
        let runs = try await BlockingWork.run { [store] () throws(EventStoreError) in try store.recentRuns(pipeline: pipeline, limit: limit) }
        let now = CivilTime.nowMicroseconds()
        return runs.compactMap { PipelineRun.derive($0, now: now, staleAfter: staleAfter) }
    }

    /// Answers `GET /api/v1/runs/{id}`; the id is percent-decoded, as Go's router decodes a path.
    func run(_ request: Request, rawID: String) async -> Response {
        let id: String
        let pipeline: String?
        do {
            id = try PercentEncoding.decodedPathSegment(Substring(rawID))
            pipeline = try FormParameters(query: request)["pipeline"]
        } catch {
            errors.record(.events, .badRequest)
            return .problem(.badRequest, "\(error)")
        }
        do {
            let events = try await BlockingWork.run { [store] () throws(EventStoreError) in try store.run(pipeline: pipeline, runID: id) }
            guard let run = PipelineRun.derive(events, now: CivilTime.nowMicroseconds(), staleAfter: staleAfter) else {
                return .problem(.notFound, "no run \(id)" + (pipeline.map { " of pipeline \($0)" } ?? ""))
            }
            return .json(.ok, run.json)
        } catch {
            return storeFailure(error)
        }
    }

    private func storeFailure(_ error: EventStoreError) -> Response {
        errors.emit(.events, .store, "cannot read pipeline runs", metadata: ["error": "\(error)"], to: logger)
        return .problem(.serviceUnavailable, "the event store cannot be read")
    }

    /// Answers one POST.
    func receive(_ request: Request) async -> Response {
        guard authorized(request.headers) else {
            errors.record(.events, .unauthorized)
            return .problem(.unauthorized, "missing or wrong bearer token", headers: [.wwwAuthenticate: "Bearer"])
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            errors.record(.events, .tooLarge)
            return .problem(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            errors.record(.events, .tooLarge)
            return .problem(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        let received = CivilTime.nowMicroseconds()
        let events: [PipelineEvent]
        switch Self.decode(Array(buffer: body), receivedAt: received) {
        case .failure(let refused):
            errors.record(.events, .badRequest)
            return .problem(.badRequest, refused.message)
        case .success(let decoded):
            events = decoded
        }
        let outcome: (stored: Int, duplicates: Int)
        do {
            outcome = try await commit(events, receivedAt: received)
        } catch {
            errors.emit(.events, .store, "cannot store pipeline events", metadata: ["error": "\(error)"], to: logger)
            return .problem(.serviceUnavailable, "the events could not be stored; send them again")
        }
        return .json(.ok, Array(#"{"stored":\#(outcome.stored),"duplicates":\#(outcome.duplicates)}"#.utf8))
    }

    /// Stores `events` durably, counts them, feeds the new ones to the statistics and wakes
    /// shipping; returns how many were new and how many were stored already.
    func commit(_ events: [PipelineEvent], receivedAt received: Int64) async throws(EventStoreError) -> (stored: Int, duplicates: Int) {
        let stored = try await BlockingWork.run { [store] () throws(EventStoreError) in try store.append(events, receivedAt: received) }
        let new = stored.filter { $0 }.count
        counters.add(stored: new, duplicates: stored.count - new)
        statistics.add(zip(events, stored).filter(\.1).map(\.0))
        if new > 0 { arrivals.ring() }
        return (new, stored.count - new)
    }

    /// The events in a body: one JSON object (which may span lines), or one object per line.
    /// The first bad event refuses them all, named by its line.
    static func decode(_ body: [UInt8], receivedAt: Int64) -> Result<[PipelineEvent], RefusedEvents> {
        let newID = EventDelivery.newID
        if let whole = try? JSONValue.parse(body), case .object = whole {
            do throws(EventError) {
                return .success([try PipelineEvent.decode(whole, receivedAt: receivedAt, newID: newID)])
            } catch {
                return .failure(RefusedEvents(message: error.description))
            }
        }
        var events: [PipelineEvent] = []
        for (number, line) in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                let json = try JSONValue.parse(line)
                events.append(try PipelineEvent.decode(json, receivedAt: receivedAt, newID: newID))
            } catch {
                return .failure(RefusedEvents(message: "line \(number + 1): \(error)"))
            }
        }
        guard !events.isEmpty else { return .failure(RefusedEvents(message: "no events in the body")) }
        return .success(events)
    }

    /// Whether the request carries the token: in `Lookout-Events-Token`, or as
    /// `Authorization: Bearer` when that header is not taken by basic authentication.
    private func authorized(_ headers: HTTPFields) -> Bool {
        if let presented = headers[Self.tokenHeader] { return SecretFile.matches(presented.utf8, secret: token) }
        guard let header = headers[.authorization], header.utf8.count > 7, header.lowercased().hasPrefix("bearer ") else { return false }
        return SecretFile.matches(header.utf8.dropFirst(7), secret: token)
    }

    /// The header that carries the events token beside basic authentication.
    static let tokenHeader = HTTPField.Name("Lookout-Events-Token")!
}

extension Response {
    /// `{"error": "…"}` with `status`: how the JSON API refuses a request, in one line.
    static func problem(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        var body = JSONObjectWriter()
        body.string("error", message)
        var response = json(status, body.finished())
        response.headers.append(contentsOf: headers)
        return response
    }

    /// `body`, JSON text, as one line with `status`.
    static func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: body + [0x0A])))
    }
}

/// Why a body's events were refused: one line naming the line, the field and the problem.
struct RefusedEvents: Error {
    /// The message the 400 answer carries.
    var message: String
}

/// Counts of events received, served as `lookout_events_received_total{result}`.
final class EventCounters: MetricCollector, Sendable {
    /// The collector's name.
    let name = "events"
    private let counts = Mutex((stored: UInt64(0), duplicates: UInt64(0)))

    /// Adds one request's outcome.
    func add(stored: Int, duplicates: Int) {
        counts.withLock { $0.stored += UInt64(stored); $0.duplicates += UInt64(duplicates) }
    }

    func collect() throws -> [MetricFamily] {
        let (stored, duplicates) = counts.withLock { ($0.stored, $0.duplicates) }
        return [MetricFamily(
            name: "lookout_events_received_total",
            help: "Pipeline events received through the events API: stored, or already stored under their id.",
            type: .counter,
            samples: [Sample(labels: [Label("result", "duplicate")], value: Double(duplicates)),
                      Sample(labels: [Label("result", "stored")], value: Double(stored))])]
    }
}
