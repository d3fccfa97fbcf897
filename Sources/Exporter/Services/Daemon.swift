import Collectors
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import DaemonSummary
import MetricModel
import Rules
import ServiceLifecycle
import Shippers

/// The version `lookout --version` prints and `lookout_build_info` reports.
enum LookoutVersion {
    /// Semantic version of this build.
    static let current = "0.1.0"
}

/// Builds the whole exporter from a configuration: the collectors, the registry and the HTTP
/// application. `lookout serve` runs what this returns; tests call it too.
enum Daemon {
    /// The services of `lookout serve`, in start-up order: the HTTP application, then journal
    /// shipping when the configuration reads the journal, then, with the events API, its spool
    /// import and retention, and event shipping when Elasticsearch is configured, then rule
    /// evaluation and Alertmanager notifications, then, when the daemon ships, heap trimming. The
    /// service group stops them in reverse: shipping flushes before the endpoint closes.
    static func build(
        _ configuration: ExporterConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws(ConfigurationError) -> [any Service] {
        let errors = ComponentErrors()
        // One set of shipping statistics for the journal and the events: one series per family.
        let shippingStats = ElasticsearchStats()
        let ships = !configuration.elasticsearch.urls.isEmpty
        let journal = try JournalShipping.make(configuration, stats: shippingStats, errors: errors, logger: logger)
        let events = try EventsEndpoint.make(configuration, errors: errors, logger: logger)
        let eventShipping = try events.flatMap { (endpoint: EventsEndpoint) throws(ConfigurationError) in
            try EventShipping.make(configuration, store: endpoint.store, arrivals: endpoint.arrivals, stats: shippingStats,
                                   errors: errors, logger: logger)
        }
        let maintenance = try events.map { (endpoint: EventsEndpoint) throws(ConfigurationError) in
            try EventHousekeeping.make(configuration, endpoint: endpoint, logger: logger)
        }
        var collectors = try configuration.makeCollectors(errors: errors) + (journal?.collectors ?? [])
        if let events, let maintenance {
            collectors += [events.counters, events.statistics, maintenance.counts] as [any MetricCollector]
        }
        if ships { collectors.append(ShipperStatistics(stats: shippingStats)) }
        if let eventShipping { collectors.append(EventShippingStatistics(store: eventShipping.store)) }
        let parallelism = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        // The rule engine records what the endpoint serves, through a registry of its own (it
        // cannot scrape itself), and is then one more collector of the endpoint's.
        var rules: RuleEngine?
        var notifier: AlertNotifier?
        if configuration.rules.evaluates {
            let groups: [(group: RuleGroup, file: String)]
            do {
                groups = try RuleEngine.loadGroups(defaults: configuration.rules.defaults, patterns: configuration.rules.files)
            } catch {
                throw ConfigurationError(key: "rules.file", line: nil, message: error.message)
            }
            if !configuration.rules.alertmanagerURLs.isEmpty {
                notifier = AlertNotifier(urls: configuration.rules.alertmanagerURLs, timeout: configuration.rules.alertmanagerTimeout,
                                         logger: logger)
            }
            let historyRegistry = CollectorRegistry(
                collectors: collectors, constantFamilies: [buildInfo()], parallelism: parallelism, errors: errors, logger: logger)
            let labels = try targetLabels(configuration)
            do {
                rules = try RuleEngine(groups: groups, settings: configuration.rules.engine, registry: historyRegistry, notifier: notifier,
                                       scrapeTimeout: configuration.scrapeTimeout, targetLabels: labels, logger: logger)
            } catch {
                throw ConfigurationError(key: "rules.file", line: nil, message: error.description)
            }
            collectors += ([rules, notifier] as [(any MetricCollector)?]).compactMap { $0 }
        }
        declareErrors(errors, configuration: configuration, journal: journal != nil, events: events != nil)
        let exporterMetrics = configuration.exporterMetrics
        let registry = CollectorRegistry(
            collectors: collectors, constantFamilies: [buildInfo()],
            exporterFamilies: { exporterMetrics ? ProcessMetrics.families() : [] },
            parallelism: parallelism, errors: errors, logger: logger)
        let application = try build(
            configuration, registry: registry, events: events, rules: rules, shipping: ships ? shippingStats : nil, logger: logger,
            onServerRunning: onServerRunning)
        let eventServices: [any Service] = (maintenance.map { [$0] } ?? []) + (eventShipping.map { [$0] } ?? [])
        let ruleServices = ([rules, notifier] as [(any Service)?]).compactMap { $0 }
        // Shipping is what allocates in bursts (bulk batches of megabytes); a scrape-only daemon's
        // heap stays small.
        let trimming: [any Service] = ships ? [HeapTrimming(logger: logger)] : []
        return [application] + (journal.map { [$0.service] } ?? []) + eventServices + ruleServices + trimming
    }

    /// Declares the `lookout_component_errors_total` series of the components this configuration
    /// runs, each at 0 until its first error: the kinds a healthy daemon can meet any day (a
    /// refused request, an unreachable Elasticsearch, a corrupt journal entry). Rarer kinds
    /// appear when first counted.
    private static func declareErrors(_ errors: ComponentErrors, configuration: ExporterConfiguration, journal: Bool, events: Bool) {
        errors.declare(.http, [.badRequest, .methodNotAllowed, .tooManyRequests, .accept]
                       + (configuration.webConfigFile == nil ? [] : [.unauthorized, .tls, .webConfig]))
        if configuration.rules.evaluates { errors.declare(.rules, [.badQuery, .queryExecution, .timeout]) }
        if events { errors.declare(.events, [.badRequest, .unauthorized, .tooLarge, .store, .spoolRejected]) }
        if journal { errors.declare(.journal, [.badMessage, .badCursor, .checkpointWrite]) }
        if !configuration.elasticsearch.urls.isEmpty {
            errors.declare(.elasticsearch, [.connection, .serverError, .tooManyRequests, .itemRetried, .documentRejected])
        }
    }

    /// The HTTP application over a given registry: /metrics, `GET /api/v1/summary` (which shows
    /// `shipping`'s last error), the events API when `events` is given, and the query and alerts
    /// API (over `rules`' history, or over nothing with a warning). Tests pass registries of their
    /// own collectors.
    static func build(
        _ configuration: ExporterConfiguration, registry: CollectorRegistry, events: EventsEndpoint? = nil,
        rules: RuleEngine? = nil, shipping: ElasticsearchStats? = nil, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws(ConfigurationError) -> some ApplicationProtocol {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: configuration.listenAddress)
        } catch {
            throw ConfigurationError(key: "web.listen-address", line: nil, message: error.message)
        }
        let security = try configuration.webConfigFile.map { (path: String) throws(ConfigurationError) in
            try WebSecurity(path: path, errors: registry.errors)
        }
        let history = SummaryHistory()
        let endpoint = MetricsEndpoint(registry: registry, configuration: configuration, history: history, logger: logger)
        let router = endpoint.router(security: security.map { WebSecurityMiddleware(security: $0, logger: logger) })
        SummaryEndpoint(registry: registry, history: history, events: events, shipping: shipping, scrapeTimeout: configuration.scrapeTimeout,
                        limiter: endpoint.limiter, logger: logger).add(to: router)
        events?.add(to: router)
        RulesEndpoint(engine: rules, errors: registry.errors, settings: configuration.rules).add(to: router)
        // --web.read-timeout closes a connection that sends nothing for that long, a half-sent
        // request's headers included; --web.max-connections stops accepting past the limit.
        let readTimeout = TimeAmount.nanoseconds(Int64(configuration.readTimeout.seconds * 1e9))
        let http = HTTP1Channel.Configuration(idleTimeout: readTimeout)
        // A web configuration that asks for TLS at start makes this a TLS listener.
        let server = if let security, security.servesTLS {
            HTTPServerBuilder { responder in SecuredChannel(base: HTTP1Channel(responder: responder, configuration: http), security: security) }
        } else {
            HTTPServerBuilder.http1(configuration: http)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(
                address: .hostname(address.host, port: address.port), serverName: "lookout",
                availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let errors = registry.errors
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(AcceptFailures(errors: errors, logger: logger), position: .first)
                }.get()
                await onServerRunning(channel)
            },
            logger: logger)
    }
}

