import Logging
import MetricModel
import Synchronization
import Testing

/// Errors as telemetry: `emit` counts and logs in one call, `record` only counts, and the
/// family shows each (component, error type) pair once.
@Suite struct ComponentErrorsTests {
    /// Keeps what is logged.
    final class Recorder: LogHandler, @unchecked Sendable {
        let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String,
                 line: UInt) {
            lines.withLock { $0.append((level, message.description, metadata ?? [:])) }
        }
    }

    @Test func emitCountsAndLogsOnceWithTheLabels() {
        let recorder = Recorder()
        let logger = Logger(label: "test") { _ in recorder }
        let errors = ComponentErrors()
        errors.emit(.events, .store, "cannot store pipeline events", metadata: ["error": "disk full"], to: logger)
        errors.emit(.http, .badRequest, "request refused", level: .debug, to: logger)
        errors.record(.http, .badRequest)
        errors.record(.collector("textfile"), .badFile)

        let lines = recorder.lines.withLock { $0 }
        #expect(lines.map(\.message) == ["cannot store pipeline events", "request refused"])
        #expect(lines.map(\.level) == [.error, .debug])
        #expect(lines[0].metadata == ["error": "disk full", "component": "events", "error_type": "store"])
        #expect(errors.family() == MetricFamily(
            name: "lookout_component_errors_total", help: "Runtime errors by component and error type.", type: .counter,
            samples: [
                Sample(labels: [Label("component", "collector.textfile"), Label("error_type", "bad_file")], value: 1),
                Sample(labels: [Label("component", "events"), Label("error_type", "store")], value: 1),
                Sample(labels: [Label("component", "http"), Label("error_type", "bad_request")], value: 2),
            ]))
    }

    @Test func declaredSeriesStartAtZeroAndKeepTheirCounts() {
        let errors = ComponentErrors()
        errors.record(.http, .accept)
        errors.declare(.http, [.accept, .badRequest])
        errors.record(.http, .badRequest)
        errors.declare(.http, [.badRequest])
        errors.declare(.rules, [.timeout])
        #expect(errors.family().samples.map { "\($0.labels.map(\.value).joined(separator: "/")) \($0.value)" }
                == ["http/accept 1.0", "http/bad_request 1.0", "rules/timeout 0.0"])
    }
}
