import ArgumentParser
import Collectors
import Shippers

/// The flags of `lookout serve` for reading the journal and shipping it to Elasticsearch.
/// Every flag is optional so that only the ones given override the configuration file.
struct LogShippingFlags: ParsableArguments {
    @OptionGroup var journal: JournalFlags

    @Flag(name: .customLong("journal.enabled"), inversion: .prefixedNo,
          help: "Read the journal and count its entries even when nothing ships them (default: only when --elasticsearch.url is set).")
    var journalEnabled: Bool?

    @Option(name: .customLong("journal.start"), parsing: .unconditional, help: "Where to start without a saved cursor: head, tail or a time (default tail).")
    var journalStart: String?

    @Option(name: .customLong("journal.cursor-file"), help: "Where the cursor of the last acknowledged entry is saved (default DATA_DIR/journal.cursor).")
    var journalCursorFile: String?

    @Option(name: .customLong("journal.max-units"), help: "Units with their own label in lookout_journal_entries_total; the rest count as other (default 100).")
    var journalMaximumUnits: Int?

    @Option(name: .customLong("data.dir"), help: "Directory for checkpoints and the dead-letter file (default /var/lib/lookout).")
    var dataDirectory: String?

    @Option(name: .customLong("elasticsearch.url"), help: "Elasticsearch node URL; repeatable, tried in turn on failure. Shipping is on when one is given.")
    var urls: [String] = []

    @Option(name: .customLong("elasticsearch.index"), help: "Index name pattern, dated from each document's own time (default lookout-logs-%Y.%m.%d).")
    var index: String?

    @Option(name: .customLong("elasticsearch.events-index"), help: "Index name pattern of pipeline events (default lookout-pipeline-%Y.%m.%d).")
    var eventsIndex: String?

    @Option(name: .customLong("elasticsearch.data-stream"), help: "Write to this data stream instead of dated indices.")
    var dataStream: String?

    @Option(name: .customLong("elasticsearch.basic-auth-file"), help: "File holding user:password for basic auth.")
    var basicAuthFile: String?

    @Option(name: .customLong("elasticsearch.api-key-file"), help: "File holding an API key (sent as Authorization: ApiKey).")
    var apiKeyFile: String?

    @Option(name: .customLong("elasticsearch.bearer-token-file"), help: "File holding a bearer token.")
    var bearerTokenFile: String?

    @Option(name: .customLong("elasticsearch.ca-file"), help: "CA certificates to verify the server with.")
    var caFile: String?

    @Option(name: .customLong("elasticsearch.cert-file"), help: "Client certificate for mutual TLS.")
    var certFile: String?

    @Option(name: .customLong("elasticsearch.key-file"), help: "Client key for mutual TLS.")
    var keyFile: String?

    @Flag(name: .customLong("elasticsearch.insecure-skip-verify"), help: "Do not verify the server's certificate (never in production).")
    var insecureSkipVerify = false

    @Flag(name: .customLong("elasticsearch.install-template"), inversion: .prefixedNo,
          help: "Install Lookout's index template on start-up (default: enabled).")
    var installTemplate: Bool?

    @Flag(name: .customLong("elasticsearch.gzip"), inversion: .prefixedNo, help: "Gzip request bodies (default: enabled).")
    var gzip: Bool?

    @Option(name: .customLong("elasticsearch.batch-size"), help: "Most documents per batch (default 5000).")
    var batchSize: Int?

    @Option(name: .customLong("elasticsearch.batch-bytes"), help: "Most JSON bytes per batch (default 8388608).")
    var batchBytes: Int?

    @Option(name: .customLong("elasticsearch.concurrency"), help: "Bulk requests in flight at once (default 2).")
    var concurrency: Int?

    @Option(name: .customLong("elasticsearch.flush-interval"), help: "Longest a partial batch waits, e.g. 1s (default 1s).")
    var flushInterval: String?

    @Option(name: .customLong("elasticsearch.timeout"), help: "Timeout of one bulk request (default 60s).")
    var timeout: String?

    @Option(name: .customLong("elasticsearch.dead-letter-file"), help: "NDJSON file for documents Elasticsearch refuses for good (default DATA_DIR/dead-letter.ndjson).")
    var deadLetterFile: String?

