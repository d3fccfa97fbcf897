import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import LookoutSupport
import MetricModel
import Shipping
import Synchronization
@testable import Shippers

/// A failure of the test set-up itself, with the reason.
struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A log handler that keeps every message, so tests can check what was logged (and what not).
struct RecordingLogHandler: LogHandler {
    /// The messages logged so far, with their level.
    final class Records: Sendable {
        private let entries = Mutex<[(level: Logger.Level, message: String)]>([])

        func append(_ level: Logger.Level, _ message: String) { entries.withLock { $0.append((level, message)) } }

        var all: [(level: Logger.Level, message: String)] { entries.withLock { $0 } }

        /// Messages at `level` or above.
        func messages(atLeast level: Logger.Level) -> [String] {
            all.filter { $0.level >= level }.map(\.message)
        }
    }

    let records: Records
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (metadata.merging(event.metadata ?? [:]) { $1 }).sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        records.append(event.level, "\(event.message) \(fields)")
    }

    /// A logger that records into a fresh `Records`.
    static func logger() -> (Logger, Records) {
        let records = Records()
        return (Logger(label: "test") { _ in RecordingLogHandler(records: records) }, records)
    }
}

/// Temporary files and documents shared by the shipper tests.
enum Fixture {
    /// A fresh temporary directory.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-es-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// 2026-08-21T10:00:00Z in microseconds.
    static let day = Int64(1_787_306_400) * 1_000_000

    /// `count` small documents, ids `prefix-0`…, one second apart from `start`.
    static func documents(_ count: Int, prefix: String = "doc", start: Int64 = day) -> [BulkDocument] {
        (0..<count).map { number in
            let time = start + Int64(number) * 1_000_000
            let source = #"{"@timestamp":"\#(CivilTime(microseconds: time).rfc3339)","message":"line \#(number) of \#(prefix)","log":{"level":"info"},"host":{"name":"vm-host"},"process":{"pid":\#(1000 + number),"name":"lookout-test"},"journald":{"cursor":"\#(prefix)-\#(number)"}}"#
            return BulkDocument(id: "\(prefix)-\(number)", timestampMicroseconds: time, source: Array(source.utf8))
        }
    }

    /// The lines of the file at `path` (none when it does not exist).
    static func lines(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// `line` parsed as a JSON object.
    static func object(_ line: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw SetupError("not a JSON object: \(line)")
        }
        return object
    }

    /// Settings with tiny backoffs, no gzip (the fault server reads plain bodies) and a dead-letter
    /// file in `directory`.
    static func settings(_ urls: [String], directory: URL) -> ElasticsearchSettings {
        var settings = ElasticsearchSettings(urls: urls)
        settings.gzip = false
        settings.backoffInitial = .milliseconds(1)
        settings.backoffMax = .milliseconds(20)
        settings.requestTimeout = .seconds(20)
        settings.connectTimeout = .seconds(5)
        settings.deadLetterPath = directory.appendingPathComponent("dead-letters.ndjson").path
        return settings
    }
}

/// One sample's value from `families`, by family name and labels (plain samples only).
func value(_ families: [MetricFamily], _ name: String, _ labels: [Label] = []) -> Double? {
    families.first { $0.name == name }?.samples.first { $0.suffix.isEmpty && $0.labels == labels }?.value
}

/// Sends one HTTP request with URLSession; returns the status and the body parsed as JSON.
func httpJSON(_ method: String, _ url: String, body: String? = nil) async throws -> (status: Int, json: [String: Any]) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 10
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    return ((response as! HTTPURLResponse).statusCode, json)
}
