import Testing
@testable import Exporter
import LookoutSupport

/// `--web.config.file` as exporter-toolkit reads it: its schema, defaults and the messages of its
/// checks (web/tls_config.go, web/handler.go), each tied to a key and line.
@Suite struct WebConfigurationTests {
    /// Go-made bcrypt hashes from exporter-toolkit's web/testdata/web_config_users.good.yml, with
    /// the passwords its TestUsers logs in with.
    static let dave = (password: "dave123", hash: "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq")
    static let carol = (password: "carol123", hash: "$2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu")

    static func parse(_ text: String) throws(ConfigurationError) -> WebConfiguration {
        try WebConfiguration.parse(text, directory: "/etc/lookout")
    }

    static func problem(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func emptyFileServesPlainHTTPWithDefaults() throws {
        let configuration = try Self.parse("")
        #expect(configuration == WebConfiguration())
        #expect(!configuration.tls.isEnabled)
        #expect(configuration.tls.minimumVersion == .tlsv12 && configuration.tls.maximumVersion == .tlsv13)
        #expect(configuration.http2 && configuration.tls.preferServerCipherSuites)
    }

    @Test func readsEveryKey() throws {
        let configuration = try Self.parse("""
            tls_server_config:
              cert_file: server.crt
              key_file: /keys/server.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
              cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
              curve_preferences: [X25519, CurveP256]
              min_version: TLS13
              max_version: TLS13
              prefer_server_cipher_suites: false
              client_allowed_sans: [pipeline.example, 10.0.0.1]
            http_server_config:
              http2: false
              headers:
                X-Frame-Options: deny
                Strict-Transport-Security: max-age=31536000
            basic_auth_users:
              dave: \(Self.dave.hash)
            rate_limit:
              interval: 1s
              burst: 5
            """)
        // Relative paths are taken from the file's directory, as exporter-toolkit's SetDirectory does.
        #expect(configuration.tls.certificateFile == "/etc/lookout/server.crt")
        #expect(configuration.tls.keyFile == "/keys/server.key")
        #expect(configuration.tls.clientCAFile == "/etc/lookout/ca.crt")
        #expect(configuration.tls.clientAuth == .requireAndVerify)
        #expect(configuration.tls.cipherSuites == [.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, .TLS_AES_128_GCM_SHA256])
        #expect(configuration.tls.curves == [.x25519, .secp256r1])
        #expect(configuration.tls.minimumVersion == .tlsv13)
        #expect(!configuration.tls.preferServerCipherSuites)
        #expect(configuration.tls.clientAllowedSANs == ["pipeline.example", "10.0.0.1"])
        #expect(!configuration.http2)
        #expect(configuration.headers == [.init(name: "X-Frame-Options", value: "deny"),
                                          .init(name: "Strict-Transport-Security", value: "max-age=31536000")])
        #expect(configuration.users == ["dave": Self.dave.hash])
        #expect(configuration.rateLimit == .init(interval: .seconds(1), burst: 5))
    }

    @Test func olderNamesAndNullsAreAccepted() throws {
        let configuration = try Self.parse("""
            tls_server_config:
              cert_file: a.crt
              key_file: a.key
              client_auth_type: RequireClientCert
              cipher_suites:
            basic_auth_users:
            """)
        #expect(configuration.tls.clientAuth == .requireAny)
        #expect(configuration.tls.cipherSuites.isEmpty && configuration.users.isEmpty)
    }

    /// exporter-toolkit's own bad testdata files (web/testdata/*.bad.yml) and their messages.
    @Test(arguments: [
        ("tls_server_config:\n  cert_filse: server.crt\n", "2: tls_server_config.cert_filse: unknown key"),
        ("tls_server_config:\n  cert_file: \"\"\n  key_file: server.key\n", "1: tls_server_config.cert_file: missing one of cert or cert_file"),
        ("tls_server_config:\n  cert_file: server.crt\n  key_file: \"\"\n", "1: tls_server_config.key_file: missing one of key or key_file"),
        ("tls_server_config:\n  client_auth_type: x\n", "2: tls_server_config.client_auth_type: invalid ClientAuth: x"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: /dev/null\n",
         "1: tls_server_config.client_auth_type: client CA's have been configured without a Client Auth Policy"),
        ("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: VerifyClientCertIfGiven\n  client_allowed_sans: [x]\n",
         "1: tls_server_config.client_allowed_sans: client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert"),
        ("basic_auth_users:\n  john: doe\n", "2: basic_auth_users.john: crypto/bcrypt: hashedSecret too short to be a bcrypted password"),
        ("tls_server_config:\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048]\n",
         "2: tls_server_config.cipher_suites: unknown cipher: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048"),
        ("tls_server_config:\n  curve_preferences: [CurveP257]\n", "2: tls_server_config.curve_preferences: unknown curve: CurveP257"),
        ("tls_server_config:\n  min_version: TLS111\n", "2: tls_server_config.min_version: unknown TLS version: TLS111"),
        ("http_server_config:\n  headers:\n    Content-Type: foo\n",
         "3: http_server_config.headers.Content-Type: HTTP header \"Content-Type\" can not be configured"),
        ("http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
         "3: http_server_config.headers.X-Frame-Options: invalid value for X-Frame-Options. Expected one of: [\"deny\" \"sameorigin\"], but got: \"foo\""),
        ("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
         "3: http_server_config.headers.X-Content-Type-Options: invalid value for X-Content-Type-Options. Expected one of: [\"nosniff\"], but got: \"sniff\""),
        ("rate_limit:\n  interval: soon\n", "2: rate_limit.interval: 'soon' is not a duration like 500ms, 10s or 1m"),
        ("rate_limit:\n  burst: -1\n", "2: rate_limit.burst: expected a whole number from 0 to 1000000000, got \"-1\""),
        ("tls_server_config: [a, b]\n", "1: tls_server_config: expected a mapping of keys to values"),
        ("basic_auth_users:\n  dave: [a]\n", "2: basic_auth_users.dave: expected a single value"),
        ("a: [\n", "invalid YAML"),
    ])
    func refusesWhatExporterToolkitRefuses(text: String, expected: String) {
        let problem = Self.problem(text)
        #expect(problem?.contains(expected) == true, "\(problem ?? "accepted")")
    }

    @Test func bcryptChecksGoMadeHashes() {
        #expect(Bcrypt.matches(password: Array(Self.dave.password.utf8), hash: Self.dave.hash))
        #expect(Bcrypt.matches(password: Array(Self.carol.password.utf8), hash: Self.carol.hash))
        #expect(!Bcrypt.matches(password: Array("dave124".utf8), hash: Self.dave.hash))
        #expect(!Bcrypt.matches(password: Array("dave123\0".utf8), hash: Self.dave.hash))
        #expect(!Bcrypt.matches(password: Array(Self.dave.password.utf8), hash: Self.carol.hash))
        #expect(!Bcrypt.matches(password: [], hash: "not a hash"))
        // x/crypto/bcrypt's Cost messages.
        #expect(Bcrypt.problem(with: Self.dave.hash) == nil)
        #expect(Bcrypt.problem(with: "#" + Self.dave.hash.dropFirst()) == "crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret started with '#'")
        #expect(Bcrypt.problem(with: "$3" + Self.dave.hash.dropFirst(2)) == "crypto/bcrypt: bcrypt algorithm version '3' requested is newer than current version '2'")
        #expect(Bcrypt.problem(with: "$2y$03" + Self.dave.hash.dropFirst(6)) == "crypto/bcrypt: cost 3 is outside allowed range (4,31)")
    }

    @Test func basicCredentialsAreReadAsGoReadsThem() {
        #expect(WebSecurity.basicCredentials("Basic ZGF2ZTpkYXZlMTIz")! == ("dave", Array("dave123".utf8)))
        #expect(WebSecurity.basicCredentials("bAsIc ZGF2ZTpkYXZlMTIz")!.user == "dave")
        // The password is everything after the first colon.
        #expect(WebSecurity.basicCredentials("Basic " + Base64.encoded(Array("a:b:c".utf8)))! == ("a", Array("b:c".utf8)))
        #expect(WebSecurity.basicCredentials("Basic " + Base64.encoded(Array("nocolon".utf8))) == nil)
        #expect(WebSecurity.basicCredentials("Bearer ZGF2ZTpkYXZlMTIz") == nil)
        #expect(WebSecurity.basicCredentials("Basic !!!!") == nil)
        #expect(WebSecurity.basicCredentials("Basic") == nil)
    }

    @Test func theCredentialCacheStaysBounded() {
        let cache = CredentialCache()
        for index in 0..<1_000 {
            cache.remember(index % 2 == 0, for: .init(user: "u\(index)", hash: "h", password: []))
        }
        var remembered = 0
        for index in 0..<1_000 where cache.verdict(for: .init(user: "u\(index)", hash: "h", password: [])) != nil { remembered += 1 }
        #expect(remembered <= CredentialCache.capacity && remembered > 0)
        #expect(cache.verdict(for: .init(user: "u999", hash: "h", password: [])) == false)
    }

    @Test func theRateLimitTakesABurstThenOnePerInterval() async throws {
        let limiter = RateLimiter(.init(interval: .milliseconds(200), burst: 3))
        #expect((0..<5).map { _ in limiter.allows() } == [true, true, true, false, false])
        try await Task.sleep(for: .milliseconds(250))
        #expect(limiter.allows())
        #expect(!RateLimiter(.init(interval: .seconds(1), burst: 0)).allows())
    }
}
