import Foundation
import Testing

/// `--web.config.file` over real sockets: a real Prometheus scrapes Lookout over HTTPS with basic
/// authentication and client certificates; curl asks Lookout and node_exporter (exporter-toolkit,
/// the anchor) the same questions with the same web configuration file and gets the same
/// answers; certificates and users change while the daemon runs; the client commands say what
/// a secured daemon wants.
@Suite(.serialized) struct WebConfigTests {
    /// exporter-toolkit's web/testdata/web_config_users.good.yml user dave and its password.
    static let daveHash = "$2y$10$2UXri9cIDdgeKjBo4Rlpx.U3ZLDV8X1IxKmsfOvhcM5oXQt/mLmXq"

    @Test func prometheusScrapesOverHTTPSWithBasicAuthAndAClientCertificate() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let web = try pki.write("web.yml", """
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.crt
            basic_auth_users:
              dave: \(Self.daveHash)
            """)
        let port = try Harness.freePort()
        let lookout = try Self.serve(port: port, web: web)
        defer { lookout.stop() }
        try await Self.waitUntilServing(lookout, port: port, pki: pki)

        func job(_ name: String, password: String, certificate: Bool) -> String {
            (["  - job_name: \(name)", "    scheme: https", "    tls_config:", "      ca_file: \(pki.path("ca.crt"))"]
                + (certificate ? ["      cert_file: \(pki.path("client.crt"))", "      key_file: \(pki.path("client.key"))"] : [])
                + ["    basic_auth:", "      username: dave", "      password: \(password)",
                   "    static_configs:", "      - targets: [\"127.0.0.1:\(port)\"]"])
                .joined(separator: "\n")
        }
        let directory = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (prometheus, prometheusURL) = try await Harness.prometheus(configuration: """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
            """ + "\n" + [job("lookout", password: "dave123", certificate: true),
                          job("wrong-password", password: "dave124", certificate: true),
                          job("no-certificate", password: "dave123", certificate: false)].joined(separator: "\n") + "\n", in: directory)
        defer { prometheus.stop() }

