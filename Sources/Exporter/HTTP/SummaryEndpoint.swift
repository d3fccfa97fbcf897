#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import DaemonSummary
import LookoutSupport
import MetricModel
import PipelineEvents
import Shippers

/// `GET /api/v1/summary`: what `lookout summary` shows, as one JSON object (``Summary/json``):
/// the host, its microVMs, the latest pipeline runs, shipping to Elasticsearch and the units
/// logging the most errors. Served whether or not the events API is on (`runs` is then `null`);
/// reading it needs no token, as reading /metrics does not.
///
/// It is made from one scrape of every collector, so it says nothing the metrics do not. CPU
/// percentages are rates over the newest earlier reading 1 to 60 s old — the previous summary or
/// a Prometheus scrape (``SummaryHistory``); without one, the cpu and microvm collectors are read
/// again 250 ms later and the rate covers those 250 ms. Journal errors are counted over the last
/// 15 minutes (less while the daemon is younger). `?runs=N` (0–50, default 5) says how many runs
/// to list; any other query parameter is a 400 with a one-line JSON error.
struct SummaryEndpoint: Sendable {
    /// The route.
    static let path = "/api/v1/summary"
    /// Runs listed when `?runs` is not given.
    static let defaultRuns = 5
    /// The most runs `?runs` may ask for.
    static let maximumRuns = 50
    /// How long apart the two readings are when no earlier one can start a rate.
    static let sampleInterval: Duration = .milliseconds(250)

    /// The collectors summarised.
    let registry: CollectorRegistry
    /// Earlier readings, fed by every scrape.
    let history: SummaryHistory
    /// The pipeline runs, when the events API is on.
    let events: EventsEndpoint?
    /// The journal shipper's statistics, for its last error.
    let shipping: ElasticsearchStats?
    /// How long a scrape may take, `--scrape.timeout`.
    let scrapeTimeout: Duration
    /// The `--web.max-requests` gate /metrics uses: a summary costs a scrape.
    let limiter: ConcurrencyLimiter
    /// Where failures to read runs are logged.
    let logger: Logger

    /// Adds the route to `router`.
    func add(to router: Router<BasicRequestContext>) {
        router.get(RouterPath(Self.path)) { request, _ in
            await self.summary(request)
        }
        AllowedMethods(allowed: [.get]).refuseOthers(at: RouterPath(Self.path), on: router, errors: registry.errors)
    }

    /// Answers one request.
    func summary(_ request: Request) async -> Response {
        var runLimit = Self.defaultRuns
        let parameters: FormParameters
        do {
            parameters = try FormParameters(query: request)
        } catch {
            return refuse("\(error)")
        }
        for (name, value) in parameters.pairs {
            guard name == "runs" else {
                return refuse("unknown query parameter \"\(name)\"; the only one is runs")
            }
            guard let count = Int(value), (0...Self.maximumRuns).contains(count) else {
                return refuse("runs must be an integer from 0 to \(Self.maximumRuns), got \"\(value)\"")
            }
            runLimit = count
        }
        guard limiter.enter() else {
            registry.errors.record(.http, .tooManyRequests)
            return .problem(.serviceUnavailable, "limit of concurrent requests reached (\(limiter.limit)), try again later")
        }
        defer { limiter.leave() }

        let clock = ContinuousClock()
        let families = await registry.scrape(timeout: scrapeTimeout)
        let reading = CounterReading(families, at: clock.now)
        history.record(reading)
        var rates = history.rateInterval(to: reading)
        if rates == nil, reading.hostCPU != nil || reading.microVMCPU != nil {
            try? await Task.sleep(for: Self.sampleInterval)
            let names = Set(registry.collectors.map(\.name)).intersection(["cpu", "microvm"])
            let again = CounterReading(await registry.scrape(timeout: scrapeTimeout, selection: names), at: clock.now)
            history.record(again)
            rates = ReadingInterval(start: reading, end: again)
        }

        var runs: [PipelineRun]?
        var warnings = registry.failingCollectors.sorted().map { "collector \($0) is failing (see the daemon's log)" }
        if let events {
            do {
                runs = runLimit == 0 ? [] : try await events.recentRuns(limit: runLimit)
            } catch {
                registry.errors.emit(.events, .store, "cannot read pipeline runs for the summary", metadata: ["error": "\(error)"], to: logger)
                warnings.append("the pipeline runs cannot be read from the event store (see the daemon's log)")
            }
        }
        let summary = SummaryBuilder.summary(
            version: LookoutVersion.current, hostname: Self.hostname, time: CivilTime.nowMicroseconds(), families: families,
            rates: rates, errors: history.errorInterval(to: reading), lastShippingError: shipping?.lastError, runs: runs,
            warnings: warnings)
        return .json(.ok, summary.json)
    }

    private func refuse(_ message: String) -> Response {
        registry.errors.record(.http, .badRequest)
        return .problem(.badRequest, message)
    }

    /// The host's name, gethostname(2).
    static var hostname: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
