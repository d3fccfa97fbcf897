import Curl
import Foundation
import Logging
import LookoutSupport
import MetricModel
import Shipping
import Synchronization
import Zlib

/// Ships documents to Elasticsearch (or OpenSearch) with `_bulk` `create` requests over libcurl,
/// resolving every document the way Beats does (`libbeat/outputs/elasticsearch/client.go`):
///
/// - per item: 2xx indexed; 409 already present (delivered); 429 and 5xx sent again, alone, after
///   a backoff; any other status written to the dead-letter file;
/// - per request: 413 splits the request in halves (a single document that still gets 413 is
///   dead-lettered); 429, 5xx, 401/403, transport errors and unreadable answers resend the whole
///   request after a backoff (safe: `create` with a deterministic `_id`); any other 4xx
///   dead-letters every document with the server's reason.
///
/// A connection error, timeout or 5xx moves to the next node of `ElasticsearchSettings.urls`.
/// Failures are logged once when they start (and when their kind changes), with the URL but never
/// the credentials, and each is counted in `lookout_component_errors_total{component="elasticsearch"}`.
package final class ElasticsearchShipper: Shipper {
    /// The shipper's telemetry.
    package let stats: ElasticsearchStats

    private let settings: ElasticsearchSettings
    private let nodes: [Node]
    private let indexPattern: IndexPattern?
    private let templatePattern: String
    private let authorization: String?
    private let options: TransferOptions
    private let backoff: Backoff
    private let deadLetters: DeadLetterFile?
    private let logger: Logger
    private let errors: ComponentErrors
    private let currentNode = Atomic<Int>(0)
    private let idleHandles: Mutex<[[CurlEasy]]>
    private let failing = Mutex<ErrorType?>(nil)

    /// Validates `settings` and reads the credential file. Nothing is sent until `prepare()` or
    /// `ship(_:)`.
    ///
    /// - Throws: `ElasticsearchConfigurationError` naming the setting or file at fault.
    package init(
        settings: ElasticsearchSettings, logger: Logger, errors: ComponentErrors,
        stats: ElasticsearchStats = ElasticsearchStats()
    ) throws(ElasticsearchConfigurationError) {
        guard !settings.urls.isEmpty else { throw ElasticsearchConfigurationError("no Elasticsearch URL is configured") }
        nodes = try settings.urls.map { (url: String) throws(ElasticsearchConfigurationError) in try Node(url) }
        switch settings.target {
        case .indexPattern(let pattern):
            let parsed = try IndexPattern(pattern)
            indexPattern = parsed
            templatePattern = parsed.wildcard
        case .dataStream(let name):
            let parsed = try IndexPattern(name)
            guard parsed.wildcard == name, !name.contains("%") else {
                throw ElasticsearchConfigurationError("the data stream name '\(name)' cannot contain date fields")
            }
            indexPattern = nil
            templatePattern = name
        }
        guard !settings.templateName.isEmpty,
              settings.templateName.unicodeScalars.allSatisfy({ "abcdefghijklmnopqrstuvwxyz0123456789._-".unicodeScalars.contains($0) })
        else {
            throw ElasticsearchConfigurationError(
                "the index template name '\(settings.templateName)' must be lowercase letters, digits, '.', '_' or '-'")
        }
        guard (1...9).contains(settings.gzipLevel) else {
            throw ElasticsearchConfigurationError("the gzip level \(settings.gzipLevel) is outside 1...9")
        }
        guard settings.maxBulkBytes > 0 else { throw ElasticsearchConfigurationError("the bulk size limit must be positive") }
        guard settings.deadLetterMaxBytes > 0 else {
            throw ElasticsearchConfigurationError("the dead-letter file size limit must be positive")
        }
        guard settings.requestTimeout > .zero, settings.connectTimeout > .zero else {
            throw ElasticsearchConfigurationError("the request and connect timeouts must be positive")
        }
        guard settings.backoffInitial > .zero, settings.backoffMax >= settings.backoffInitial else {
            throw ElasticsearchConfigurationError("the backoff must start above zero and its maximum must not be below its start")
        }
        for (file, what) in [
            (settings.tls.caFile, "TLS CA"), (settings.tls.clientCertificateFile, "TLS client certificate"),
            (settings.tls.clientKeyFile, "TLS client key"),
        ] {
            if let file, !FileManager.default.isReadableFile(atPath: file) {
                throw ElasticsearchConfigurationError("the \(what) file \(file) cannot be read")
            }
        }
        if settings.tls.clientKeyFile != nil, settings.tls.clientCertificateFile == nil {
            throw ElasticsearchConfigurationError("a TLS client key is configured without its client certificate")
        }

        switch settings.credentials {
        case .none:
            authorization = nil
        case .basicAuthFile(let path):
            let secret = try Self.readSecret(path, what: "basic auth")
            guard secret.contains(":") else {
                throw ElasticsearchConfigurationError("the basic auth file \(path) does not hold user:password")
            }
            authorization = "Authorization: Basic \(Base64.encoded(Array(secret.utf8)))"
        case .apiKeyFile(let path):
            authorization = "Authorization: ApiKey \(try Self.readSecret(path, what: "API key"))"
        case .bearerTokenFile(let path):
            authorization = "Authorization: Bearer \(try Self.readSecret(path, what: "bearer token"))"
        }

        self.settings = settings
        self.stats = stats
        self.logger = logger
        self.errors = errors
        options = TransferOptions(requestTimeout: settings.requestTimeout, connectTimeout: settings.connectTimeout, tls: settings.tls)
        backoff = Backoff(initial: settings.backoffInitial, maximum: settings.backoffMax)
        deadLetters = settings.deadLetterPath.map { DeadLetterFile(path: $0, maxBytes: settings.deadLetterMaxBytes) }
        idleHandles = Mutex(Array(repeating: [], count: settings.urls.count))
    }

    /// Installs the index template for the configured indices or data stream. Never fails for
    /// the daemon: a node that cannot be reached, or credentials without the
    /// `manage_index_templates` privilege, give a warning and documents use dynamic mappings.
    ///
    /// - Throws: `CancellationError` only.
    package func prepare() async throws {
        guard settings.installTemplate else { return }
        let template = IndexTemplate(indexPattern: templatePattern, dataStream: indexPattern == nil, schema: settings.schema)
        let headers = ["Content-Type: application/json"] + commonHeaders
        var lastFailure = ""
        for _ in nodes.indices {
            let nodeIndex = currentNode.load(ordering: .relaxed) % nodes.count
            let node = nodes[nodeIndex]
            let request = HTTPRequest(
                method: "PUT", url: "\(node.url)/_index_template/\(settings.templateName)", headers: headers, body: template.body)
            let response: HTTPResponse
            do {
                response = try await perform(request, node: nodeIndex)
            } catch let error as TransferError {
                lastFailure = "\(node.displayURL): \(error)"
                moveOn(from: nodeIndex)
                continue
            }
            switch response.status {
            case 200..<300:
                logger.info(
                    "installed the index template", metadata: ["template": "\(settings.templateName)", "url": "\(node.displayURL)"])
            case 401, 403:
                errors.record(.elasticsearch, .indexTemplate)
                logger.warning(
                    "cannot install index template \(settings.templateName) at \(node.displayURL): the credentials lack the manage_index_templates privilege; documents will use dynamic mappings")
            default:
                errors.record(.elasticsearch, .indexTemplate)
                let error = BulkError(status: response.status, body: response.body)
                logger.warning(
                    "cannot install index template \(settings.templateName) at \(node.displayURL): HTTP \(error.status) \(error.type): \(error.reason); documents will use dynamic mappings")
            }
            return
        }
        errors.record(.elasticsearch, .indexTemplate)
        logger.warning(
            "cannot install index template \(settings.templateName): no node answered (\(lastFailure)); documents will use dynamic mappings until it is installed")
    }

    /// Delivers `batch`; see the type's documentation for how each outcome is handled.
    package func ship(_ batch: [BulkDocument]) async throws -> ShipmentReport {
        stats.batchStarted()
        defer { stats.batchFinished() }
        var report = ShipmentReport()
        var items: [BulkItem] = []
        items.reserveCapacity(batch.count)
        var malformed: [DeadLetter] = []
        for document in batch {
            let index = indexPattern?.indexName(timestampMicroseconds: document.timestampMicroseconds) ?? templatePattern
            // A raw line break would shift every later line of the NDJSON body.
            if document.source.contains(UInt8(ascii: "\n")) || document.source.isEmpty {
                let error = BulkError(
                    status: 0, type: "invalid_document", reason: "the document source is empty or spans several lines")
                malformed.append(DeadLetter(timeMicroseconds: CivilTime.nowMicroseconds(), error: error, index: index, document: document))
            } else {
                items.append(BulkItem(document: document, index: index))
            }
        }
        try await deadLetter(malformed, into: &report)

        var pending = Array(BulkRequest.requests(for: items, maxBytes: settings.maxBulkBytes).reversed())
        var retries = 0
        while let request = pending.popLast() {
            try Task.checkCancellation()
            switch try await attempt(request) {
            case .answered(let response, let node):
                recovered(at: node)
                var retry: [BulkItem] = []
                var letters: [DeadLetter] = []
                var firstRetryStatus = 0
                for (item, result) in zip(request.items, response.results) {
                    switch result {
                    case .indexed: report.indexed += 1
                    case .duplicate: report.duplicates += 1
                    case .retry(let status):
                        if retry.isEmpty { firstRetryStatus = status }
                        retry.append(item)
                    case .rejected(let error):
                        letters.append(DeadLetter(
                            timeMicroseconds: CivilTime.nowMicroseconds(), error: error, index: item.index, document: item.document))
                    }
                }
                stats.acknowledged(
                    indexed: response.results.count { $0 == .indexed }, duplicates: response.results.count { $0 == .duplicate })
                try await deadLetter(letters, into: &report)
                if retry.isEmpty {
                    retries = 0
                } else {
                    stats.retried(retry.count)
                    for _ in retry { errors.record(.elasticsearch, .itemRetried) }
                    noteFailure(
                        .itemRetried, at: node,
                        reason: "\(retry.count) of \(request.items.count) documents answered HTTP \(firstRetryStatus) (first shown); resending them alone")
                    try await pause(&retries)
                    pending.append(BulkRequest(items: retry))
                }
            case .tooLarge(let node):
                errors.record(.elasticsearch, .payloadTooLarge)
                if request.items.count > 1 {
                    logger.debug(
                        "bulk body too large, splitting it",
                        metadata: ["url": "\(node.displayURL)", "documents": "\(request.items.count)", "bytes": "\(request.body.count)"])
                    let (first, second) = request.halves()
                    pending.append(second)
                    pending.append(first)
                } else {
                    let item = request.items[0]
                    let error = BulkError(
                        status: 413, type: "payload_too_large",
                        reason: "the document alone makes a \(request.body.count)-byte bulk body, more than the server accepts")
                    try await deadLetter(
                        [DeadLetter(timeMicroseconds: CivilTime.nowMicroseconds(), error: error, index: item.index, document: item.document)],
                        into: &report)
                }
            case .failed(let type, let node, let reason):
                stats.failed()
                stats.retried(request.items.count)
                errors.record(.elasticsearch, type)
                noteFailure(type, at: node, reason: reason)
                try await pause(&retries)
                pending.append(request)
            case .refused(let error, let node):
                errors.record(.elasticsearch, .requestRejected)
                stats.noteError(
                    Node.redacted("\(node.displayURL): refused a bulk request: HTTP \(error.status) \(error.type): \(error.reason)"),
                    timeMicroseconds: CivilTime.nowMicroseconds())
                logger.error(
                    "Elasticsearch refused a bulk request of \(request.items.count) documents: HTTP \(error.status) \(error.type): \(error.reason); dead-lettering them",
                    metadata: ["url": "\(node.displayURL)"])
                try await deadLetter(
                    request.items.map {
                        DeadLetter(timeMicroseconds: CivilTime.nowMicroseconds(), error: error, index: $0.index, document: $0.document)
                    },
                    into: &report)
            }
        }
        return report
    }

    // MARK: - One request

    /// The `error_type` of a failed transfer.
    private static func errorType(_ kind: TransferError.Kind) -> ErrorType {
        switch kind {
        case .connection: .connection
        case .timeout: .timeout
        case .tls: .tls
        case .transport: .transport
        }
    }

    private enum Attempt {
        case answered(BulkResponse, Node)
        case tooLarge(Node)
        case failed(ErrorType, Node, reason: String)
        case refused(BulkError, Node)
    }

    private func attempt(_ request: BulkRequest) async throws -> Attempt {
        let nodeIndex = currentNode.load(ordering: .relaxed) % nodes.count
        let node = nodes[nodeIndex]
        let body = settings.gzip ? Gzip.compress(request.body, level: settings.gzipLevel) : request.body
        var headers = ["Content-Type: application/x-ndjson"] + commonHeaders
        if settings.gzip { headers.append("Content-Encoding: gzip") }
        stats.sent(documents: request.items.count, bytes: body.count)
        let clock = ContinuousClock()
        let started = clock.now
        let response: HTTPResponse
        do {
            response = try await perform(HTTPRequest(method: "POST", url: node.bulkURL, headers: headers, body: body), node: nodeIndex)
        } catch let error as TransferError {
            stats.requestEnded(httpStatus: nil, seconds: (clock.now - started) / .seconds(1))
            moveOn(from: nodeIndex)
            return .failed(Self.errorType(error.kind), node, reason: error.description)
        }
        stats.requestEnded(httpStatus: response.status, seconds: (clock.now - started) / .seconds(1))
        switch response.status {
        case 200..<300:
            do {
                return .answered(try BulkResponse(parsing: response.body, itemCount: request.items.count), node)
            } catch {
                return .failed(.badResponse, node, reason: error.description)
            }
        case 413:
            return .tooLarge(node)
        case 401, 403:
            let error = BulkError(status: response.status, body: response.body)
            return .failed(
                .unauthorized, node,
                reason: "HTTP \(error.status) \(error.type): \(error.reason); check the configured credentials and their privileges on the target indices")
        case 429:
            return .failed(.tooManyRequests, node, reason: "HTTP 429: the cluster is overloaded")
        case 500...:
            moveOn(from: nodeIndex)
            let error = BulkError(status: response.status, body: response.body)
            return .failed(.serverError, node, reason: "HTTP \(error.status) \(error.type): \(error.reason)")
        case 404, 408:
            // A proxy's missing route or timeout says nothing about the documents: retry them.
            let error = BulkError(status: response.status, body: response.body)
            return .failed(.serverError, node, reason: "HTTP \(error.status) \(error.type): \(error.reason)")
        case 400..<500:
            return .refused(BulkError(status: response.status, body: response.body), node)
        default:
            return .failed(.badResponse, node, reason: "unexpected HTTP status \(response.status)")
        }
    }

    /// Runs `request` on an idle handle of node `nodeIndex` (a new one when all are busy), so
    /// each node's connections are kept alive and reused.
    private func perform(_ request: HTTPRequest, node nodeIndex: Int) async throws -> HTTPResponse {
        let handle = try idleHandles.withLock { $0[nodeIndex].popLast() } ?? CurlEasy()
        defer { idleHandles.withLock { $0[nodeIndex].append(handle) } }
        return try await handle.perform(request, options: options)
    }

    private var commonHeaders: [String] {
        // An empty Expect header stops curl's 100-continue round trip before large bodies.
        ["Accept: application/json", "Expect:", "User-Agent: lookout"] + (authorization.map { [$0] } ?? [])
    }

    /// Moves to the next node, unless another request already did after the same failure.
    private func moveOn(from nodeIndex: Int) {
        guard nodes.count > 1 else { return }
        let current = currentNode.load(ordering: .relaxed)
        if current % nodes.count == nodeIndex {
            _ = currentNode.compareExchange(expected: current, desired: (nodeIndex + 1) % nodes.count, ordering: .relaxed)
        }
    }

    private func pause(_ retries: inout Int) async throws {
        let delay = backoff.delay(attempt: retries)
        retries += 1
        try await Task.sleep(for: delay)
    }

    // MARK: - Logging on transitions

    private func noteFailure(_ type: ErrorType, at node: Node, reason: String) {
        stats.noteError(Node.redacted("\(node.displayURL): \(reason)"), timeMicroseconds: CivilTime.nowMicroseconds())
        let isNew = failing.withLock { state in
            defer { state = type }
            return state != type
        }
        guard isNew else { return }
        let metadata: Logger.Metadata = ["url": "\(node.displayURL)", "error_type": "\(type)"]
        switch type {
        case .unauthorized:
            logger.error("Elasticsearch rejects Lookout's credentials: \(reason); retrying with backoff, nothing is dropped", metadata: metadata)
        case .itemRetried:
            logger.warning("Elasticsearch is pushing back: \(reason)", metadata: metadata)
        default:
            logger.error("bulk request to Elasticsearch failed: \(reason); retrying with backoff", metadata: metadata)
        }
    }

    private func recovered(at node: Node) {
        stats.succeeded(nowSeconds: Double(CivilTime.nowMicroseconds()) / 1_000_000)
        let wasFailing = failing.withLock { state in
            defer { state = nil }
            return state != nil
        }
        if wasFailing {
            logger.notice("Elasticsearch accepts bulk requests again", metadata: ["url": "\(node.displayURL)"])
        }
    }

    // MARK: - Dead letters

    private func deadLetter(_ letters: [DeadLetter], into report: inout ShipmentReport) async throws {
        guard let first = letters.first else { return }
        report.deadLettered += letters.count
        stats.deadLettered(letters.count)
        for _ in letters { errors.record(.elasticsearch, .documentRejected) }
        let summary = "HTTP \(first.error.status) \(first.error.type): \(first.error.reason)"
        guard let deadLetters else {
            logger.error(
                "Elasticsearch refused \(letters.count) documents for good (first: \(summary)); no dead-letter file is configured, so they are dropped",
                metadata: ["index": "\(first.index)", "id": "\(first.document.id)"])
            return
        }
        // A document counts as resolved only once it is in the file: until the write succeeds
        // (a full disk frees up, a directory comes back) it is retried, never dropped.
        var attempts = 0
        while true {
            do {
                try deadLetters.append(letters)
                logger.warning(
                    "Elasticsearch refused \(letters.count) documents for good (first: \(summary)); written to the dead-letter file",
                    metadata: ["path": "\(deadLetters.path)"])
                return
            } catch {
                errors.record(.elasticsearch, .deadLetterWrite)
                if attempts == 0 {
                    logger.error(
                        "\(error); \(letters.count) documents Elasticsearch refused (first: \(summary)) wait until the dead-letter file can be written",
                        metadata: ["index": "\(first.index)", "id": "\(first.document.id)"])
                }
                try await pause(&attempts)
            }
        }
    }

    private static func readSecret(_ path: String, what: String) throws(ElasticsearchConfigurationError) -> String {
        do {
            return try SecretFile.read(path, what: what)
        } catch {
            throw ElasticsearchConfigurationError(error.description)
        }
    }
}

