import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import DaemonSummary
import MetricModel
import Synchronization
import Zlib

/// The HTTP face of the exporter: `GET <telemetry path>` answers a scrape, `GET /` a landing page.
///
/// A scrape negotiates its format (`Accept`) and compression (`Accept-Encoding`), honours
/// Prometheus' `X-Prometheus-Scrape-Timeout-Seconds`, and may pick collectors with node_exporter's
/// `collect[]` / `exclude[]` query parameters. More than `maxRequests` scrapes at once get 503,
/// as node_exporter's `--web.max-requests`.
struct MetricsEndpoint: Sendable {
    /// The collectors a scrape runs.
    let registry: CollectorRegistry
    /// Where metrics are served, `--web.telemetry-path`.
    let telemetryPath: String
    /// The longest a scrape waits for collectors, `--scrape.timeout`.
    let scrapeTimeout: Duration
    /// The `--web.max-requests` gate.
    let limiter: ConcurrencyLimiter
    /// Where refused requests are logged.
    let logger: Logger
    /// The names `collect[]` and `exclude[]` may use.
    let knownCollectors: Set<String>
    /// Where each scrape leaves the counters `GET /api/v1/summary` takes rates over.
    let history: SummaryHistory
    private let loggedErrorTypes = FirstOccurrences()

    /// An endpoint over `registry` with the web and scrape settings of `configuration`, feeding
    /// `history` with every scrape.
    init(registry: CollectorRegistry, configuration: ExporterConfiguration, history: SummaryHistory, logger: Logger) {
        self.registry = registry
        self.telemetryPath = configuration.telemetryPath
        self.scrapeTimeout = configuration.scrapeTimeout
        self.limiter = ConcurrencyLimiter(limit: configuration.maxRequests)
        self.knownCollectors = Set(registry.collectors.map(\.name))
        self.history = history
        self.logger = logger
    }

