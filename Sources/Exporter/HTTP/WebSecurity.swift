import Dispatch
import HTTPTypes
import Hummingbird
import Logging
import LookoutSupport
import MetricModel
import NIOCore
import Synchronization

/// `--web.config.file` while the daemon runs. As exporter-toolkit does, the file is read again on
/// every request (basic authentication, headers) and on every new connection (TLS), so users and
/// certificates change without a restart; what a read finds is parsed again only when it differs
/// from the last read. The rate limit and whether the listener speaks TLS are fixed at start.
final class WebSecurity: Sendable {
    /// The file.
    let path: String
    /// Where refusals and unreadable configurations are counted.
    let errors: ComponentErrors
    /// Whether the listener speaks TLS: the file asked for it at start.
    let servesTLS: Bool
    /// `rate_limit`, as read at start.
    let rateLimiter: RateLimiter?

    private struct Parsed {
        var text: String
        var configuration: WebConfiguration
    }

    private struct Built {
        var settings: WebConfiguration.TLSServer
        var material: ServerTLS.Material
        var tls: ServerTLS
    }

    private let parsed: Mutex<Parsed>
    private let built: Mutex<Built?>
    private let verdicts = CredentialCache()
    /// One bcrypt comparison at a time, as exporter-toolkit serialises them, so that a flood of
    /// wrong passwords costs one core at most. A serial queue rather than a lock on the shared
    /// dispatch threads: waiting requests wait as continuations, not as blocked threads that
    /// queries and the event store also need.
    private let bcryptQueue = DispatchQueue(label: "lookout.bcrypt")

    /// The file at `path`, checked as at start-up: schema, hashes and, when it asks for TLS,
    /// that the certificate and key load.
    init(path: String, errors: ComponentErrors) throws(ConfigurationError) {
        self.path = path
        self.errors = errors
        let text = try Self.read(path)
        let configuration = try Self.parse(text, path: path)
        parsed = Mutex(Parsed(text: text, configuration: configuration))
        servesTLS = configuration.tls.isEnabled
        if servesTLS {
            let material = try Self.located(path) { () throws(ConfigurationError) in try ServerTLS.Material.read(configuration.tls) }
            let tls = try Self.located(path) { () throws(ConfigurationError) in try ServerTLS.make(configuration.tls, material: material) }
            built = Mutex(Built(settings: configuration.tls, material: material, tls: tls))
        } else {
            built = Mutex(nil)
        }
        rateLimiter = configuration.rateLimit.map(RateLimiter.init)
    }

    /// The configuration as the file is now.
    func configuration() throws(ConfigurationError) -> WebConfiguration {
        let text = try Self.read(path)
        if let known = parsed.withLock({ $0.text == text ? $0.configuration : nil }) { return known }
        let configuration = try Self.parse(text, path: path)
        parsed.withLock { $0 = Parsed(text: text, configuration: configuration) }
        return configuration
    }

    /// Counts (`web_config`) and logs a file that cannot be used while serving: `message` says
    /// what is refused because of it.
    func reportUnusable(_ error: any Error, _ message: String, logger: Logger) {
        errors.record(.http, .webConfig)
        logger.error("\(message)", metadata: ["error": "\(error)"])
    }

    /// The TLS for a new connection, from the file and the certificate files as they are now.
    func serverTLS() throws(ConfigurationError) -> ServerTLS {
        let settings = try configuration().tls
        guard settings.isEnabled else {
            throw ConfigurationError(key: "tls_server_config", line: nil, message: "TLS config is not present", file: path)
        }
        let material = try Self.located(path) { () throws(ConfigurationError) in try ServerTLS.Material.read(settings) }
        if let known = built.withLock({ $0.flatMap { $0.settings == settings && $0.material == material ? $0.tls : nil } }) {
            return known
        }
        let tls = try Self.located(path) { () throws(ConfigurationError) in try ServerTLS.make(settings, material: material) }
        built.withLock { $0 = Built(settings: settings, material: material, tls: tls) }
        return tls
    }

    /// Whether `authorization` (the request's `Authorization` header) names one of `users` with
    /// its password. Unknown users are checked against a fixed hash, so that the time taken does
    /// not tell which users exist; verdicts are cached, keyed by user, hash and password.
    func authenticates(_ authorization: String?, users: [String: String]) async -> Bool {
        guard let authorization, let (user, password) = Self.basicCredentials(authorization) else { return false }
        let known = users[user]
        // exporter-toolkit's stand-in: the bcrypt hash of "fakepassword".
        let hash = known ?? "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
        let key = CredentialCache.Key(user: user, hash: hash, password: password)
        let verdict: Bool
        if let cached = verdicts.verdict(for: key) {
            verdict = cached
        } else {
            let matches = await withCheckedContinuation { continuation in
                bcryptQueue.async { continuation.resume(returning: Bcrypt.matches(password: password, hash: hash)) }
            }
            verdict = matches && known != nil
            verdicts.remember(verdict, for: key)
        }
        return verdict && known != nil
    }

