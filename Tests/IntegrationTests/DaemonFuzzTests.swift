import Foundation
import PeerSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A seeded, time-bounded fuzz pass over what reaches a running daemon from outside: random raw
/// HTTP requests on its socket, and random files in its event spool. Every request gets an HTTP
/// answer or a closed connection, the daemon keeps serving, and nothing traps.
/// `LOOKOUT_FUZZ_SEED` replays a run; each failure names the seed and the input.
@Suite(.serialized) struct DaemonFuzzTests {
    static let seed = Fuzzing.seed

    static let methods = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "G\u{0}T", "", "BREW", "get"]
    static let paths = ["/metrics", "/", "/api/v1/query", "/api/v1/events", "/api/v1/runs", "/api/v1/runs/%C3%A9-1",
                        "/api/v1/runs/1/report", "/api/v1/summary", "/api/v1/rules", "/api/v1/alerts", "/nope", "*", "//..//",
                        "/metrics/../api", "/api/v1/runs/%zz"]
    static let parameters = ["query=up", "query=sum(rate(up[5m]))", "query=%zz", "query=" + String(repeating: "(", count: 300),
                             "collect[]=cpu", "collect%5B%5D=loadavg", "exclude[]=nope", "time=-1e300", "time=NaN", "runs=-1",
                             "runs=99999999999999999999", "limit=0", "type=alert", "query=up+offset+-9223372036854775807ms", "a=%",
                             "query=%7B__name__%3D~%22(.*.*)*y%22%7D", "x=" + String(repeating: "A", count: 5000)]
    static let bodies = [#"{"type":"note","pipeline":"p","run_id":"1","message":"m"}"#, #"{"type":"#, "[]", "{}", "null",
                         String(repeating: "[", count: 10_000), #"{"type":"deploy","pipeline":"p","run_id":"1","stage":"s","result":"x"}"#,
                         "query=up", "\u{0}\u{1}\u{FF}", String(repeating: "{\"a\":", count: 3000)]

    @Test func randomRequestsGetAnAnswerAndTheDaemonKeepsServing() async throws {
        var random = SplitMix64(seed: Self.seed)
        let daemon = try await EventsDaemon(token: "fuzz-token", serveArguments: [
            "--collector.disable-defaults", "--collector.loadavg", "--web.read-timeout", "1s", "--query.timeout", "2s",
        ])
        defer { daemon.stop() }
        let port = Int(daemon.url.split(separator: ":").last!)!
        // Paced, so that the fuzz does not starve the tests running beside it of CPU; at least
        // ten requests however loaded the machine is (a run of make test let only two through
        // in 6 s), each waiting at most 3 s for its answer.
        let deadline = ContinuousClock.now + .seconds(6)
        var sent = 0
        while sent < 10 || ContinuousClock.now < deadline {
            let request = Self.request(&random)
            let exchange = try await Harness.runDetachedExchange(port: port, request, timeoutSeconds: 3)
            sent += 1
            try await Task.sleep(for: .milliseconds(10))
            let answered = exchange.response.hasPrefix("HTTP/1.1 ") || exchange.response.hasPrefix("HTTP/1.0 ")
            #expect(answered || exchange.response.isEmpty, "seed \(Self.seed): \(request.prefix(300).debugDescription) → \(exchange.response.prefix(200).debugDescription)")
            if let status = Int(exchange.response.dropFirst(9).prefix(3)) {
                #expect(status < 500 || status == 503, "seed \(Self.seed): \(request.prefix(300).debugDescription) → \(status)")
            }
        }
        let scrape = try await Harness.get(daemon.url + "/metrics")
        #expect(scrape.status == 200, "seed \(Self.seed): \(daemon.log)")
        #expect(!daemon.log.contains("Fatal error") && !daemon.log.contains("Stack dump"), "\(daemon.log)")
    }

    /// Random spool files, imported at start: the good ones are stored, every other one is
    /// moved aside, and the daemon serves.
    @Test func randomSpoolFilesAreImportedOrSetAside() async throws {
        var random = SplitMix64(seed: Self.seed ^ 0x5B001)
        let spool = try Harness.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: spool) }
        var good = 0
        for index in 0..<60 {
            let name = spool.appendingPathComponent("\(1_000_000 + index)-\(index).json").path
            let valid = #"{"type":"note","pipeline":"fuzz","run_id":"\#(index)","message":"m","id":"fuzz-\#(index)","time":"2026-12-01T00:00:00Z"}"#
            switch random.next() % 8 {
            case 0:
                try valid.write(toFile: name, atomically: true, encoding: .utf8)
                good += 1
            case 1: try Fuzzing.mutate(valid, &random).write(toFile: name, atomically: true, encoding: .utf8)
            case 2: try Data((0..<Int(random.next() % 512)).map { _ in UInt8(truncatingIfNeeded: random.next()) }).write(to: URL(fileURLWithPath: name))
            case 3: try String(repeating: "[", count: 100_000).write(toFile: name, atomically: true, encoding: .utf8)
            case 4: try FileManager.default.createSymbolicLink(atPath: name, withDestinationPath: "/etc/hostname")
            case 5: #expect(mkfifo(name, 0o600) == 0)
            case 6: try FileManager.default.createDirectory(atPath: name, withIntermediateDirectories: false)
            default: try "".write(toFile: name, atomically: true, encoding: .utf8)
            }
        }
        let daemon = try await EventsDaemon(token: "fuzz-token", serveArguments: ["--collector.disable-defaults", "--events.spool-dir", spool.path])
        defer { daemon.stop() }
        try await Harness.waitUntil(seconds: 30, "the spool to be worked through") {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: spool.path)) ?? []
            return left.allSatisfy { $0 == "rejected" || !$0.hasSuffix(".json") || $0.hasPrefix(".") }
                || left.filter { $0.hasSuffix(".json") }.allSatisfy { name in
                    var status = stat()
                    return lstat(spool.appendingPathComponent(name).path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
                }
        }
        let runs = try await Harness.get(daemon.url + "/api/v1/runs?pipeline=fuzz&limit=500")
        #expect(runs.status == 200)
        let stored = ((try JSONSerialization.jsonObject(with: Data(runs.body.utf8)) as? [String: Any])?["runs"] as? [Any])?.count ?? -1
        #expect(stored >= good, "seed \(Self.seed): \(good) good files, \(stored) runs stored\n\(daemon.log)")
        #expect(try await Harness.get(daemon.url + "/metrics").status == 200)
        #expect(!daemon.log.contains("Fatal error") && !daemon.log.contains("/etc/hostname content"), "\(daemon.log)")
    }

    /// One random raw request: a method, a path with parameters, headers (some malformed) and
    /// a body whose declared length may lie.
    static func request(_ random: inout SplitMix64) -> String {
        func pick<T>(_ list: [T]) -> T { list[Int(random.next() % UInt64(list.count))] }
        var target = pick(paths)
        if random.next() % 2 == 0 { target += "?" + (0..<Int(1 + random.next() % 3)).map { _ in pick(parameters) }.joined(separator: "&") }
        if random.next() % 6 == 0 { target = Fuzzing.mutate(target, &random) }
        let body = random.next() % 2 == 0 ? pick(bodies) : ""
        var lines = ["\(pick(methods)) \(target) \(random.next() % 8 == 0 ? "HTTP/9.9" : "HTTP/1.1")", "Host: x", "Connection: close"]
        switch random.next() % 6 {
        case 0: lines.append("Content-Length: \(body.utf8.count)")
        case 1: lines.append("Content-Length: \(Int(random.next() % 100_000))")
        case 2: lines.append("Content-Length: -5")
        case 3: lines.append("Transfer-Encoding: chunked")
        case 4: lines.append("Content-Length: 99999999999999999999999")
        default: break
        }
        switch random.next() % 6 {
        case 0: lines.append("Authorization: Bearer fuzz-token")
        case 1: lines.append("Authorization: Basic !!!")
        case 2: lines.append("Content-Type: application/x-www-form-urlencoded")
        case 3: lines.append("X-Long: " + String(repeating: "v", count: Int(random.next() % 20_000)))
        case 4: lines.append("Accept: application/openmetrics-text; version=1.0.0, */*;q=0.1")
        default: lines.append("Bad Header Line")
        }
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }
}
