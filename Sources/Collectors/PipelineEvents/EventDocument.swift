// The Elasticsearch document of a stored pipeline event, in ECS names where ECS has one:
//
// Nested objects, as the journal documents are:
//
// | document field | from |
// |---|---|
// | `@timestamp` | the event's `time` (RFC 3339, microseconds) |
// | `event.kind` | `event` |
// | `event.action` | `type` (`step.finished`, `deploy`, …) |
// | `event.outcome` | `result` success → `success`, failure → `failure`, cancelled and skipped → `unknown`; absent without a result |
// | `event.duration` | `duration_seconds` in nanoseconds |
// | `event.id` | the event id, also the document `_id` |
// | `event.ingested` | when Lookout received it |
// | `message` | `message` |
// | `labels.*` | `labels` |
// | `pipeline.name`, `.run_id`, `.step`, `.stage`, `.result`, `.exit_code`, `.revision` | the fields of the same names |
// | `pipeline.dst.valid`, `.ok_count`, `.fail_count`, `.info_count` | `dst` (`valid` absent while unknown) |

import Pipeline

/// Turns stored pipeline events into bulk documents.
public enum EventDocument {
    /// The document of `stored`, with the event id as `_id`, so that a retry is a 409, never a copy.
    public static func document(_ stored: StoredEvent) -> BulkDocument {
        let event = stored.event
        var writer = ObjectWriter()
        writer.time("@timestamp", event.time)
        writer.object("event") { ecsEvent in
            ecsEvent.string("kind", "event")
            ecsEvent.string("action", event.type.rawValue)
            ecsEvent.string("outcome", event.result.map { result in
                switch result {
                case .success: "success"
                case .failure: "failure"
                case .cancelled, .skipped: "unknown"
                }
            })
            if let seconds = event.durationSeconds { ecsEvent.integer("duration", Int64((seconds * 1e9).rounded())) }
            ecsEvent.string("id", event.id)
            ecsEvent.time("ingested", stored.received)
        }
        writer.string("message", event.message)
        if !event.labels.isEmpty {
            writer.object("labels") { labels in
                for name in event.labels.keys.sorted() { labels.string(name, event.labels[name]) }
            }
        }
        writer.object("pipeline") { pipeline in
            pipeline.string("name", event.pipeline)
            pipeline.string("run_id", event.runID)
            pipeline.string("step", event.step)
            pipeline.string("stage", event.stage)
            pipeline.string("result", event.result?.rawValue)
            pipeline.integer("exit_code", event.exitCode.map(Int64.init))
            pipeline.string("revision", event.revision)
            if let report = event.simulation {
                pipeline.object("dst") { dst in
                    dst.boolean("valid", report.valid)
                    dst.integer("ok_count", report.okCount.map(Int64.init))
                    dst.integer("fail_count", report.failCount.map(Int64.init))
                    dst.integer("info_count", report.infoCount.map(Int64.init))
                }
            }
        }
        return BulkDocument(id: event.id, timestampMicroseconds: event.time, source: writer.finished())
    }
}

/// Writes one JSON object member by member; members whose value is nil are left out.
private struct ObjectWriter {
    private(set) var json: [UInt8] = [UInt8(ascii: "{")]
    private var empty = true

    private mutating func key(_ name: String) {
        if !empty { json.append(UInt8(ascii: ",")) }
        empty = false
        JSONText.appendString(name, to: &json)
        json.append(UInt8(ascii: ":"))
    }

    mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONText.appendString(value, to: &json)
    }

    mutating func integer(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        json.append(contentsOf: String(value).utf8)
    }

    mutating func boolean(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        json.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func time(_ name: String, _ microseconds: Int64) {
        key(name)
        json.append(UInt8(ascii: "\""))
        CivilTime(microseconds: microseconds).appendRFC3339(to: &json)
        json.append(UInt8(ascii: "\""))
    }

    /// A nested object filled by `fill`.
    mutating func object(_ name: String, _ fill: (inout ObjectWriter) -> Void) {
        var inner = ObjectWriter()
        fill(&inner)
        key(name)
        json.append(contentsOf: inner.finished())
    }

    func finished() -> [UInt8] { json + [UInt8(ascii: "}")] }
}