    /// The user and password of a `Basic` authorization (RFC 7617), as Go's `Request.BasicAuth`
    /// reads it: the scheme in any case, standard base64, split at the first colon.
    static func basicCredentials(_ authorization: String) -> (user: String, password: [UInt8])? {
        let bytes = Array(authorization.utf8)
        let scheme = Array("basic ".utf8)
        guard bytes.count >= scheme.count,
              zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 || $0 == $1 }),
              let decoded = Base64.decode(bytes[scheme.count...]),
              let colon = decoded.firstIndex(of: UInt8(ascii: ":"))
        else { return nil }
        return (String(decoding: decoded[..<colon], as: UTF8.self), Array(decoded[(colon + 1)...]))
    }

    private static func read(_ path: String) throws(ConfigurationError) -> String {
        do {
            return try TextFile.read(path, maximumBytes: WebConfiguration.maximumFileBytes)!
        } catch {
            throw ConfigurationError(key: "", line: nil, message: "cannot read: \(error.reason)", file: path)
        }
    }

    private static func parse(_ text: String, path: String) throws(ConfigurationError) -> WebConfiguration {
        try located(path) { () throws(ConfigurationError) in try WebConfiguration.parse(text, directory: WebConfiguration.directory(of: path)) }
    }

    /// `work`'s error, placed in the file at `path`.
    private static func located<Value>(_ path: String, _ work: () throws(ConfigurationError) -> Value) throws(ConfigurationError) -> Value {
        do {
            return try work()
        } catch var error {
            if error.file == nil { error.file = path }
            throw error
        }
    }
}

/// exporter-toolkit's cache of credential verdicts: at most 100, a tenth of them (plus one)
/// evicted at random when full, so that a repeated scrape does not pay bcrypt's cost each time.
/// Presented passwords stay in memory only and are never logged.
final class CredentialCache: Sendable {
    /// A user, the hash checked, and the password presented.
    struct Key: Hashable, Sendable {
        var user: String
        var hash: String
        var password: [UInt8]
    }

    /// exporter-toolkit's `cacheSize`.
    static let capacity = 100

    private let verdicts = Mutex<[Key: Bool]>([:])

    /// The remembered verdict for `key`.
    func verdict(for key: Key) -> Bool? {
        verdicts.withLock { $0[key] }
    }

    /// Remembers `verdict`, making room first.
    func remember(_ verdict: Bool, for key: Key) {
        verdicts.withLock { verdicts in
            if verdicts.count >= Self.capacity {
                for _ in 0...max(1, verdicts.count / 10) {
                    guard let victim = verdicts.keys.randomElement() else { break }
                    verdicts[victim] = nil
                }
            }
            verdicts[key] = verdict
        }
    }
}

/// `rate_limit`: a token bucket holding `burst` requests, regaining one every `interval` (Go's
/// `rate.NewLimiter(rate.Every(interval), burst)`).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let limit: WebConfiguration.RateLimit
    private let bucket: Mutex<Bucket>

    init(_ limit: WebConfiguration.RateLimit) {
        self.limit = limit
        bucket = Mutex(Bucket(tokens: Double(limit.burst), updated: .now))
    }

    /// Whether one more request may go now; takes its token when it may.
    func allows() -> Bool {
        let now = ContinuousClock.now
        return bucket.withLock { bucket in
            let regained = (now - bucket.updated) / limit.interval
            bucket.tokens = min(Double(limit.burst), bucket.tokens + regained)
            bucket.updated = now
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
    }
}

/// The web configuration's part of every request, before any endpoint: the rate limit (429), the
/// configured headers, and basic authentication (401 with `WWW-Authenticate: Basic`), with
/// exporter-toolkit's answers. An unreadable configuration answers 500 and is logged.
struct WebSecurityMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// The configuration.
    let security: WebSecurity
    /// Logs an unreadable configuration.
    let logger: Logger

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let configuration: WebConfiguration
        do {
            configuration = try security.configuration()
        } catch {
            security.reportUnusable(error, "Unable to parse configuration", logger: logger)
            return Self.plain(.internalServerError, "Internal Server Error")
        }
        if let limiter = security.rateLimiter, !limiter.allows() {
            security.errors.record(.http, .tooManyRequests)
            return Self.plain(.tooManyRequests, "Too Many Requests")
        }
        var response: Response
        let admitted = if configuration.users.isEmpty { true } else {
            await security.authenticates(request.headers[.authorization], users: configuration.users)
        }
        if admitted {
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError {
                // The not-found answer and other thrown statuses get the headers too.
                response = try error.response(from: request, context: context)
            }
        } else {
            security.errors.record(.http, .unauthorized)
            response = Self.plain(.unauthorized, "Unauthorized")
            response.headers[.wwwAuthenticate] = "Basic"
        }
        for header in configuration.headers {
            if let name = HTTPField.Name(header.name) { response.headers[name] = header.value }
        }
        return response
    }

    /// Go's `http.Error`: the status text and a line break, as plain text.
    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8", .init("X-Content-Type-Options")!: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