    /// The router serving the telemetry path and the landing page.
    func router(security: WebSecurityMiddleware? = nil) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        // First, so that it stands before every route and the not-found answer.
        if let security { router.add(middleware: security) }
        router.get(RouterPath(telemetryPath)) { request, _ in
            await self.scrape(request)
        }
        router.head(RouterPath(telemetryPath)) { request, _ in
            // A liveness probe: the headers a scrape would get, without running the collectors.
            let format = ExpositionFormat.negotiate(accept: request.headers[.accept])
            return Response(status: .ok, headers: [.contentType: format.contentType])
        }
        AllowedMethods(allowed: [.get, .head]).refuseOthers(at: RouterPath(telemetryPath), on: router, errors: registry.errors)
        if telemetryPath != "/" {
            router.get("/") { _, _ in self.landingPage() }
            router.head("/") { _, _ in
                Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"])
            }
            AllowedMethods(allowed: [.get, .head]).refuseOthers(at: "/", on: router, errors: registry.errors)
        }
        return router
    }

    private static let scrapeTimeoutHeader = HTTPField.Name("X-Prometheus-Scrape-Timeout-Seconds")!

    /// Answers one scrape.
    func scrape(_ request: Request) async -> Response {
        guard limiter.enter() else {
            report(.tooManyRequests, "refused a scrape over --web.max-requests")
            return plainResponse(.serviceUnavailable, "Limit of concurrent requests reached (\(limiter.limit)), try again later.\n")
        }
        defer { limiter.leave() }

        let selection: Set<String>?
        let parameters: FormParameters
        do {
            parameters = try FormParameters(query: request)
        } catch {
            report(.badRequest, "\(error)")
            return plainResponse(.badRequest, "Invalid query: \(error).\n")
        }
        switch CollectorSelection.parse(parameters, known: knownCollectors) {
        case .success(let names): selection = names
        case .failure(let error):
            report(.badRequest, error.message)
            return plainResponse(.badRequest, error.message + "\n")
        }

        var timeout = scrapeTimeout
        if let header = request.headers[Self.scrapeTimeoutHeader] {
            guard let seconds = Double(header), seconds.isFinite, seconds > 0 else {
                report(.badRequest, "invalid X-Prometheus-Scrape-Timeout-Seconds \"\(header)\"")
                return plainResponse(.badRequest, "Invalid X-Prometheus-Scrape-Timeout-Seconds \"\(header)\": expected a positive number of seconds.\n")
            }
            // Leave Prometheus half a second to receive the body before its own deadline.
            let allowed = max(seconds - 0.5, 0.1)
            if allowed < timeout.seconds { timeout = .milliseconds(Int64(allowed * 1000)) }
        }

        let families = await registry.scrape(timeout: timeout, selection: selection)
        history.record(CounterReading(families, at: .now))
        let format = ExpositionFormat.negotiate(accept: request.headers[.accept])
        var body = ExpositionEncoder(format: format).encode(families)
        var headers: HTTPFields = [.contentType: format.contentType]
        if ContentCoding.negotiate(acceptEncoding: request.headers[.acceptEncoding]) == .gzip {
            body = Gzip.compress(body, level: Gzip.scrapeLevel)
            headers[.contentEncoding] = "gzip"
        }
        headers[.vary] = "Accept, Accept-Encoding"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// Counts an HTTP error and logs it: at warning level the first time its type occurs, at
    /// debug level after that, so a misbehaving client cannot flood the log.
    private func report(_ errorType: ErrorType, _ message: String) {
        let first = loggedErrorTypes.isFirst(errorType.name)
        registry.errors.emit(.http, errorType, "request refused", level: first ? .warning : .debug, metadata: ["error": "\(message)"],
                             to: logger)
    }

    private func landingPage() -> Response {
        let html = """
            <!DOCTYPE html>
            <html><head><title>Lookout</title></head>
            <body><h1>Lookout</h1><p>Host and microVM metrics exporter.</p>
            <p><a href="\(telemetryPath)">Metrics</a></p></body></html>

            """
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    private func plainResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Remembers which keys have been seen, to log the first of a kind loudly.
final class FirstOccurrences: Sendable {
    private let seen = Mutex<Set<String>>([])

    /// True the first time `key` is passed, false ever after.
    func isFirst(_ key: String) -> Bool {
        seen.withLock { $0.insert(key).inserted }
    }
}

/// Counts scrapes in flight and refuses those above the limit (0 = unlimited).
final class ConcurrencyLimiter: Sendable {
    /// The most scrapes served at once.
    let limit: Int
    private let inFlight = Atomic<Int>(0)

    /// A limiter allowing `limit` scrapes at once (0 = unlimited).
    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot; false when all are taken.
    func enter() -> Bool {
        let now = inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
        if limit > 0, now > limit {
            inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            return false
        }
        return true
    }

    /// Gives a slot back.
    func leave() {
        inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }
}

/// node_exporter's scrape-time collector filter: `collect[]=cpu&collect[]=meminfo` keeps those,
/// `exclude[]=textfile` drops that one; both at once, or an unknown name, is a 400.
enum CollectorSelection {
    /// Why a selection was refused, as the 400 body says it.
    struct Problem: Error {
        /// The one-line reason.
        var message: String
    }

    /// The collectors the query asks for: nil for all of `known`, or the problem with it.
    static func parse(_ query: FormParameters, known: Set<String>) -> Result<Set<String>?, Problem> {
        let collect = query.values("collect[]")
        let exclude = query.values("exclude[]")
        if !collect.isEmpty, !exclude.isEmpty {
            return .failure(Problem(message: "Combined collect and exclude queries are not allowed."))
        }
        for name in collect + exclude where !known.contains(name) {
            return .failure(Problem(message: "Unknown or disabled collector \"\(name)\"; enabled: \(known.sorted().joined(separator: ", "))."))
        }
        if !collect.isEmpty { return .success(Set(collect)) }
        if !exclude.isEmpty { return .success(known.subtracting(exclude)) }
        return .success(nil)
    }
}