extension Daemon {
    /// The labels a Prometheus scrape of this daemon would add: `job="lookout"` and
    /// `instance="HOSTNAME:PORT"`.
    static func targetLabels(_ configuration: ExporterConfiguration) throws(ConfigurationError) -> [Label] {
        let port: Int
        do {
            port = try ListenAddress(parsing: configuration.listenAddress).port
        } catch {
            throw ConfigurationError(key: "web.listen-address", line: nil, message: error.message)
        }
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "localhost"
        return [Label("instance", "\(host):\(port)"), Label("job", "lookout")]
    }

    /// `lookout_build_info{swiftversion,version}` = 1, the exporter's own identity, as
    /// node_exporter reports `node_exporter_build_info`.
    static func buildInfo() -> MetricFamily {
        #if compiler(>=6.3)
        let swiftVersion = "6.3"
        #elseif compiler(>=6.2)
        let swiftVersion = "6.2"
        #elseif compiler(>=6.1)
        let swiftVersion = "6.1"
        #else
        let swiftVersion = "6.0"
        #endif
        return MetricFamily(
            name: "lookout_build_info",
            help: "A metric with a constant '1' value labeled by version and the Swift compiler that built lookout.",
            type: .gauge,
            samples: [Sample(labels: [Label("swiftversion", swiftVersion), Label("version", LookoutVersion.current)], value: 1)])
    }
}
