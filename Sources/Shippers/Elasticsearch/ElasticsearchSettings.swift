import Curl

/// Where and how `ElasticsearchShipper` sends documents. Every field but `urls` has a default;
/// `ElasticsearchShipper.init` validates the whole and reads the credential files.
package struct ElasticsearchSettings: Sendable, Equatable {
    /// Where documents go: dated indices or one data stream.
    package enum Target: Sendable, Equatable {
        /// An index name pattern; `%Y`, `%m`, `%d`, `%H` (and `%%`) are replaced from each
        /// document's own timestamp in UTC, so a retry always lands in the same index.
        case indexPattern(String)
        /// A data stream name, used as every document's `_index` (data streams accept only `create`).
        case dataStream(String)
    }

    /// How requests authenticate. Each secret is read from a file, trimmed of trailing line
    /// breaks, and never logged nor put into an error message.
    package enum Credentials: Sendable, Equatable {
        /// No `Authorization` header (credentials in the URL still work, and are never logged).
        case none
        /// A file holding `user:password`, sent as HTTP basic authentication.
        case basicAuthFile(String)
        /// A file holding an encoded API key, sent as `Authorization: ApiKey <content>`.
        case apiKeyFile(String)
        /// A file holding a token, sent as `Authorization: Bearer <content>`.
        case bearerTokenFile(String)
    }

    /// TLS material for `https://` URLs; certificate verification is on unless switched off.
    /// The transport's own options type, handed to libcurl as is.
    package typealias TLS = TLSOptions

    /// The default index pattern, one index per UTC day.
    static let defaultIndexPattern = "lookout-logs-%Y.%m.%d"
    /// The default index pattern of pipeline events, one index per UTC day.
    package static let defaultEventsIndexPattern = "lookout-pipeline-%Y.%m.%d"

    /// Base URLs of the cluster's nodes (`http://host:9200`); requests go to one node and move to
    /// the next, round-robin, after a connection error, a timeout or a 5xx.
    package var urls: [String]
    /// Dated indices or a data stream; default `.indexPattern("lookout-logs-%Y.%m.%d")`.
    package var target: Target
    /// The name `prepare()` installs the index template under; default `lookout-logs`.
    package var templateName: String
    /// Which documents are shipped, for the index template's mappings; default `.journal`.
    package var schema: DocumentSchema = .journal
    /// Whether `prepare()` installs the index template; off when the cluster's templates are
    /// managed elsewhere (Filebeat's `setup.template.enabled: false`). Default `true`.
    package var installTemplate = true
    /// How requests authenticate; default `.none`.
    package var credentials: Credentials
    /// TLS material; default: verify against the system CA store.
    package var tls: TLS
    /// Whether request bodies are gzip-compressed (`Content-Encoding: gzip`); default `true`.
    package var gzip: Bool
    /// The gzip level, 1 (fastest, Beats' default) to 9; default 1.
    var gzipLevel: Int
    /// The largest uncompressed bulk body sent in one request; larger batches are split. Default
    /// 10 MiB, well below Elasticsearch's 100 MB `http.max_content_length` (which applies to the
    /// uncompressed body).
    var maxBulkBytes: Int
    /// The limit for one whole request; default 60 s.
    package var requestTimeout: Duration
    /// The limit for connecting to a node; default 10 s.
    package var connectTimeout: Duration
    /// Where documents Elasticsearch refuses for good are appended, one NDJSON line each; `nil`
    /// (the default) only logs and counts them.
    package var deadLetterPath: String?
    /// The dead-letter file's size limit; past it the file is renamed to `PATH.1` (replacing the
    /// previous one) and a new file starts. Default 100 MiB.
    var deadLetterMaxBytes: Int
    /// The first retry's backoff ceiling; default 1 s. Each retry doubles it up to `backoffMax`,
    /// and the actual wait is uniformly random below the ceiling ("full jitter").
    package var backoffInitial: Duration
    /// The largest backoff ceiling; default 60 s.
    package var backoffMax: Duration

    /// Creates settings for the cluster at `urls`, with every other field at its default.
    package init(
        urls: [String],
        target: Target = .indexPattern(ElasticsearchSettings.defaultIndexPattern),
        templateName: String = "lookout-logs",
        credentials: Credentials = .none,
        tls: TLS = TLS(),
        gzip: Bool = true,
        gzipLevel: Int = 1,
        maxBulkBytes: Int = 10 * 1024 * 1024,
        requestTimeout: Duration = .seconds(60),
        connectTimeout: Duration = .seconds(10),
        deadLetterPath: String? = nil,
        deadLetterMaxBytes: Int = 100 * 1024 * 1024,
        backoffInitial: Duration = .seconds(1),
        backoffMax: Duration = .seconds(60)
    ) {
        self.urls = urls
        self.target = target
        self.templateName = templateName
        self.credentials = credentials
        self.tls = tls
        self.gzip = gzip
        self.gzipLevel = gzipLevel
        self.maxBulkBytes = maxBulkBytes
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.deadLetterPath = deadLetterPath
        self.deadLetterMaxBytes = deadLetterMaxBytes
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
    }
}

/// The kinds of document Lookout ships; each gets the mappings of its own fields.
package enum DocumentSchema: Sendable, Equatable {
    /// Journal entries (`journald.*`, `systemd.*`, ECS `log`, `host`, `process`).
    case journal
    /// Pipeline events (ECS `event`, `pipeline.*`, `labels.*`).
    case pipelineEvents
}

/// Settings that cannot work, found before anything is sent: names the setting and the file or
/// value at fault, never a secret.
package struct ElasticsearchConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, for the operator.
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
