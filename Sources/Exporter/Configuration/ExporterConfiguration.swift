import Collectors
import Logging
import MetricModel
import Shippers

/// Everything `lookout serve` runs with. Built from the embedded defaults, then the YAML file
/// (`--config.file`), then the command-line flags, each overriding the one before.
struct ExporterConfiguration: Sendable, Equatable {
    /// The default listen address. Port 10100 lies just past 9100–9999, the block of Prometheus'
    /// default port allocations that is fully taken, so it collides with no registered exporter.
    static let defaultListenAddress = ":10100"

    /// `--web.listen-address`: `host:port`, `:port` (all IPv4 interfaces) or `[v6]:port`.
    var listenAddress = ExporterConfiguration.defaultListenAddress
    /// `--web.telemetry-path`.
    var telemetryPath = "/metrics"
    /// `--web.max-requests`: scrapes served at once before answering 503; 0 disables the limit.
    var maxRequests = 40
    /// `--web.read-timeout`: how long a connection may send nothing (before its request's headers
    /// are complete, or between requests) before it is closed (Prometheus' flag and default).
    var readTimeout: Duration = .seconds(300)
    /// `--web.max-connections`: connections open at once; further ones wait to be accepted
    /// (Prometheus' flag and default).
    var maxConnections = 512
    /// `--web.config.file`: exporter-toolkit's web configuration (TLS, basic authentication,
    /// headers, rate limit); nil serves plain HTTP to anyone.
    var webConfigFile: String?
    /// `--web.disable-exporter-metrics` turns this off: the exporter's own `process_*` families.
    var exporterMetrics = true
    /// `--scrape.timeout`: how long a scrape waits for collectors. A shorter
    /// `X-Prometheus-Scrape-Timeout-Seconds` from Prometheus lowers it for that scrape.
    var scrapeTimeout: Duration = .seconds(10)
    /// `--log.level`.
    var logLevel: Logger.Level = .info
    /// `--collector.disable-defaults`: run only collectors enabled explicitly.
    var disableDefaults = false
    /// Explicit `--collector.NAME` (true) and `--no-collector.NAME` (false) choices.
    var collectorChoices: [String: Bool] = [:]
    /// Roots and per-collector options.
    var host = HostCollectorSettings()
    /// `--web.events-token-file`: the bearer token `POST /api/v1/events` requires; the events
    /// API (and its store under `--data.dir`) is off while this is unset.
    var eventsTokenFile: String?
    /// `--web.events-max-body-bytes`: the largest `POST /api/v1/events` body; larger gets 413.
    var eventsMaxBodyBytes = 1 << 20
    /// `--events.spool-dir`: where `lookout run` and `lookout event` leave events the daemon
    /// could not take; imported at start-up and every few seconds. Default `DATA_DIR/spool`.
    var eventsSpoolDirectory: String?
    /// `--events.retention`: events received longer ago are deleted (once shipped, when
    /// shipping is on); nil keeps them forever.
    var eventsRetention: Duration? = .seconds(90 * 86_400)
    /// `--data.dir`: where checkpoints, the dead-letter file and the event store live.
    var dataDirectory = "/var/lib/lookout"
    /// Reading the journal (`--journal.*`).
    var journal = JournalSettings()
    /// Alert rules and notifications (`--rules.*`, `--alertmanager.*`).
    var rules = RuleSettings()
    /// Shipping to Elasticsearch (`--elasticsearch.*`); off while `urls` is empty.
    var elasticsearch = ElasticsearchSettings(urls: [])
    /// `--elasticsearch.events-index`: the index pattern of pipeline events, dated from each
    /// event's own time.
    var eventsIndex = ElasticsearchSettings.defaultEventsIndexPattern
    /// Batch bounds for shipping (`--elasticsearch.batch-*`, `--elasticsearch.flush-interval`).
    var batchLimits = BatchLimits()
    /// `--elasticsearch.concurrency`: bulk requests in flight at once; cursors are still saved
    /// in order, so only a delivered prefix is ever checkpointed.
    var deliveryConcurrency = 2
    /// `--shutdown.grace-period`: how long SIGTERM waits for in-flight batches before the
    /// daemon exits anyway (what was not acknowledged is read again on the next start).
    var shutdownGracePeriod: Duration = .seconds(10)