/// One node of the cluster: its base URL, the bulk URL, and the URL as logs may show it.
private struct Node: Sendable {
    /// The base URL without a trailing slash.
    let url: String
    /// `POST` target for bulk requests; `filter_path` keeps only what classification needs, and
    /// `items.*.status` keeps item positions lined up with the request.
    let bulkURL: String
    /// The base URL without any `user:password@`.
    let displayURL: String

    init(_ configured: String) throws(ElasticsearchConfigurationError) {
        var url = configured
        while url.hasSuffix("/") { url.removeLast() }
        guard let scheme = url.range(of: "://"), ["http", "https"].contains(url[..<scheme.lowerBound].lowercased()),
              url.count > url.distance(from: url.startIndex, to: scheme.upperBound)
        else {
            throw ElasticsearchConfigurationError(
                "the Elasticsearch URL '\(Node.redacted(configured))' must start with http:// or https:// and name a host")
        }
        self.url = url
        bulkURL = url + "/_bulk?filter_path=errors,items.*.error,items.*.status"
        displayURL = Node.redacted(url)
    }

    /// `text` (a URL, or a message quoting URLs) with the user information taken out of every
    /// URL's authority: the log and `GET /api/v1/summary` show these to whoever reads them.
    static func redacted(_ text: String) -> String {
        var output = ""
        var rest = Substring(text)
        while let scheme = rest.range(of: "://") {
            output += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            // The authority ends at the path, or where a message goes on after the URL.
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "\"" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        }
        return output + rest
    }
}
