import LookoutSupport
import NIOSSL
import YAMLFiles
import Yams

/// `--web.config.file`: the web configuration file node_exporter users already write, read with
/// exporter-toolkit's schema, defaults and checks (its `docs/web-configuration.md`,
/// `web/tls_config.go`): TLS (`tls_server_config`), basic authentication (`basic_auth_users`,
/// bcrypt hashes), response headers (`http_server_config.headers`) and a request rate limit
/// (`rate_limit`). Unknown keys are errors, as exporter-toolkit's strict YAML makes them.
struct WebConfiguration: Sendable, Equatable {
    /// `tls_server_config`.
    var tls = TLSServer()
    /// `http_server_config.http2`. Accepted for compatibility; Lookout speaks HTTP/1.1 only.
    var http2 = true
    /// `http_server_config.headers`, set on every response, in the file's order.
    var headers: [Header] = []
    /// `basic_auth_users`: user name → bcrypt hash. Empty: no authentication.
    var users: [String: String] = [:]
    /// `rate_limit`, when its interval is not zero.
    var rateLimit: RateLimit?

    /// A response header and its value.
    struct Header: Sendable, Equatable {
        /// The name, as written (exporter-toolkit matches it case-sensitively).
        var name: String
        /// The value.
        var value: String
    }

    /// `rate_limit`: a token bucket of `burst` requests that regains one every `interval`.
    struct RateLimit: Sendable, Equatable {
        /// `rate_limit.interval`.
        var interval: Duration
        /// `rate_limit.burst`; 0 refuses every request, as in exporter-toolkit.
        var burst: Int
    }

    /// `tls_server_config`. File paths are already made relative to the configuration file's
    /// directory, as exporter-toolkit's `SetDirectory` makes them.
    struct TLSServer: Sendable, Equatable {
        /// `cert_file`, or nil.
        var certificateFile: String?
        /// `cert`: the PEM certificate chain inline, used when `cert_file` is not set.
        var certificate: String?
        /// `key_file`, or nil.
        var keyFile: String?
        /// `key`: the PEM private key inline, used when `key_file` is not set.
        var key: String?
        /// `client_ca_file`, or nil.
        var clientCAFile: String?
        /// `client_ca`: PEM CA certificates inline, used when `client_ca_file` is not set.
        var clientCA: String?
        /// `client_auth_type`.
        var clientAuth = ClientAuth.none
        /// Whether `client_auth_type` was written at all (it turns TLS on, even as NoClientCert).
        var clientAuthWritten = false
        /// `cipher_suites`, by Go's names; empty: the TLS library's defaults.
        var cipherSuites: [NIOTLSCipher] = []
        /// `curve_preferences`, by Go's names; empty: the TLS library's defaults.
        var curves: [NIOTLSCurve] = []
        /// `min_version` (default TLS12).
        var minimumVersion = TLSVersion.tlsv12
        /// `max_version` (default TLS13).
        var maximumVersion = TLSVersion.tlsv13
        /// `prefer_server_cipher_suites`. Accepted; the server's order is always preferred.
        var preferServerCipherSuites = true
        /// `client_allowed_sans`: when set, a client certificate must name one of these
        /// (DNS name, e-mail address, IP address or URI, compared exactly).
        var clientAllowedSANs: [String]?

        /// Whether the file asks for TLS at all: any certificate, key, CA or client
        /// authentication setting (exporter-toolkit's `errNoTLSConfig` test).
        var isEnabled: Bool {
            [certificateFile, certificate, keyFile, key, clientCAFile, clientCA].contains { $0 != nil } || clientAuthWritten
        }
    }

    /// `client_auth_type`, with Go's `tls.ClientAuthType` meaning.
    enum ClientAuth: String, Sendable, Equatable {
        /// No client certificate is asked for.
        case none = "NoClientCert"
        /// A certificate is asked for, not required, not verified.
        case request = "RequestClientCert"
        /// A certificate is required, not verified.
        case requireAny = "RequireAnyClientCert"
        /// A certificate is verified against the client CA when one is given.
        case verifyIfGiven = "VerifyClientCertIfGiven"
        /// A certificate is required and verified against the client CA.
        case requireAndVerify = "RequireAndVerifyClientCert"
    }

    /// Largest web configuration file read.
    static let maximumFileBytes = 1 << 20

