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
// | `pipeline.dst.valid`, `.count`, `.ok_count`, `.fail_count`, `.info_count`, `.msg_count`, `.server_msg_count` | `dst` (`valid` absent while unknown) |
// | `pipeline.dst.invalid_checkers`, `.unknown_checkers`, `.anomaly_types` | `dst`: arrays of names |

import LookoutSupport
import Shipping

/// Turns stored pipeline events into bulk documents.
package enum EventDocument {
    /// The document of `stored`, with the event id as `_id`, so that a retry is a 409, never a copy.
    package static func document(_ stored: StoredEvent) -> BulkDocument {
        let event = stored.event
        var writer = JSONObjectWriter()
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
                    dst.integer("count", report.operationCount.map(Int64.init))
                    dst.integer("ok_count", report.okCount.map(Int64.init))
                    dst.integer("fail_count", report.failCount.map(Int64.init))
                    dst.integer("info_count", report.infoCount.map(Int64.init))
                    dst.integer("msg_count", report.messageCount.map(Int64.init))
                    dst.integer("server_msg_count", report.serverMessageCount.map(Int64.init))
                    dst.strings("invalid_checkers", report.invalidCheckers)
                    dst.strings("unknown_checkers", report.unknownCheckers)
                    dst.strings("anomaly_types", report.anomalyTypes)
                }
            }
        }
        return BulkDocument(id: event.id, timestampMicroseconds: event.time, source: writer.finished())
    }
}
