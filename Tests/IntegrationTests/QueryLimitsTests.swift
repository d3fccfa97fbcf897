import Foundation
import LookoutSupport
import Testing

/// The query API and the scrape endpoint over a real socket, as hostile clients and Prometheus
/// itself send requests: percent-encoded names (`collect%5B%5D`), `+` for spaces, form bodies,
/// broken escapes, and queries past `--query.timeout` or `--query.max-samples`. Each refusal is
/// a 4xx or 503 with Prometheus' error shape, counted, and the daemon keeps serving.
@Suite(.serialized, .timeLimit(.minutes(3))) struct QueryLimitsTests {
    private static func daemon(_ extra: [String] = []) async throws -> EventsDaemon {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--collector.loadavg",
                                                                         "--collector.meminfo", "--rules.evaluation-interval", "1s"] + extra)
        try await Harness.waitUntil(seconds: 60, "the history's first round") {
            let metrics = (try? await Harness.get(daemon.url + "/metrics").body) ?? ""
            return metrics.contains("lookout_rule_history_series ") && !metrics.contains("lookout_rule_history_series 0\n")
        }
        return daemon
    }

    private static func families(_ body: String) -> Set<String> {
        Set(body.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
    }

    @Test func parametersAreDecodedAsGoDecodesThem() async throws {
        let daemon = try await Self.daemon()
        defer { daemon.stop() }
        // Prometheus sends collect[] percent-encoded.
        let selected = try await Harness.get(daemon.url + "/metrics?collect%5B%5D=loadavg")
        #expect(Self.families(selected.body).filter { $0.hasPrefix("node_") }.sorted() == ["node_load1", "node_load15", "node_load5"],
                "\(selected.body.prefix(500))")
        let query = daemon.url + "/api/v1/query?query="
        // `+` is a space, `%2B` a plus.
        let plus = try await Harness.get(query + "1+%2B+1")
        #expect(plus.status == 200 && plus.body.hasSuffix(#","2"]}}"# + "\n"), "\(plus.body)")
        // A long query as a form body; form values come before the URL's.
        let long = "sum(node_load1)" + String(repeating: " + 0", count: 100)
        let posted = try await Harness.post(daemon.url + "/api/v1/query?query=broken(", body: "query=" + PercentEncoding.encoded(long),
                                            headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(posted.status == 200 && posted.body.contains(#""resultType":"vector""#), "\(posted.body)")
        let chain = Array(repeating: "1", count: 30_000).joined(separator: "+")
        let refused = try await Harness.post(daemon.url + "/api/v1/query", body: "query=" + PercentEncoding.encoded(chain),
                                             headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(refused.status == 400 && refused.body.contains("expression nested too deeply"), "\(refused.body.prefix(300))")
        // Broken escapes are refused, naming them, wherever they are.
        // (Sent raw: an HTTP client would re-encode them.)
        let port = Int(daemon.url.split(separator: ":").last!)!
        let badQuery = try Harness.raw(port: port, "GET /api/v1/query?query=up%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(badQuery.hasPrefix("HTTP/1.1 400") && badQuery.contains(#"invalid URL escape \"%zz\""#), "\(badQuery)")
        let badScrape = try Harness.raw(port: port, "GET /metrics?collect%5B%5D=load%av HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(badScrape.hasPrefix("HTTP/1.1 400") && badScrape.contains(#"invalid URL escape "%av""#), "\(badScrape)")
        let metrics = try await Harness.get(daemon.url + "/metrics").body
        #expect(metrics.contains(#"lookout_component_errors_total{component="rules",error_type="bad_query"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"lookout_component_errors_total{component="http",error_type="bad_request"} 1"#), "\(metrics)")
    }

    @Test func queriesPastTheirLimitsAreStoppedAndCounted() async throws {
        let daemon = try await Self.daemon(["--query.timeout", "1ms"])
        defer { daemon.stop() }
        let query = daemon.url + "/api/v1/query?query="
        // Every series, matched by a pattern, takes more than a millisecond in any build.
        let slow = try await Harness.get(query + PercentEncoding.encoded(#"count({__name__=~".*(a|e|i|o|u).*"}) or vector(1)"#))
        #expect(slow.status == 503, "\(slow.body)")
        #expect(slow.body.hasPrefix(#"{"status":"error","errorType":"timeout","error":"query timed out in "#), "\(slow.body)")
        let metrics = try await Harness.get(daemon.url + "/metrics").body
        #expect(metrics.contains(#"lookout_component_errors_total{component="rules",error_type="timeout"} 1"#), "\(metrics)")

        let bounded = try await Self.daemon(["--query.max-samples", "5"])
        defer { bounded.stop() }
        let many = try await Harness.get(bounded.url + "/api/v1/query?query=" + PercentEncoding.encoded(#"{__name__=~"node_memory_.+"}"#))
        #expect(many.status == 422, "\(many.body)")
        #expect(many.body == #"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"# + "\n")
        let few = try await Harness.get(bounded.url + "/api/v1/query?query=node_load1")
        #expect(few.status == 200, "\(few.body)")
    }

    /// With no rules there is no history, but the API answers: JSON a client can read, with a
    /// warning saying why every selector comes back empty.
    @Test func theQueryAPIAnswersWithNoRulesLoaded() async throws {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--collector.loadavg", "--no-rules.defaults"])
        defer { daemon.stop() }
        let warning = #","warnings":["no rules are evaluated (--no-rules.defaults and no --rules.file), so no history is kept to query"]}"#
        let scalar = try await Harness.get(daemon.url + "/api/v1/query?query=vector(1)&time=10")
        #expect(scalar.status == 200)
        #expect(scalar.body == #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[10,"1"]}]}"# + warning + "\n")
        let empty = try await Harness.get(daemon.url + "/api/v1/query?query=node_load1&time=10")
        #expect(empty.body == #"{"status":"success","data":{"resultType":"vector","result":[]}"# + warning + "\n")
        let alerts = try await Harness.get(daemon.url + "/api/v1/alerts")
        #expect(alerts.status == 200 && alerts.body.hasPrefix(#"{"status":"success","data":{"alerts":[]}"#), "\(alerts.body)")
    }

    /// A method a path does not take is a 405 naming the ones it does, counted; HEAD works
    /// where GET does on the pages a prober looks at.
    @Test func wrongMethodsAre405WithAllow() async throws {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--collector.loadavg"])
        defer { daemon.stop() }
        let port = Int(daemon.url.split(separator: ":").last!)!
        for (request, allow) in [("PUT /api/v1/query", "GET, POST"), ("DELETE /metrics", "GET, HEAD"), ("GET /api/v1/events", "POST"),
                                 ("POST /api/v1/alerts", "GET"), ("PATCH /api/v1/runs/1", "GET"), ("POST /", "GET, HEAD"),
                                 ("PUT /api/v1/summary", "GET"), ("OPTIONS /api/v1/rules", "GET")] {
            let response = try Harness.raw(port: port, "\(request) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 405"), "\(request): \(response)")
            #expect(response.lowercased().contains("\r\nallow: \(allow.lowercased())\r\n"), "\(request): \(response)")
        }
        for path in ["/", "/metrics"] {
            let head = try Harness.raw(port: port, "HEAD \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200"), "HEAD \(path): \(head)")
        }
        let metrics = try await Harness.get(daemon.url + "/metrics").body
        #expect(metrics.contains(#"lookout_component_errors_total{component="http",error_type="method_not_allowed"} 8"#), "\(metrics)")
    }

    /// A request whose headers never finish is not kept: the connection is closed after
    /// `--web.read-timeout`, and the daemon keeps answering with its connections limited.
    @Test func halfSentRequestsAreClosedAfterTheReadTimeout() async throws {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--collector.loadavg",
                                                                         "--web.read-timeout", "1s", "--web.max-connections", "4"])
        defer { daemon.stop() }
        let port = Int(daemon.url.split(separator: ":").last!)!
        let halfSent = try Harness.rawExchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        #expect(halfSent.closedByServer, "the server kept a half-sent request open past its read timeout")
        #expect(halfSent.response.isEmpty, "\(halfSent.response)")
        // Many connections opened and abandoned, more than the limit: each is closed in turn,
        // and a scrape after them is served.
        let abandoned = try (0..<8).map { _ in try Harness.rawExchange(port: port, "GET /met") }
        #expect(abandoned.allSatisfy { $0.closedByServer })
        let scrape = try await Harness.get(daemon.url + "/metrics")
        #expect(scrape.status == 200)
    }

    /// A body that stops arriving is not waited for past the read timeout either.
    @Test func aBodyThatStopsArrivingIsClosedAfterTheReadTimeout() async throws {
        let daemon = try await EventsDaemon(token: "t", serveArguments: ["--collector.disable-defaults", "--web.read-timeout", "1s"])
        defer { daemon.stop() }
        let port = Int(daemon.url.split(separator: ":").last!)!
        let stalled = try await Harness.runDetachedExchange(
            port: port, "POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nquery=up")
        // Closed by the server within the exchange's 10 s receive timeout (1 s read timeout here);
        // how soon is not asserted: a loaded machine stretches it.
        #expect(stalled.closedByServer, "the server kept waiting for a body that stopped")
    }

    /// Out of file descriptors, the daemon cannot accept: it says so in the log and in
    /// `lookout_component_errors_total{error_type="accept"}`, and serves again once they are free.
    @Test func failedAcceptsAreLoggedCountedAndRecoverFrom() async throws {
        let port = try Harness.freePort()
        let lookout = try ServerProcess(name: "lookout", executable: "/bin/sh", arguments: [
            "-c", "ulimit -n 48 && exec \"$0\" serve --web.listen-address 127.0.0.1:\(port) --collector.disable-defaults --collector.loadavg",
            Harness.lookoutBinary])
        defer { lookout.stop() }
        try await lookout.waitUntilServing("http://127.0.0.1:\(port)/metrics")
        var held: [Int32] = []
        defer { for descriptor in held { close(descriptor) } }
        for _ in 0..<80 { held.append(try Harness.connect(port: port)) }
        try await Harness.waitUntil(seconds: 20, "the accept failure in the log") { lookout.log.contains("cannot accept connections") }
        for descriptor in held { close(descriptor) }
        held = []
        var scrape = ""
        try await Harness.waitUntil(seconds: 20, "a scrape after the descriptors are free") {
            scrape = (try? await Harness.get("http://127.0.0.1:\(port)/metrics").body) ?? ""
            return !scrape.isEmpty
        }
        #expect(scrape.contains(#"lookout_component_errors_total{component="http",error_type="accept"}"#), "\(scrape)")
        #expect(lookout.log.split(separator: "\n").filter { $0.contains("cannot accept connections") }.count <= 3,
                "logged at most once every 10 s\n\(lookout.log)")
    }

    @Test func limitFlagsAreChecked() throws {
        for (flag, value, message) in [
            ("--query.max-concurrency", "0", "expected an integer from 1 to 1000, got \"0\""),
            ("--query.max-samples", "0", "expected a positive integer, got \"0\""),
            ("--query.timeout", "soon", "'soon' is not a duration like 500ms, 10s or 1m"),
            ("--web.max-connections", "0", "expected an integer from 1 to 65536, got \"0\""),
            ("--web.read-timeout", "never", "'never' is not a duration like 500ms, 10s or 1m"),
        ] {
            let result = try Harness.run(Harness.lookoutBinary, ["serve", "--web.listen-address", "127.0.0.1:\(try Harness.freePort())",
                                                                 flag, value])
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(flag): \(result.stderr)")
        }
    }
}
