import Collectors
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import LookoutSupport
import MetricModel
import PipelineEvents
import Testing
@testable import Exporter

/// `POST /api/v1/events` on the real HTTP server (`.live`) over a store in a scratch directory.
@Suite struct EventsEndpointTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-events-\(UUID().uuidString)").path
    let logger = Logger(label: "test")
    static let token = "s3cret-token"

    private func withEndpoint(maxBodyBytes: Int = 1 << 20, _ body: @escaping @Sendable (EventsEndpoint, ComponentErrors, any TestClientProtocol) async throws -> Void) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data((Self.token + "\n").utf8).write(to: URL(fileURLWithPath: directory + "/token"))
        var configuration = ExporterConfiguration()
        configuration.listenAddress = "127.0.0.1:0"
        configuration.dataDirectory = directory
        configuration.eventsTokenFile = directory + "/token"
        configuration.eventsMaxBodyBytes = maxBodyBytes
        let errors = ComponentErrors()
        let events = try #require(try EventsEndpoint.make(configuration, errors: errors, logger: logger))
        let registry = CollectorRegistry(collectors: [events.counters, events.statistics], logger: logger)
        try await Daemon.build(configuration, registry: registry, events: events, logger: logger).test(.live) { client in
            try await body(events, errors, client)
        }
    }

    static let authorized: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]

    private func post(_ client: any TestClientProtocol, _ body: String, headers: HTTPFields = authorized) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: "/api/v1/events", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, String(buffer: response.body))
        }
    }

    @Test func oneEventAndAnNDJSONBatchAreStoredOnceEach() async throws {
        try await withEndpoint { events, _, client in
            let one = #"{"id":"e1","type":"run.started","pipeline":"lookout","run_id":"7"}"#
            #expect(try await post(client, one) == (.ok, "{\"stored\":1,\"duplicates\":0}\n"))
            let pretty = "{\n  \"id\": \"e0\",\n  \"type\": \"note\",\n  \"pipeline\": \"lookout\",\n  \"run_id\": \"7\"\n}\n"
            #expect(try await post(client, pretty) == (.ok, "{\"stored\":1,\"duplicates\":0}\n"))
            let batch = one + "\n\n" + #"{"id":"e2","type":"step.started","pipeline":"lookout","run_id":"7","step":"build"}"# + "\r\n"
                + #"{"type":"note","pipeline":"lookout","run_id":"7","message":"no id: one is made"}"# + "\n"
            #expect(try await post(client, batch) == (.ok, "{\"stored\":2,\"duplicates\":1}\n"))
            let stored = try events.store.events(after: 0, limit: 10)
            #expect(stored.map(\.event.id).prefix(3) == ["e1", "e0", "e2"])
            #expect(stored.count == 4)
            #expect(stored[3].event.id.hasPrefix("lookout-"))
            let counters = String(decoding: ExpositionEncoder(format: .text).encode(try events.counters.collect()), as: UTF8.self)
            #expect(counters.contains("lookout_events_received_total{result=\"stored\"} 4\n"))
            #expect(counters.contains("lookout_events_received_total{result=\"duplicate\"} 1\n"))
            // Only new events are counted: e1 was sent twice, its run started once.
            let pipeline = String(decoding: ExpositionEncoder(format: .text).encode(events.statistics.collect()), as: UTF8.self)
            #expect(pipeline.contains("pipeline_runs_in_progress{pipeline=\"lookout\"} 1\n"))
        }
    }

    @Test func runsAreServedNewestFirst() async throws {
        try await withEndpoint { _, _, client in
            let batch = [
                #"{"type":"run.started","pipeline":"lookout","run_id":"1"}"#,
                #"{"type":"run.finished","pipeline":"lookout","run_id":"1","result":"success","duration_seconds":300}"#,
                #"{"type":"run.started","pipeline":"other","run_id":"1"}"#,
            ].joined(separator: "\n")
            _ = try await post(client, batch)
            try await client.execute(uri: "/api/v1/runs?limit=5", method: .get) { response in
                #expect(response.status == .ok)
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [[String: Any]]]
                #expect(json?["runs"]?.map { "\($0["pipeline"]!) \($0["status"]!)" } == ["other running", "lookout success"])
            }
            try await client.execute(uri: "/api/v1/runs/1?pipeline=lookout", method: .get) { response in
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(json?["duration_seconds"] as? Double == 300)
            }
            try await client.execute(uri: "/api/v1/runs/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body) == "{\"error\":\"no run nope\"}\n")
            }
            try await client.execute(uri: "/api/v1/runs?limit=0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    /// Run ids and parameters are percent-decoded as Go decodes them (`+` is a space in a query
    /// but not in a path); a broken escape is a 400 naming it.
    @Test func idsAndParametersArePercentDecoded() async throws {
        try await withEndpoint { _, errors, client in
            _ = try await post(client, #"{"type":"run.started","pipeline":"deploy web","run_id":"é-1"}"# + "\n"
                + #"{"type":"run.started","pipeline":"p","run_id":"a+b"}"#)
            try await client.execute(uri: "/api/v1/runs/%C3%A9-1?pipeline=deploy+web", method: .get) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                #expect(json?["run_id"] as? String == "é-1")
            }
            try await client.execute(uri: "/api/v1/runs/a+b", method: .get) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            try await client.execute(uri: "/api/v1/runs?pipeline=deploy%20web", method: .get) { response in
                let json = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [[String: Any]]]
                #expect(json?["runs"]?.map { "\($0["run_id"]!)" } == ["é-1"])
            }
            try await client.execute(uri: "/api/v1/runs/%zz", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == "{\"error\":\"invalid URL escape \\\"%zz\\\"\"}\n")
            }
            #expect(errors.count(component: "events", errorType: "bad_request") == 1)
        }
    }

    @Test func aMissingOrWrongTokenIs401() async throws {
        try await withEndpoint { events, errors, client in
            let event = #"{"type":"note","pipeline":"p","run_id":"r"}"#
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Basic \(Self.token)"],
                                        [.authorization: "Bearer \(Self.token)x"], [.authorization: "Bearer"]] {
                let (status, body) = try await post(client, event, headers: headers)
                #expect(status == .unauthorized)
                #expect(body == "{\"error\":\"missing or wrong bearer token\"}\n")
            }
            #expect(errors.count(component: "events", errorType: "unauthorized") == 5)
            #expect(try events.store.count() == 0)
            let (status, _) = try await post(client, event, headers: [.authorization: "bearer \(Self.token)"])
            #expect(status == .ok)
        }
    }

    @Test func aBadEventRefusesTheWholeBatchNamingLineAndField() async throws {
        try await withEndpoint { events, errors, client in
            let good = #"{"id":"g","type":"note","pipeline":"p","run_id":"r"}"#
            let cases: [(String, String)] = [
                (good + "\n" + #"{"type":"step.finished","pipeline":"p","run_id":"r","step":"s"}"#, "line 2: result: required for step.finished"),
                (good + "\n" + #"{"type":"note","pipeline":"p","run_id":"r""#, "line 2: invalid JSON at byte 42: unexpected end of input"),
                (#"{"type":"note","pipeline":"p","run_id":"r","exit_code":"0"}"#, "exit_code: must be an integer from -2147483648 to 2147483647, got \"0\""),
                ("[1,2]", "line 1: an event must be a JSON object, got an array"),
                ("", "no events in the body"),
                ("\u{FF}", "line 1: invalid JSON at byte 0: unexpected character"),
            ]
            for (body, message) in cases {
                let (status, answer) = try await post(client, body)
                #expect(status == .badRequest, "\(body)")
                let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: String]
                #expect(json == ["error": message], "\(body)")
            }
            #expect(errors.count(component: "events", errorType: "bad_request") == UInt64(cases.count))
            #expect(try events.store.count() == 0)
        }
    }

    @Test func aBodyOverTheLimitIs413AndTheServerGoesOn() async throws {
        try await withEndpoint(maxBodyBytes: 2048) { events, errors, client in
            let big = #"{"type":"note","pipeline":"p","run_id":"r","message":"\#(String(repeating: "x", count: 4096))"}"#
            let (status, _) = try await post(client, big)
            #expect(status == .contentTooLarge)
            #expect(errors.count(component: "events", errorType: "too_large") == 1)
            let (after, _) = try await post(client, #"{"type":"note","pipeline":"p","run_id":"r"}"#)
            #expect(after == .ok)
            #expect(try events.store.count() == 1)
        }
    }

    @Test func statisticsAreRebuiltFromTheStoreOnStart() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("t\n".utf8).write(to: URL(fileURLWithPath: directory + "/token"))
        var configuration = ExporterConfiguration()
        configuration.dataDirectory = directory
        configuration.eventsTokenFile = directory + "/token"
        let store = try EventStore(directory: directory)
        let now = CivilTime.nowMicroseconds()
        _ = try store.append([
            PipelineEvent(id: "a", type: .deploy, pipeline: "p", runID: "1", stage: "prod", result: .success, time: now),
            PipelineEvent(id: "b", type: .deploy, pipeline: "p", runID: "2", stage: "prod", result: .success, time: now),
        ], receivedAt: now)
        let events = try #require(try EventsEndpoint.make(configuration, errors: ComponentErrors(), logger: logger))
        let text = String(decoding: ExpositionEncoder(format: .text).encode(events.statistics.collect()), as: UTF8.self)
        #expect(text.contains("pipeline_deployments_total{pipeline=\"p\",stage=\"prod\",result=\"success\"} 2\n"))
    }

    @Test func theEventsAPIIsOffWithoutAToken() throws {
        #expect(try EventsEndpoint.make(ExporterConfiguration(), errors: ComponentErrors(), logger: logger) == nil)
        var configuration = ExporterConfiguration()
        configuration.eventsTokenFile = "/nonexistent/token"
        #expect(throws: ConfigurationError(key: "web.events-token-file", line: nil,
                                           message: "the events token file /nonexistent/token cannot be read: No such file or directory")) {
            try EventsEndpoint.make(configuration, errors: ComponentErrors(), logger: logger)
        }
    }
}
