import Testing
import LookoutSupport
import PipelineEvents

@Suite struct PipelineEventTests {
    static let received: Int64 = 1_795_773_600_000_000  // 2026-11-27T10:00:00Z

    static func decode(_ text: String) throws -> PipelineEvent {
        try PipelineEvent.decode(try JSONValue.parse(Array(text.utf8)), receivedAt: received, newID: { "generated-1" })
    }

    @Test func theEncoderWritesWhatTheAPIReadsBack() throws {
        let event = PipelineEvent(
            id: "e-1", type: .dstReport, pipeline: "lookout", runID: "42", step: "dst", stage: "pre-prod", result: .failure,
            exitCode: -2, durationSeconds: 12.25, revision: "abc123", labels: ["zone": "b", "attempt": "2"],
            message: "line one\n\"two\"", time: Self.received + 123_456,
            simulation: PipelineEvent.SimulationReport(valid: false, operationCount: 10, okCount: 7, failCount: 2, infoCount: 1,
                                                       invalidCheckers: ["linear"], anomalyTypes: ["G1c"]))
        let text = String(decoding: event.json, as: UTF8.self)
        #expect(text == #"{"id":"e-1","type":"dst.report","pipeline":"lookout","run_id":"42","step":"dst","stage":"pre-prod","# +
            #""result":"failure","exit_code":-2,"duration_seconds":12.25,"revision":"abc123","labels":{"attempt":"2","zone":"b"},"# +
            #""message":"line one\n\"two\"","dst":{"valid":false,"count":10,"ok_count":7,"fail_count":2,"info_count":1,"# +
            #""invalid_checkers":["linear"],"anomaly_types":["G1c"]},"time":"2026-11-27T10:00:00.123456Z"}"#)
        #expect(try Self.decode(text) == event)
        let minimal = PipelineEvent(id: "e-2", type: .note, pipeline: "p", runID: "r", time: Self.received)
        #expect(String(decoding: minimal.json, as: UTF8.self)
            == #"{"id":"e-2","type":"note","pipeline":"p","run_id":"r","time":"2026-11-27T10:00:00.000000Z"}"#)
        #expect(try Self.decode(String(decoding: minimal.json, as: UTF8.self)) == minimal)
    }