    /// Go's `tls.CipherSuites()` names, which exporter-toolkit accepts.
    static let cipherNames: [String: NIOTLSCipher] = [
        "TLS_RSA_WITH_AES_128_CBC_SHA": .TLS_RSA_WITH_AES_128_CBC_SHA,
        "TLS_RSA_WITH_AES_256_CBC_SHA": .TLS_RSA_WITH_AES_256_CBC_SHA,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": .TLS_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": .TLS_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_AES_128_GCM_SHA256": .TLS_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384": .TLS_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256": .TLS_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ]

    /// exporter-toolkit's curve names.
    static let curveNames: [String: NIOTLSCurve] = [
        "CurveP256": .secp256r1, "CurveP384": .secp384r1, "CurveP521": .secp521r1, "X25519": .x25519,
    ]

    /// exporter-toolkit's TLS version names.
    static let versionNames: [String: TLSVersion] = ["TLS10": .tlsv1, "TLS11": .tlsv11, "TLS12": .tlsv12, "TLS13": .tlsv13]

    /// The headers exporter-toolkit lets a file set, with the values it allows (nil: any).
    static let settableHeaders: [String: [String]?] = [
        "Strict-Transport-Security": nil,
        "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["deny", "sameorigin"],
        "X-XSS-Protection": nil,
        "Content-Security-Policy": nil,
    ]

    /// The configuration in `text`, relative paths resolved against `directory`.
    static func parse(_ text: String, directory: String) throws(ConfigurationError) -> WebConfiguration {
        let root: Node?
        do {
            root = try YAMLFile.compose(text)
        } catch {
            throw ConfigurationError(key: "", line: error.line, message: "invalid YAML: \(error.problem)")
        }
        var reader = WebConfigurationReader(directory: directory)
        if let root { try reader.readRoot(root) }
        return reader.configuration
    }

    /// The directory a relative path in the file at `path` is taken from.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Walks a web configuration file's tree, checking every key against exporter-toolkit's schema.
private struct WebConfigurationReader: SettingNodeReader {
    let directory: String
    var configuration = WebConfiguration()

    mutating func readRoot(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "") {
            switch key {
            case "tls_server_config": try readTLS(value)
            case "http_server_config": try readHTTP(value)
            case "basic_auth_users": try readUsers(value)
            case "rate_limit": try readRateLimit(value)
            default: throw unknown(key, at: value)
            }
        }
        let tls = configuration.tls
        if tls.clientCAFile != nil || tls.clientCA != nil, tls.clientAuth == .none {
            throw ConfigurationError(
                key: "tls_server_config.client_auth_type", line: YAMLFile.line(node),
                message: "client CA's have been configured without a Client Auth Policy")
        }
        if tls.clientAllowedSANs != nil, tls.clientAuth != .requireAny, tls.clientAuth != .requireAndVerify {
            throw ConfigurationError(
                key: "tls_server_config.client_allowed_sans", line: YAMLFile.line(node),
                message: "client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert")
        }
        if tls.isEnabled {
            if tls.certificateFile == nil, tls.certificate == nil {
                throw ConfigurationError(key: "tls_server_config.cert_file", line: YAMLFile.line(node), message: "missing one of cert or cert_file")
            }
            if tls.keyFile == nil, tls.key == nil {
                throw ConfigurationError(key: "tls_server_config.key_file", line: YAMLFile.line(node), message: "missing one of key or key_file")
            }
        }
    }

    private mutating func readTLS(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "tls_server_config") {
            let name = "tls_server_config.\(key)"
            switch key {
            case "cert_file": configuration.tls.certificateFile = try optionalString(value, key: name).map(resolved)
            case "cert": configuration.tls.certificate = try optionalString(value, key: name)
            case "key_file": configuration.tls.keyFile = try optionalString(value, key: name).map(resolved)
            case "key": configuration.tls.key = try optionalString(value, key: name)
            case "client_ca_file": configuration.tls.clientCAFile = try optionalString(value, key: name).map(resolved)
            case "client_ca": configuration.tls.clientCA = try optionalString(value, key: name)
            case "client_auth_type":
                guard let text = try optionalString(value, key: name) else { continue }
                // RequireClientCert is exporter-toolkit's older name for RequireAnyClientCert.
                guard let auth = text == "RequireClientCert" ? .requireAny : WebConfiguration.ClientAuth(rawValue: text) else {
                    throw ConfigurationError(key: name, line: YAMLFile.line(value), message: "invalid ClientAuth: \(text)")
                }
                configuration.tls.clientAuth = auth
                configuration.tls.clientAuthWritten = true
            case "cipher_suites":
                configuration.tls.cipherSuites = try named(value, key: name, WebConfiguration.cipherNames, what: "cipher")
            case "curve_preferences":
                configuration.tls.curves = try named(value, key: name, WebConfiguration.curveNames, what: "curve")
            case "min_version":
                configuration.tls.minimumVersion = try version(value, key: name)
            case "max_version":
                configuration.tls.maximumVersion = try version(value, key: name)
            case "prefer_server_cipher_suites":
                configuration.tls.preferServerCipherSuites = try bool(value, key: name)
            case "client_allowed_sans":
                configuration.tls.clientAllowedSANs = isNull(value) ? nil : try list(value, key: name)
            default: throw unknown(name, at: value)
            }
        }
    }

