import Foundation
import Logging
import MetricModel
import Shipping
import Testing
@testable import Shippers

@Suite struct ElasticsearchSettingsTests {
    private func make(_ adjust: (inout ElasticsearchSettings) -> Void) throws {
        var settings = ElasticsearchSettings(urls: ["http://127.0.0.1:9200"])
        adjust(&settings)
        _ = try ElasticsearchShipper(settings: settings, logger: Logger(label: "test"), errors: ComponentErrors())
    }

    private func message(_ adjust: (inout ElasticsearchSettings) -> Void) -> String? {
        do {
            try make(adjust)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func defaults() {
        let settings = ElasticsearchSettings(urls: ["http://es:9200"])
        #expect(settings.target == .indexPattern("lookout-logs-%Y.%m.%d"))
        #expect(settings.templateName == "lookout-logs")
        #expect(settings.credentials == .none)
        #expect(settings.tls == ElasticsearchSettings.TLS(insecureSkipVerify: false))
        #expect(settings.gzip && settings.gzipLevel == 1)
        #expect(settings.maxBulkBytes == 10_485_760)
        #expect(settings.requestTimeout == .seconds(60) && settings.connectTimeout == .seconds(10))
        #expect(settings.deadLetterPath == nil && settings.deadLetterMaxBytes == 104_857_600)
        #expect(settings.backoffInitial == .seconds(1) && settings.backoffMax == .seconds(60))
    }

    @Test func rejectsSettingsThatCannotWork() {
        #expect(message { $0.urls = [] } == "no Elasticsearch URL is configured")
        #expect(message { $0.urls = ["ftp://user:pw@es"] } == "the Elasticsearch URL 'ftp://es' must start with http:// or https:// and name a host")
        #expect(message { $0.urls = ["http://"] } != nil)
        #expect(message { $0.target = .indexPattern("logs-%Q") } != nil)
        #expect(message { $0.target = .dataStream("logs-%Y") } != nil)
        #expect(message { $0.templateName = "Lookout Logs" } != nil)
        #expect(message { $0.gzipLevel = 0 } != nil)
        #expect(message { $0.maxBulkBytes = 0 } != nil)
        #expect(message { $0.backoffMax = .milliseconds(1) } != nil)
        #expect(message { $0.tls.caFile = "/nonexistent/ca.pem" } == "the TLS CA file /nonexistent/ca.pem cannot be read")
        #expect(message { $0.credentials = .apiKeyFile("/nonexistent/key") } == "the API key file /nonexistent/key cannot be read: No such file or directory")
    }

    @Test func credentialFilesAreCheckedWithoutRevealingThem() throws {
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("secret").path
        try "hunter2-no-colon\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(message { $0.credentials = .basicAuthFile(file) } == "the basic auth file \(file) does not hold user:password")
        try "line-one\nline-two\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(message { $0.credentials = .bearerTokenFile(file) } == "the bearer token file \(file) holds more than one line")
        try "\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(message { $0.credentials = .apiKeyFile(file) } == "the API key file \(file) is empty")
        try "user:pass\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(message { $0.credentials = .basicAuthFile(file) } == nil)
    }
}

@Suite struct ElasticsearchShipperTests {
    @Test func basicAuthAndDataStreamTarget() async throws {
        let server = try FaultServer()
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("basic").path
        try "lookout:s3cret\n".write(toFile: file, atomically: true, encoding: .utf8)
        var settings = Fixture.settings([server.url + "/"], directory: directory)
        settings.target = .dataStream("logs-lookout-default")
        settings.credentials = .basicAuthFile(file)
        let shipper = try ElasticsearchShipper(settings: settings, logger: Logger(label: "test"), errors: ComponentErrors())

        try await shipper.prepare()
        #expect(try await shipper.ship(Fixture.documents(3)) == ShipmentReport(indexed: 3))

        let template = try #require(server.otherRequests.first)
        #expect(template.hasPrefix(#"PUT /_index_template/lookout-logs {"index_patterns":["logs-lookout-default"],"priority":200,"data_stream":{},"template""#))
        let request = try #require(server.requests.first)
        #expect(request.items.map(\.index) == Array(repeating: "logs-lookout-default", count: 3))
        #expect(request.headers["authorization"] == "Basic \(Data("lookout:s3cret".utf8).base64EncodedString())")
    }

    @Test func malformedSourcesAreDeadLetteredWithoutBeingSent() async throws {
        let server = try FaultServer()
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let shipper = try ElasticsearchShipper(
            settings: Fixture.settings([server.url], directory: directory), logger: Logger(label: "test"), errors: ComponentErrors())
        var documents = Fixture.documents(3)
        documents[1].source = Array("{\"message\":\n\"two lines\"}".utf8)

        #expect(try await shipper.ship(documents) == ShipmentReport(indexed: 2, deadLettered: 1))
        #expect(server.requests.map { $0.items.map(\.id) } == [["doc-0", "doc-2"]])
        let letter = try Fixture.object(Fixture.lines(directory.appendingPathComponent("dead-letters.ndjson").path)[0])
        #expect(letter["_id"] as? String == "doc-1")
        #expect((letter["error"] as? [String: String])?["type"] == "invalid_document")
    }

    @Test func missingTemplatePrivilegeOnlyWarnsAtStartUp() async throws {
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (logger, records) = RecordingLogHandler.logger()
        let errors = ComponentErrors()
        let server = try FaultServer(otherStatus: 403)
        let shipper = try ElasticsearchShipper(
            settings: Fixture.settings([server.url], directory: directory), logger: logger, errors: errors)
        try await shipper.prepare()
        #expect(records.messages(atLeast: .warning) == [
            "cannot install index template lookout-logs at \(server.url): the credentials lack the manage_index_templates privilege; documents will use dynamic mappings ",
        ])
        #expect(errors.count(component: "elasticsearch", errorType: "index_template") == 1)
    }