    @Option(name: .customLong("elasticsearch.backoff-initial"), help: "First retry delay (default 1s); doubles up to --elasticsearch.backoff-max, with jitter.")
    var backoffInitial: String?

    @Option(name: .customLong("elasticsearch.backoff-max"), help: "Longest retry delay (default 60s).")
    var backoffMax: String?

    @Option(name: .customLong("shutdown.grace-period"), help: "How long SIGTERM waits for in-flight batches (default 10s).")
    var gracePeriod: String?

    /// Overrides what these flags set in `configuration`.
    func apply(to configuration: inout ExporterConfiguration) throws(ConfigurationError) {
        try journal.apply(to: &configuration.journal.selection)
        if let journalEnabled { configuration.journal.enabled = journalEnabled }
        if let journalStart {
            configuration.journal.start = try SettingValue.checked(journalStart, flag: "--journal.start", SettingValue.journalStart)
        }
        if let journalCursorFile { configuration.journal.cursorFile = journalCursorFile }
        if let journalMaximumUnits {
            configuration.journal.maximumUnits = try Self.positive(journalMaximumUnits, flag: "--journal.max-units")
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }

        var settings = configuration.elasticsearch
        if !urls.isEmpty { settings.urls = urls }
        if let index { settings.target = .indexPattern(index) }
        if let dataStream { settings.target = .dataStream(dataStream) }
        if let eventsIndex { configuration.eventsIndex = eventsIndex }
        let credentials = [basicAuthFile.map(ElasticsearchSettings.Credentials.basicAuthFile),
                           apiKeyFile.map(ElasticsearchSettings.Credentials.apiKeyFile),
                           bearerTokenFile.map(ElasticsearchSettings.Credentials.bearerTokenFile)].compactMap { $0 }
        guard credentials.count <= 1 else {
            throw ConfigurationError(key: "--elasticsearch.{basic-auth,api-key,bearer-token}-file", line: nil,
                                     message: "give only one")
        }
        if let credential = credentials.first { settings.credentials = credential }
        if let caFile { settings.tls.caFile = caFile }
        if let certFile { settings.tls.clientCertificateFile = certFile }
        if let keyFile { settings.tls.clientKeyFile = keyFile }
        if insecureSkipVerify { settings.tls.insecureSkipVerify = true }
        if let gzip { settings.gzip = gzip }
        if let installTemplate { settings.installTemplate = installTemplate }
        if let timeout { settings.requestTimeout = try SettingValue.checked(timeout, flag: "--elasticsearch.timeout", SettingValue.duration) }
        if let deadLetterFile { settings.deadLetterPath = deadLetterFile }
        if let backoffInitial { settings.backoffInitial = try SettingValue.checked(backoffInitial, flag: "--elasticsearch.backoff-initial", SettingValue.duration) }
        if let backoffMax { settings.backoffMax = try SettingValue.checked(backoffMax, flag: "--elasticsearch.backoff-max", SettingValue.duration) }
        configuration.elasticsearch = settings

        if let batchSize { configuration.batchLimits.maximumDocuments = try Self.positive(batchSize, flag: "--elasticsearch.batch-size") }
        if let batchBytes { configuration.batchLimits.maximumBytes = try Self.positive(batchBytes, flag: "--elasticsearch.batch-bytes") }
        if let concurrency { configuration.deliveryConcurrency = try Self.positive(concurrency, flag: "--elasticsearch.concurrency") }
        if let flushInterval {
            configuration.batchLimits.flushInterval = try SettingValue.checked(flushInterval, flag: "--elasticsearch.flush-interval", SettingValue.duration)
        }
        if let gracePeriod { configuration.shutdownGracePeriod = try SettingValue.checked(gracePeriod, flag: "--shutdown.grace-period", SettingValue.duration) }
    }

    private static func positive(_ value: Int, flag: String) throws(ConfigurationError) -> Int {
        guard value > 0 else { throw ConfigurationError(key: flag, line: nil, message: "must be at least 1, got \(value)") }
        return value
    }
}