    private mutating func readHTTP(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "http_server_config") {
            let name = "http_server_config.\(key)"
            switch key {
            case "http2": configuration.http2 = try bool(value, key: name)
            case "headers":
                if isNull(value) { continue }
                for (header, headerValue) in try mapping(value, key: name) {
                    let text = try string(headerValue, key: "\(name).\(header)")
                    guard let allowed = WebConfiguration.settableHeaders[header] else {
                        throw ConfigurationError(key: "\(name).\(header)", line: YAMLFile.line(headerValue),
                                                 message: "HTTP header \"\(header)\" can not be configured")
                    }
                    if let allowed, !allowed.contains(text) {
                        let expected = allowed.map { "\"\($0)\"" }.joined(separator: " ")
                        throw ConfigurationError(
                            key: "\(name).\(header)", line: YAMLFile.line(headerValue),
                            message: "invalid value for \(header). Expected one of: [\(expected)], but got: \"\(text)\"")
                    }
                    configuration.headers.append(.init(name: header, value: text))
                }
            default: throw unknown(name, at: value)
            }
        }
    }

    private mutating func readUsers(_ node: Node) throws(ConfigurationError) {
        if isNull(node) { return }
        for (user, hashNode) in try mapping(node, key: "basic_auth_users") {
            let hash = try string(hashNode, key: "basic_auth_users.\(user)")
            // exporter-toolkit's validateUsers: every hash must pass bcrypt.Cost.
            if let problem = Bcrypt.problem(with: hash) {
                throw ConfigurationError(key: "basic_auth_users.\(user)", line: YAMLFile.line(hashNode), message: problem)
            }
            configuration.users[user] = hash
        }
    }

    private mutating func readRateLimit(_ node: Node) throws(ConfigurationError) {
        var interval = Duration.zero
        var burst = 0
        for (key, value) in try mapping(node, key: "rate_limit") {
            let name = "rate_limit.\(key)"
            switch key {
            case "interval":
                let text = try string(value, key: name)
                guard let parsed = text == "0" ? .zero : DurationText.parse(text) else {
                    throw ConfigurationError(key: name, line: YAMLFile.line(value), message: "'\(text)' is not a duration like 500ms, 10s or 1m")
                }
                interval = parsed
            case "burst":
                let text = try string(value, key: name)
                guard let parsed = Int(text), parsed >= 0, parsed <= 1_000_000_000 else {
                    throw ConfigurationError(key: name, line: YAMLFile.line(value), message: "expected a whole number from 0 to 1000000000, got \"\(text)\"")
                }
                burst = parsed
            default: throw unknown(name, at: value)
            }
        }
        configuration.rateLimit = interval == .zero ? nil : .init(interval: interval, burst: burst)
    }

    /// YAML's null (`~`, `null`, nothing): Go leaves the field at its zero value.
    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// A string setting; null and "" leave it unset, as Go's zero value does.
    private func optionalString(_ node: Node, key: String) throws(ConfigurationError) -> String? {
        if isNull(node) { return nil }
        let text = try string(node, key: key)
        return text.isEmpty ? nil : text
    }

    /// A list of strings; a single string is not a list here.
    private func list(_ node: Node, key: String) throws(ConfigurationError) -> [String] {
        guard case .sequence = node else {
            throw ConfigurationError(key: key, line: YAMLFile.line(node), message: "expected a list")
        }
        return try strings(node, key: key)
    }

    private func named<Value>(
        _ node: Node, key: String, _ table: [String: Value], what: String
    ) throws(ConfigurationError) -> [Value] {
        if isNull(node) { return [] }
        var values: [Value] = []
        for name in try list(node, key: key) {
            guard let value = table[name] else {
                throw ConfigurationError(key: key, line: YAMLFile.line(node), message: "unknown \(what): \(name)")
            }
            values.append(value)
        }
        return values
    }

    private func version(_ node: Node, key: String) throws(ConfigurationError) -> TLSVersion {
        let text = try string(node, key: key)
        guard let version = WebConfiguration.versionNames[text] else {
            throw ConfigurationError(key: key, line: YAMLFile.line(node), message: "unknown TLS version: \(text)")
        }
        return version
    }

    /// `path` taken from the configuration file's directory when relative.
    private func resolved(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }
}