        var up: [String: String] = [:]
        try await Harness.waitUntil(seconds: 30, "Prometheus to scrape every job") {
            up = (try? await Self.upByJob(prometheusURL)) ?? [:]
            return up.count == 3
        }
        #expect(up == ["lookout": "1", "wrong-password": "0", "no-certificate": "0"], "\(prometheus.log)\n\(lookout.log)")
        let loads = try await PrometheusScrapeTests.values(prometheusURL + "/api/v1/query?query=node_load1")
        #expect(loads.count == 1)
    }

    /// The same web configuration file given to node_exporter 1.5.0 (exporter-toolkit) and to
    /// Lookout; the same requests get the same status, the same body for refusals, and the same
    /// authentication and configured headers.
    @Test func answersAsNodeExporterDoesToTheSameRequests() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let nodeExporter = try Harness.tool("prometheus-node-exporter")
        for (name, authentication) in [
            ("server certificate only", ""),
            ("client certificate if given", "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: \(pki.path("ca.crt"))\n"),
            ("client certificate required", "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: \(pki.path("ca.crt"))\n"),
        ] {
            let web = try pki.write("web.yml", """
                tls_server_config:
                  cert_file: \(pki.path("server.crt"))
                  key_file: \(pki.path("server.key"))
                \(authentication)http_server_config:
                  headers:
                    X-Frame-Options: deny
                    Content-Security-Policy: default-src 'none'
                basic_auth_users:
                  dave: \(Self.daveHash)
                """)
            let lookoutPort = try Harness.freePort()
            let lookout = try Self.serve(port: lookoutPort, web: web)
            defer { lookout.stop() }
            let anchorPort = try Harness.freePort()
            let anchor = try ServerProcess(
                name: "node_exporter", executable: nodeExporter,
                arguments: ["--web.listen-address=127.0.0.1:\(anchorPort)", "--web.config.file=\(web)",
                            "--collector.disable-defaults", "--collector.loadavg"])
            defer { anchor.stop() }
            try await Self.waitUntilServing(lookout, port: lookoutPort, pki: pki)
            try await Self.waitUntilServing(anchor, port: anchorPort, pki: pki)

            let client = ["--cert", pki.path("client.crt"), "--key", pki.path("client.key")]
            let stranger = ["--cert", pki.path("stranger.crt"), "--key", pki.path("stranger.key")]
            let requests: [(String, [String], String)] = [
                ("no credentials", client, "https"),
                ("wrong password", client + ["-u", "dave:dave124"], "https"),
                ("unknown user", client + ["-u", "eve:dave123"], "https"),
                ("right password", client + ["-u", "dave:dave123"], "https"),
                ("password with a colon", client + ["-u", "dave:dave123:"], "https"),
                ("broken basic header", client + ["-H", "Authorization: Basic !!!!"], "https"),
                ("bearer instead of basic", client + ["-H", "Authorization: Bearer dave123"], "https"),
                ("plain HTTP to the TLS port", ["-u", "dave:dave123"], "http"),
                ("no client certificate", ["-u", "dave:dave123"], "https"),
                ("a certificate the CA did not sign", stranger + ["-u", "dave:dave123"], "https"),
                ("TLS 1.2 at most", client + ["-u", "dave:dave123", "--tls-max", "1.2"], "https"),
            ]
            for (what, arguments, scheme) in requests {
                let theirs = try await Self.curl(pki, arguments, url: "\(scheme)://127.0.0.1:\(anchorPort)/metrics")
                let ours = try await Self.curl(pki, arguments, url: "\(scheme)://127.0.0.1:\(lookoutPort)/metrics")
                #expect(ours.comparable == theirs.comparable, "\(name), \(what): node_exporter \(theirs), lookout \(ours)")
            }
        }
    }

    @Test func certificatesAndUsersChangeWithoutARestart() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let web = try pki.write("web.yml", "tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n")
        try pki.copy("server", to: "live")
        let port = try Harness.freePort()
        let lookout = try Self.serve(port: port, web: web)
        defer { lookout.stop() }
        try await Self.waitUntilServing(lookout, port: port, pki: pki)
        #expect(try await Self.curl(pki, [], url: "https://127.0.0.1:\(port)/metrics").subject == "CN=lookout first")

        // A renewed certificate replaces the files; the next connection gets it.
        try pki.copy("renewed", to: "live")
        #expect(try await Self.curl(pki, [], url: "https://127.0.0.1:\(port)/metrics").subject == "CN=lookout renewed")

        // client_allowed_sans: a client certificate must name one of them.
        // IP addresses are matched as Go prints them (net.IP.String).
        for (allowed, served) in [("other.example", false), ("pipeline.example", true), ("192.0.2.7", true), ("2001:db8::7", true),
                                  ("2001:db8:0:0:0:0:0:7", false)] {
            _ = try pki.write("web.yml", """
                tls_server_config:
                  cert_file: live.crt
                  key_file: live.key
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: ca.crt
                  client_allowed_sans: [\(allowed)]
                """)
            let answer = try await Self.curl(pki, ["--cert", pki.path("client.crt"), "--key", pki.path("client.key")],
                                       url: "https://127.0.0.1:\(port)/metrics")
            #expect((answer.status == 200) == served, "\(allowed): \(answer)")
        }

        // Users added to the file take effect on the next request, TLS settings on the next connection.
        _ = try pki.write("web.yml", """
            tls_server_config:
              cert_file: live.crt
              key_file: live.key
            basic_auth_users:
              dave: \(Self.daveHash)
            """)
        #expect(try await Self.curl(pki, [], url: "https://127.0.0.1:\(port)/metrics").status == 401)
        #expect(try await Self.curl(pki, ["-u", "dave:dave123"], url: "https://127.0.0.1:\(port)/metrics").status == 200)

        // A file broken while running refuses rather than serving without its protection, and
        // says why in the log; mended, it serves again.
        _ = try pki.write("web.yml", "tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\nbasic_auth_users: [\n")
        let broken = try await Self.curl(pki, ["-u", "dave:dave123"], url: "https://127.0.0.1:\(port)/metrics")
        #expect(broken.status == nil)
        _ = try pki.write("web.yml", "tls_server_config:\n  cert_file: live.crt\n  key_file: live.key\n")
        #expect(try await Self.curl(pki, [], url: "https://127.0.0.1:\(port)/metrics").status == 200)
        let metrics = try await Self.curl(pki, [], url: "https://127.0.0.1:\(port)/metrics").body
        #expect(metrics.contains(#"lookout_component_errors_total{component="http",error_type="web_config"} 1"#), "\(lookout.log)")
        #expect(metrics.contains(#"lookout_component_errors_total{component="http",error_type="unauthorized"} 1"#))
        #expect(lookout.log.contains("web.yml:") && lookout.log.contains("invalid YAML"), "\(lookout.log)")
    }

    @Test func checkConfigAndServeRefuseABrokenWebConfiguration() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let good = try pki.write("good.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
        let checked = try await Harness.runDetached(Harness.lookoutBinary, ["check-config", "--web.config.file", good])
        #expect(checked.status == 0 && checked.stdout == "\(good): OK (TLS)\n", "\(checked.stderr)")
        // Through the configuration file's web.config.file key too.
        let configuration = try pki.write("lookout.yml", "web:\n  config:\n    file: \(good)\n")
        let both = try await Harness.runDetached(Harness.lookoutBinary, ["check-config", configuration])
        #expect(both.status == 0 && both.stdout.contains("\(good): OK (TLS)"), "\(both.stderr)")

        for (text, problem) in [
            ("basic_auth_users:\n  john: doe\n", ":2: basic_auth_users.john: crypto/bcrypt: hashedSecret too short to be a bcrypted password"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: missing.key\n",
             ": tls_server_config.key_file: failed to read key_file (\(pki.path("missing.key"))): No such file or directory"),
            ("tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n", ": tls_server_config.key_file: failed to load X509KeyPair"),
            ("tls_server_config:\n  cert_file: ca.srl\n  key_file: server.key\n", ": tls_server_config.cert_file: failed to load X509KeyPair"),
        ] {
            let bad = try pki.write("bad.yml", text)
            let check = try await Harness.runDetached(Harness.lookoutBinary, ["check-config", "--web.config.file", bad])
            #expect(check.status == 1 && check.stderr.hasPrefix("lookout: error: \(bad)\(problem)"), "\(check.stderr)")
            let port = try Harness.freePort()
            let serve = try await Harness.runDetached(Harness.lookoutBinary, ["serve", "--web.listen-address", "127.0.0.1:\(port)",
                                                                "--web.config.file", bad, "--collector.disable-defaults"])
            #expect(serve.status == 1 && serve.stderr.contains(problem), "\(serve.stderr)")
        }
    }

    @Test func clientCommandsSayWhatASecuredDaemonWants() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let web = try pki.write("web.yml", """
            tls_server_config:
              cert_file: server.crt
              key_file: server.key
            basic_auth_users:
              dave: \(Self.daveHash)
            """)
        let token = try pki.write("token", "pipeline-token\n")
        let right = try pki.write("right", "dave:dave123\n")
        let wrong = try pki.write("wrong", "dave:dave124\n")
        let port = try Harness.freePort()
        let data = pki.path("data")
        let lookout = try Self.serve(port: port, web: web, extra: ["--web.events-token-file", token, "--data.dir", data])
        defer { lookout.stop() }
        try await Self.waitUntilServing(lookout, port: port, pki: pki)
        let https = "https://127.0.0.1:\(port)"

        func summary(_ arguments: [String], url: String = https) async throws -> (status: Int32, stderr: String) {
            let result = try await Harness.runDetached(Harness.lookoutBinary, ["summary", "--json", "--url", url] + arguments)
            return (result.status, result.stderr)
        }
        let noCA = try await summary([])
        #expect(noCA.status == 1 && noCA.stderr.contains("give the CA of its certificate with --tls.ca-file"), "\(noCA.stderr)")
        let noCredentials = try await summary(["--tls.ca-file", pki.path("ca.crt")])
        #expect(noCredentials.stderr.contains("wants credentials: give --basic-auth-file"), "\(noCredentials.stderr)")
        let wrongCredentials = try await summary(["--tls.ca-file", pki.path("ca.crt"), "--basic-auth-file", wrong])
        #expect(wrongCredentials.stderr.contains("refused the credentials of --basic-auth-file"), "\(wrongCredentials.stderr)")
        let plain = try await summary(["--basic-auth-file", right], url: "http://127.0.0.1:\(port)")
        #expect(plain.stderr.contains("serves TLS: use an https:// URL"), "\(plain.stderr)")
        let keyless = try await summary(["--tls.cert-file", pki.path("client.crt")])
        #expect(keyless.stderr.contains("give both --tls.cert-file and --tls.key-file"), "\(keyless.stderr)")
        let allowed = try await summary(["--tls.ca-file", pki.path("ca.crt"), "--basic-auth-file", right])
        #expect(allowed.status == 0, "\(allowed.stderr)")

        // An event carries basic authentication and the events token together; the environment
        // variables stand in for the flags.
        let event = try await Harness.runDetached("/usr/bin/env", [
            "LOOKOUT_TLS_CA_FILE=\(pki.path("ca.crt"))", "LOOKOUT_BASIC_AUTH_FILE=\(right)", "LOOKOUT_URL=\(https)",
            "LOOKOUT_EVENTS_TOKEN_FILE=\(token)", Harness.lookoutBinary, "event", "step.finished", "--strict",
            "--pipeline", "web", "--run-id", "1", "--step", "build", "--result", "success"])
        #expect(event.status == 0, "\(event.stderr)\n\(lookout.log)")
        let runs = try await Harness.runDetached(Harness.lookoutBinary, [
            "summary", "--json", "--url", https, "--tls.ca-file", pki.path("ca.crt"), "--basic-auth-file", right])
        #expect(runs.stdout.contains(#""pipeline":"web""#), "\(runs.stdout)")
    }

    // MARK: - Helpers

    /// `lookout serve` with one collector and `web` as its web configuration.
    static func serve(port: Int, web: String, extra: [String] = []) throws -> ServerProcess {
        try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address", "127.0.0.1:\(port)", "--web.config.file", web,
                        "--collector.disable-defaults", "--collector.loadavg"] + extra)
    }

    /// Waits until the server answers over TLS (with the client certificate and dave's password,
    /// whatever it asks for).
    static func waitUntilServing(_ server: ServerProcess, port: Int, pki: TestPKI) async throws {
        let arguments = ["--cert", pki.path("client.crt"), "--key", pki.path("client.key"), "-u", "dave:dave123"]
        do {
            try await Harness.waitUntil(seconds: 60, "\(server.name) over TLS") {
                guard server.isRunning else { return false }
                return (try? await curl(pki, arguments, url: "https://127.0.0.1:\(port)/metrics").status) == 200
            }
        } catch {
            throw HarnessError("\(server.name) did not start: \(error)\n\(server.log)")
        }
    }

    /// `up` per job from Prometheus' query API.
    static func upByJob(_ prometheusURL: String) async throws -> [String: String] {
        let response = try await Harness.get(prometheusURL + "/api/v1/query?query=up")
        guard let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any],
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]] else { return [:] }
        var up: [String: String] = [:]
        for sample in result {
            if let job = (sample["metric"] as? [String: String])?["job"], let value = (sample["value"] as? [Any])?.last as? String {
                up[job] = value
            }
        }
        return up
    }

    /// One curl exchange: the status (nil when the connection failed), the headers that matter
    /// here, the body, and the server certificate's subject.
    struct Exchange: CustomStringConvertible {
        var status: Int?
        var headers: [String: String]
        var body: String
        var subject: String?

        /// What both servers must agree on: the status, and for refusals the body and headers.
        var comparable: String {
            guard let status else { return "refused" }
            let names = ["www-authenticate", "content-type", "x-content-type-options", "x-frame-options", "content-security-policy"]
            let fields = names.map { "\($0)=\(headers[$0] ?? "")" }.joined(separator: " ")
            return status == 200 ? "200 \(headers["x-frame-options"] ?? "")" : "\(status) \(fields) \(body.debugDescription)"
        }

        var description: String { "\(status.map(String.init) ?? "refused") \(headers) \(body.prefix(120).debugDescription)" }
    }

    /// Runs curl (the CA of the test PKI trusted) and reads its answer.
    static func curl(_ pki: TestPKI, _ arguments: [String], url: String) async throws -> Exchange {
        let result = try await Harness.runDetached(try Harness.tool("curl"), ["-sS", "-v", "-i", "--max-time", "10", "--cacert", pki.path("ca.crt")] + arguments + [url])
        let subject = result.stderr.split(separator: "\n").first { $0.contains("subject: ") }
            .map { String($0[$0.range(of: "subject: ")!.upperBound...]).trimmingCharacters(in: .whitespaces) }
        guard result.status == 0 else { return Exchange(status: nil, headers: [:], body: result.stderr, subject: subject) }
        let text = result.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let (head, body) = text.range(of: "\n\n").map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) } ?? (text, "")
        let lines = head.split(separator: "\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Exchange(status: status, headers: headers, body: body, subject: subject)
    }
}