    @Test func aFullStepEvent() throws {
        let event = try Self.decode("""
            {"id":"ci-4711:build:finished","type":"step.finished","pipeline":"lookout","run_id":"4711","step":"build",
             "result":"success","exit_code":0,"duration_seconds":93.5,"revision":"5de79cc","labels":{"runner":"ci-2","_arch":"x86_64"},
             "message":"built","time":"2026-11-27T09:58:26.5+01:00"}
            """)
        #expect(event == PipelineEvent(
            id: "ci-4711:build:finished", type: .stepFinished, pipeline: "lookout", runID: "4711", step: "build",
            result: .success, exitCode: 0, durationSeconds: 93.5, revision: "5de79cc", labels: ["runner": "ci-2", "_arch": "x86_64"],
            message: "built", time: Self.received - 3600_000_000 - 93_500_000))
    }

    @Test func defaultsAndNulls() throws {
        let event = try Self.decode(#"{"type":"note","pipeline":"p","run_id":"r","step":null,"labels":null}"#)
        #expect(event == PipelineEvent(id: "generated-1", type: .note, pipeline: "p", runID: "r", time: Self.received))
    }

    @Test func aSimulationReport() throws {
        let event = try Self.decode(#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"valid":"unknown","ok_count":120,"fail_count":3,"info_count":0}}"#)
        #expect(event.simulation == PipelineEvent.SimulationReport(valid: nil, okCount: 120, failCount: 3, infoCount: 0))
        #expect(try Self.decode(#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"valid":false}}"#).simulation?.valid == false)
    }

    @Test func aSimulationReportWithEveryFact() throws {
        let event = try Self.decode("""
            {"type":"dst.report","pipeline":"p","run_id":"r","dst":{"valid":false,"count":1732,"ok_count":1260,"fail_count":431,
             "info_count":41,"msg_count":19842,"server_msg_count":16338,"invalid_checkers":["workload","perf"],"unknown_checkers":[],
             "anomaly_types":["internal","G1c"]}}
            """)
        #expect(event.simulation == PipelineEvent.SimulationReport(
            valid: false, operationCount: 1732, okCount: 1260, failCount: 431, infoCount: 41, messageCount: 19842, serverMessageCount: 16338,
            invalidCheckers: ["perf", "workload"], unknownCheckers: [], anomalyTypes: ["G1c", "internal"]))
    }

    @Test func aReportWrittenAsDstReadsBackAsItWas() throws {
        let full = PipelineEvent.SimulationReport(
            valid: true, operationCount: 12, okCount: 10, failCount: 1, infoCount: 1, messageCount: 26, serverMessageCount: 0,
            invalidCheckers: [], unknownCheckers: ["clock"], anomalyTypes: ["G1c"])
        var dst = JSONObjectWriter()
        full.write(to: &dst)
        #expect(String(decoding: dst.finished(), as: UTF8.self)
            == #"{"valid":true,"count":12,"ok_count":10,"fail_count":1,"info_count":1,"msg_count":26,"server_msg_count":0,"invalid_checkers":[],"unknown_checkers":["clock"],"anomaly_types":["G1c"]}"#)
        for report in [full, PipelineEvent.SimulationReport(), PipelineEvent.SimulationReport(valid: false, messageCount: 3)] {
            var event = JSONObjectWriter()
            event.string("type", "dst.report")
            event.string("pipeline", "p")
            event.string("run_id", "r")
            event.object("dst") { report.write(to: &$0) }
            #expect(try PipelineEvent.decode(try JSONValue.parse(event.finished()), receivedAt: 0, newID: { "x" }).simulation == report)
        }
    }

    @Test(arguments: [
        ("[]", nil, "an event must be a JSON object, got an array"),
        (#"{"pipeline":"p","run_id":"r"}"#, "type", "missing"),
        (#"{"type":"run.begun","pipeline":"p","run_id":"r"}"#, "type", "unknown type \"run.begun\"; known: run.started, run.finished, step.started, step.finished, deploy, rollback, dst.report, note, gate.verdict"),
        (#"{"type":"note","run_id":"r"}"#, "pipeline", "missing"),
        (#"{"type":"note","pipeline":"p"}"#, "run_id", "missing"),
        (#"{"type":"note","pipeline":"","run_id":"r"}"#, "pipeline", "must not be empty"),
        (#"{"type":"note","pipeline":7,"run_id":"r"}"#, "pipeline", "must be a string, got a number"),
        (#"{"type":"note","pipeline":"a\nb","run_id":"r"}"#, "pipeline", "must not contain control characters"),
        (#"{"type":"note","pipeline":"p","run_id":"r","reslt":"success"}"#, "reslt", "unknown field"),
        (#"{"type":"step.started","pipeline":"p","run_id":"r"}"#, "step", "required for step.started"),
        (#"{"type":"step.finished","pipeline":"p","run_id":"r","step":"s"}"#, "result", "required for step.finished"),
        (#"{"type":"run.finished","pipeline":"p","run_id":"r"}"#, "result", "required for run.finished"),
        (#"{"type":"deploy","pipeline":"p","run_id":"r","result":"success"}"#, "stage", "required for deploy"),
        (#"{"type":"rollback","pipeline":"p","run_id":"r"}"#, "stage", "required for rollback"),
        (#"{"type":"note","pipeline":"p","run_id":"r","result":"ok"}"#, "result", "must be one of success, failure, cancelled, skipped, got \"ok\""),
        (#"{"type":"note","pipeline":"p","run_id":"r","exit_code":1.5}"#, "exit_code", "must be an integer from -2147483648 to 2147483647, got 1.5"),
        (#"{"type":"note","pipeline":"p","run_id":"r","exit_code":"1"}"#, "exit_code", "must be an integer from -2147483648 to 2147483647, got \"1\""),
        (#"{"type":"note","pipeline":"p","run_id":"r","exit_code":99999999999}"#, "exit_code", "must be an integer from -2147483648 to 2147483647, got 99999999999"),
        (#"{"type":"note","pipeline":"p","run_id":"r","duration_seconds":-1}"#, "duration_seconds", "must be a number of seconds from 0 to 1e9, got -1"),
        (#"{"type":"note","pipeline":"p","run_id":"r","duration_seconds":1e400}"#, "duration_seconds", "must be a number of seconds from 0 to 1e9, got 1e400"),
        (#"{"type":"note","pipeline":"p","run_id":"r","labels":["a"]}"#, "labels", "must be an object of strings, got an array"),
        (#"{"type":"note","pipeline":"p","run_id":"r","labels":{"team":1}}"#, "labels.team", "must be a string, got a number"),
        (#"{"type":"note","pipeline":"p","run_id":"r","labels":{"1x":"a"}}"#, "labels.1x", "a label name must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 bytes"),
        (#"{"type":"note","pipeline":"p","run_id":"r","labels":{"a-b":"a"}}"#, "labels.a-b", "a label name must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 bytes"),
        (#"{"type":"note","pipeline":"p","run_id":"r","id":"has space"}"#, "id", "must be 1 to 128 letters, digits, '-', '_', '.' or ':'"),
        (#"{"type":"note","pipeline":"p","run_id":"r","id":""}"#, "id", "must be 1 to 128 letters, digits, '-', '_', '.' or ':'"),
        (#"{"type":"note","pipeline":"p","run_id":"r","time":"yesterday"}"#, "time", "must be an RFC 3339 time like 2026-11-27T10:00:00Z, got \"yesterday\""),
        (#"{"type":"note","pipeline":"p","run_id":"r","time":"2026-02-30T10:00:00Z"}"#, "time", "must be an RFC 3339 time like 2026-11-27T10:00:00Z, got \"2026-02-30T10:00:00Z\""),
        (#"{"type":"note","pipeline":"p","run_id":"r","time":"2026-11-27T10:00:00+25:00"}"#, "time", "must be an RFC 3339 time like 2026-11-27T10:00:00Z, got \"2026-11-27T10:00:00+25:00\""),
        (#"{"type":"note","pipeline":"p","run_id":"r","dst":{"valid":true}}"#, "dst", "only for dst.report"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"valid":"maybe"}}"#, "dst.valid", "must be true, false or \"unknown\", got \"maybe\""),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"ok_count":-1}}"#, "dst.ok_count", "must be an integer from 0 to 9223372036854775807, got -1"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"latency":1}}"#, "dst.latency", "unknown field"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"count":-1}}"#, "dst.count", "must be an integer from 0 to 9223372036854775807, got -1"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"msg_count":1.5}}"#, "dst.msg_count", "must be an integer from 0 to 9223372036854775807, got 1.5"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"server_msg_count":"9"}}"#, "dst.server_msg_count", "must be an integer from 0 to 9223372036854775807, got \"9\""),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"invalid_checkers":"workload"}}"#, "dst.invalid_checkers", "must be an array of strings, got a string"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"invalid_checkers":null}}"#, "dst.invalid_checkers", "must be an array of strings, got null"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"anomaly_types":["G1c",1]}}"#, "dst.anomaly_types", "must be an array of strings, got 1 in it"),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"unknown_checkers":[""]}}"#, "dst.unknown_checkers", "a name must be 1 to 128 bytes without control characters, got \"\""),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"unknown_checkers":["a\tb"]}}"#, "dst.unknown_checkers", "a name must be 1 to 128 bytes without control characters, got \"a\tb\""),
        (#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"invalid_checkers":["perf","perf"]}}"#, "dst.invalid_checkers", "\"perf\" is there twice"),
    ] as [(String, String?, String)])
    func everyBadFieldIsNamed(json: String, field: String?, problem: String) {
        #expect(throws: EventError(field: field, problem: problem)) { try Self.decode(json) }
    }

    @Test func limits() throws {
        let long = String(repeating: "x", count: 129)
        #expect(throws: EventError(field: "pipeline", problem: "longer than 128 bytes")) {
            try Self.decode(#"{"type":"note","pipeline":"\#(long)","run_id":"r"}"#)
        }
        let labels = (0...32).map { #""l\#($0)":"v""# }.joined(separator: ",")
        #expect(throws: EventError(field: "labels", problem: "more than 32 labels")) {
            try Self.decode(#"{"type":"note","pipeline":"p","run_id":"r","labels":{\#(labels)}}"#)
        }
        let names = (0...64).map { #""n\#($0)""# }.joined(separator: ",")
        #expect(throws: EventError(field: "dst.anomaly_types", problem: "more than 64 names")) {
            try Self.decode(#"{"type":"dst.report","pipeline":"p","run_id":"r","dst":{"anomaly_types":[\#(names)]}}"#)
        }
        let message = String(repeating: "m", count: 65_537)
        #expect(throws: EventError(field: "message", problem: "longer than 65536 bytes")) {
            try Self.decode(#"{"type":"note","pipeline":"p","run_id":"r","message":"\#(message)"}"#)
        }
    }
}