    /// Whether the journal is read: asked for, or needed because shipping is on.
    var readsJournal: Bool { journal.enabled || !elasticsearch.urls.isEmpty }

    /// The cursor file: `--journal.cursor-file`, else `journal.cursor` in the data directory.
    var journalCursorFile: String { journal.cursorFile ?? dataDirectory + "/journal.cursor" }

    /// The dead-letter file: `--elasticsearch.dead-letter-file`, else in the data directory.
    var deadLetterFile: String { elasticsearch.deadLetterPath ?? dataDirectory + "/dead-letter.ndjson" }

    /// The spool directory: `--events.spool-dir`, else `spool` in the data directory.
    var spoolDirectory: String { eventsSpoolDirectory ?? dataDirectory + "/spool" }

    /// The dead-letter file of pipeline events: the journal's, with `-events` before its
    /// extension (`dead-letter-events.ndjson` by default), so each file has one writer.
    var eventsDeadLetterFile: String {
        let path = deadLetterFile
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/"), dot != path.startIndex,
              path[path.index(before: dot)] != "/" else { return path + "-events" }
        return String(path[..<dot]) + "-events" + String(path[dot...])
    }

    /// The host collectors that will run, in catalog order.
    var enabledSpecs: [HostCollectorSpec] {
        HostCollectors.catalog.filter { spec in
            collectorChoices[spec.name] ?? (spec.enabledByDefault && !disableDefaults)
        }
    }

    /// The names of the host collectors that will run, in catalog order.
    var enabledCollectors: [String] { enabledSpecs.map(\.name) }

    /// netdev's include and exclude patterns are mutually exclusive, as in node_exporter.
    /// `line` is where the YAML file set them, if it did.
    func checkNetdevDevices(line: Int? = nil) throws(ConfigurationError) {
        if host.netdevDeviceInclude != nil, host.netdevDeviceExclude != nil {
            throw ConfigurationError(
                key: "collector.netdev", line: line, message: "device-include and device-exclude are mutually exclusive")
        }
    }

    /// The microVM control sockets must give up before the scrape does, or one hung socket would
    /// cost every microvm family.
    func checkMicroVMSocketTimeout(line: Int? = nil) throws(ConfigurationError) {
        if host.microvmSocketTimeout >= scrapeTimeout {
            throw ConfigurationError(
                key: "collector.microvm.socket-timeout", line: line,
                message: "must be shorter than scrape.timeout (\(scrapeTimeout)), got \(host.microvmSocketTimeout)")
        }
    }

    /// Builds every enabled collector, counting their recoverable errors in `errors`; an invalid
    /// option surfaces as a `ConfigurationError` naming the setting.
    func makeCollectors(errors: ComponentErrors = ComponentErrors()) throws(ConfigurationError) -> [any MetricCollector] {
        var built: [any MetricCollector] = []
        for spec in enabledSpecs {
            do {
                built.append(try spec.make(host, errors))
            } catch {
                throw ConfigurationError(key: "collector.\(spec.name)", line: nil, message: "\(error)")
            }
        }
        return built
    }
}

/// `--journal.*`: which entries the daemon reads, and from where it starts.
struct JournalSettings: Sendable, Equatable {
    /// `--journal.enabled`: read (and count) the journal even when nothing ships it.
    var enabled = false
    /// Sources and filters.
    var selection = JournalSelection()
    /// `--journal.start`: `head`, `tail` (the default, as Filebeat's) or a time; a saved cursor wins.
    var start = JournalStart.tail
    /// `--journal.cursor-file`.
    var cursorFile: String?
    /// `--journal.max-units`: units with their own `unit` label in lookout_journal_entries_total.
    var maximumUnits = 100
}
