import PipelineEvents
import Testing
@testable import Collectors

@Suite struct EventDocumentTests {
    @Test func aFullEventInECSNames() {
        let event = PipelineEvent(
            id: "ci-1:deploy", type: .deploy, pipeline: "lookout", runID: "4711", step: "deploy-prod", stage: "prod",
            result: .cancelled, exitCode: 130, durationSeconds: 1.5, revision: "5de79cc", labels: ["team": "infra", "by": "ci \"2\""],
            message: "cancelled\nby hand", time: 1_795_773_600_123_456)
        let document = EventDocument.document(StoredEvent(seq: 7, received: 1_795_773_601_000_000, event: event))
        #expect(document.id == "ci-1:deploy")
        #expect(document.timestampMicroseconds == 1_795_773_600_123_456)
        #expect(String(decoding: document.source, as: UTF8.self) == #"{"@timestamp":"2026-11-27T10:00:00.123456Z","event":{"kind":"event","action":"deploy","outcome":"unknown","duration":1500000000,"id":"ci-1:deploy","ingested":"2026-11-27T10:00:01.000000Z"},"message":"cancelled\nby hand","labels":{"by":"ci \"2\"","team":"infra"},"pipeline":{"name":"lookout","run_id":"4711","step":"deploy-prod","stage":"prod","result":"cancelled","exit_code":130,"revision":"5de79cc"}}"#)
    }

    @Test func aMinimalEventAndASimulationReport() {
        let note = PipelineEvent(id: "n", type: .note, pipeline: "p", runID: "r", time: 0)
        #expect(String(decoding: EventDocument.document(StoredEvent(seq: 1, received: 0, event: note)).source, as: UTF8.self)
            == #"{"@timestamp":"1970-01-01T00:00:00.000000Z","event":{"kind":"event","action":"note","id":"n","ingested":"1970-01-01T00:00:00.000000Z"},"pipeline":{"name":"p","run_id":"r"}}"#)
        let report = PipelineEvent(id: "d", type: .dstReport, pipeline: "p", runID: "r", time: 0,
                                   simulation: .init(valid: nil, okCount: 3, failCount: 0))
        #expect(String(decoding: EventDocument.document(StoredEvent(seq: 1, received: 0, event: report)).source, as: UTF8.self)
            == #"{"@timestamp":"1970-01-01T00:00:00.000000Z","event":{"kind":"event","action":"dst.report","id":"d","ingested":"1970-01-01T00:00:00.000000Z"},"pipeline":{"name":"p","run_id":"r","dst":{"ok_count":3,"fail_count":0}}}"#)
    }

    @Test func everyFactOfASimulationReport() {
        let report = PipelineEvent(
            id: "d", type: .dstReport, pipeline: "p", runID: "r", step: "dst", time: 0,
            simulation: .init(valid: false, operationCount: 4217, okCount: 3591, failCount: 409, infoCount: 217, messageCount: 19842,
                              serverMessageCount: 16338, invalidCheckers: ["workload"], unknownCheckers: ["clock"], anomalyTypes: ["G1c", "internal"]))
        #expect(String(decoding: EventDocument.document(StoredEvent(seq: 1, received: 0, event: report)).source, as: UTF8.self)
            == #"{"@timestamp":"1970-01-01T00:00:00.000000Z","event":{"kind":"event","action":"dst.report","id":"d","ingested":"1970-01-01T00:00:00.000000Z"},"pipeline":{"name":"p","run_id":"r","step":"dst","dst":{"valid":false,"count":4217,"ok_count":3591,"fail_count":409,"info_count":217,"msg_count":19842,"server_msg_count":16338,"invalid_checkers":["workload"],"unknown_checkers":["clock"],"anomaly_types":["G1c","internal"]}}}"#)
    }
}