    @Test func anUnreachableClusterOnlyWarnsAtStartUp() async throws {
        let directory = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (logger, records) = RecordingLogHandler.logger()
        let errors = ComponentErrors()
        let server = try FaultServer()
        let url = server.url
        server.stop()
        let shipper = try ElasticsearchShipper(
            settings: Fixture.settings([url], directory: directory), logger: logger, errors: errors)
        try await shipper.prepare()
        #expect(records.messages(atLeast: .warning).count == 1)
        #expect(errors.count(component: "elasticsearch", errorType: "index_template") == 1)
    }

    @Test func templateBody() {
        let body = String(decoding: IndexTemplate(indexPattern: "lookout-logs-*", dataStream: false).body, as: UTF8.self)
        #expect(body == #"{"index_patterns":["lookout-logs-*"],"priority":200,"template":{"mappings":{"dynamic_templates":[{"journald_strings":{"path_match":"journald.*","match_mapping_type":"string","mapping":{"type":"keyword","ignore_above":8191}}},{"systemd_strings":{"path_match":"systemd.*","match_mapping_type":"string","mapping":{"type":"keyword","ignore_above":1024}}}],"properties":{"@timestamp":{"type":"date"},"message":{"type":"text"},"log":{"properties":{"level":{"type":"keyword"}}},"host":{"properties":{"name":{"type":"keyword"}}},"process":{"properties":{"name":{"type":"keyword"},"pid":{"type":"long"}}}}}},"_meta":{"managed_by":"lookout"}}"#)
    }

    @Test func statsExposition() {
        let stats = ElasticsearchStats()
        stats.sent(documents: 10, bytes: 1234)
        stats.requestEnded(httpStatus: 429, seconds: 0.02)
        stats.failed()
        stats.retried(10)
        stats.sent(documents: 10, bytes: 1234)
        stats.requestEnded(httpStatus: 200, seconds: 0.3)
        stats.succeeded(nowSeconds: 1_787_306_400)
        stats.acknowledged(indexed: 8, duplicates: 1)
        stats.deadLettered(1)
        let text = String(decoding: ExpositionEncoder(format: .text).encode(stats.families()), as: UTF8.self)
        #expect(text == #"""
            # HELP lookout_elasticsearch_documents_sent_total Documents put in bulk requests, counting each attempt.
            # TYPE lookout_elasticsearch_documents_sent_total counter
            lookout_elasticsearch_documents_sent_total 20
            # HELP lookout_elasticsearch_documents_acknowledged_total Documents Elasticsearch confirmed: indexed, or already present from an earlier attempt (duplicate).
            # TYPE lookout_elasticsearch_documents_acknowledged_total counter
            lookout_elasticsearch_documents_acknowledged_total{result="indexed"} 8
            lookout_elasticsearch_documents_acknowledged_total{result="duplicate"} 1
            # HELP lookout_elasticsearch_documents_retried_total Documents scheduled for another attempt after a 429, a 5xx or a failed request.
            # TYPE lookout_elasticsearch_documents_retried_total counter
            lookout_elasticsearch_documents_retried_total 10
            # HELP lookout_elasticsearch_documents_dead_lettered_total Documents Elasticsearch refused for good, written to the dead-letter file.
            # TYPE lookout_elasticsearch_documents_dead_lettered_total counter
            lookout_elasticsearch_documents_dead_lettered_total 1
            # HELP lookout_elasticsearch_bytes_sent_total Bulk request body bytes sent, after compression.
            # TYPE lookout_elasticsearch_bytes_sent_total counter
            lookout_elasticsearch_bytes_sent_total 2468
            # HELP lookout_elasticsearch_requests_total Bulk requests by response status class; error means no response.
            # TYPE lookout_elasticsearch_requests_total counter
            lookout_elasticsearch_requests_total{status="2xx"} 1
            lookout_elasticsearch_requests_total{status="4xx"} 0
            lookout_elasticsearch_requests_total{status="5xx"} 0
            lookout_elasticsearch_requests_total{status="413"} 0
            lookout_elasticsearch_requests_total{status="429"} 1
            lookout_elasticsearch_requests_total{status="error"} 0
            # HELP lookout_elasticsearch_request_duration_seconds Duration of bulk requests, failed ones included.
            # TYPE lookout_elasticsearch_request_duration_seconds histogram
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.005"} 0
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.01"} 0
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.025"} 1
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.05"} 1
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.1"} 1
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.25"} 1
            lookout_elasticsearch_request_duration_seconds_bucket{le="0.5"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="1"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="2.5"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="5"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="10"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="30"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="60"} 2
            lookout_elasticsearch_request_duration_seconds_bucket{le="+Inf"} 2
            lookout_elasticsearch_request_duration_seconds_sum 0.32
            lookout_elasticsearch_request_duration_seconds_count 2
            # HELP lookout_elasticsearch_batches_in_flight Batches being shipped now.
            # TYPE lookout_elasticsearch_batches_in_flight gauge
            lookout_elasticsearch_batches_in_flight 0
            # HELP lookout_elasticsearch_consecutive_failures Bulk requests failed in a row since the last understood answer.
            # TYPE lookout_elasticsearch_consecutive_failures gauge
            lookout_elasticsearch_consecutive_failures 0
            # HELP lookout_elasticsearch_last_success_timestamp_seconds Unix time of the last understood bulk answer; 0 before the first.
            # TYPE lookout_elasticsearch_last_success_timestamp_seconds gauge
            lookout_elasticsearch_last_success_timestamp_seconds 1.7873064e+09

            """#)
    }
}