/// A throw-away certificate authority made with the openssl command: a CA, a server certificate
/// for 127.0.0.1 and localhost ("lookout first"), a renewed one ("lookout renewed"), a client
/// certificate the CA signed, and a self-signed "stranger".
struct TestPKI {
    let directory: URL

    init() throws {
        directory = try Harness.temporaryDirectory()
        let openssl = try Harness.tool("openssl")
        func run(_ arguments: [String]) throws {
            let result = try Harness.run(openssl, arguments, in: directory.path)
            guard result.status == 0 else { throw HarnessError("openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
        }
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try run(["req", "-x509"] + newKey + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=Lookout test CA"])
        for (name, subject, extensions) in [
            ("server", "lookout first", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("renewed", "lookout renewed", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", "pipeline", "subjectAltName=DNS:pipeline.example,IP:192.0.2.7,IP:2001:db8::7\nextendedKeyUsage=clientAuth\n"),
        ] {
            try run(["req"] + newKey + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(subject)"])
            _ = try write("\(name).ext", extensions)
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext"])
        }
        try run(["req", "-x509"] + newKey + ["-keyout", "stranger.key", "-out", "stranger.crt", "-days", "2", "-subj", "/CN=stranger"])
    }

    /// The absolute path of `name` in the PKI's directory.
    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `text` to `name` (replacing it at once) and returns its path.
    @discardableResult func write(_ name: String, _ text: String) throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// Copies the certificate and key of `source` over those of `target`, each file replaced at once.
    func copy(_ source: String, to target: String) throws {
        for suffix in [".key", ".crt"] {
            try write(target + suffix, try String(contentsOfFile: path(source + suffix), encoding: .utf8))
        }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
