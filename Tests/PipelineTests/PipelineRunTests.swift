import LookoutSupport
import PipelineEvents
import Testing

@Suite struct PipelineRunTests {
    static let t0: Int64 = 1_795_773_600_000_000

    static func event(_ type: PipelineEvent.Kind, step: String? = nil, stage: String? = nil, result: PipelineEvent.Result? = nil,
                      exitCode: Int? = nil, duration: Double? = nil, revision: String? = nil, at seconds: Int64) -> PipelineEvent {
        PipelineEvent(id: "\(type.rawValue)\(step ?? "")\(seconds)", type: type, pipeline: "lookout", runID: "7", step: step, stage: stage,
                      result: result, exitCode: exitCode, durationSeconds: duration, revision: revision, time: t0 + seconds * 1_000_000)
    }

    @Test func aFinishedRunWithStepsAndADeployment() throws {
        let run = try #require(PipelineRun.derive([
            Self.event(.runStarted, revision: "abc", at: 0),
            Self.event(.stepStarted, step: "build", at: 1),
            Self.event(.stepFinished, step: "build", result: .success, exitCode: 0, at: 31),
            Self.event(.stepFinished, step: "dst", result: .failure, exitCode: 1, duration: 12.5, at: 50),
            Self.event(.rollback, stage: "preprod", at: 55),
            Self.event(.runFinished, result: .failure, at: 60),
        ], now: Self.t0, staleAfter: 3600_000_000))
        #expect(run == PipelineRun(
            pipeline: "lookout", runID: "7", status: .failure, revision: "abc", started: Self.t0, finished: Self.t0 + 60_000_000,
            durationSeconds: 60,
            steps: [.init(name: "build", result: .success, started: Self.t0 + 1_000_000, finished: Self.t0 + 31_000_000, durationSeconds: 30, exitCode: 0),
                    .init(name: "dst", result: .failure, finished: Self.t0 + 50_000_000, durationSeconds: 12.5, exitCode: 1)],
            simulation: nil, deployments: [(.rollback, "preprod", nil)]))
        #expect(String(decoding: run.json, as: UTF8.self) == #"{"pipeline":"lookout","run_id":"7","status":"failure","revision":"abc","started":"2026-11-27T10:00:00.000000Z","finished":"2026-11-27T10:01:00.000000Z","duration_seconds":60,"steps":[{"name":"build","result":"success","started":"2026-11-27T10:00:01.000000Z","finished":"2026-11-27T10:00:31.000000Z","duration_seconds":30,"exit_code":0},{"name":"dst","result":"failure","started":null,"finished":"2026-11-27T10:00:50.000000Z","duration_seconds":12.5,"exit_code":1}],"deployments":[{"type":"rollback","stage":"preprod","result":null}],"dst":null}"#)
    }

    @Test func aSimulationReportInTheRun() throws {
        let report = PipelineEvent.SimulationReport(
            valid: false, operationCount: 1732, okCount: 1260, failCount: 431, infoCount: 41, messageCount: 19842, serverMessageCount: 16338,
            invalidCheckers: ["workload"], unknownCheckers: [], anomalyTypes: nil)
        let run = try #require(PipelineRun.derive([
            PipelineEvent(id: "d", type: .dstReport, pipeline: "lookout", runID: "7", step: "dst", time: Self.t0, simulation: report),
        ], now: Self.t0, staleAfter: 3600_000_000))
        #expect(run.simulation == report)
        #expect(String(decoding: run.json, as: UTF8.self).hasSuffix(
            #""dst":{"valid":false,"count":1732,"ok_count":1260,"fail_count":431,"info_count":41,"msg_count":19842,"server_msg_count":16338,"invalid_checkers":["workload"],"unknown_checkers":[],"anomaly_types":null}}"#))
        let unknown = try #require(PipelineRun.derive([
            PipelineEvent(id: "d", type: .dstReport, pipeline: "lookout", runID: "7", time: Self.t0, simulation: .init()),
        ], now: Self.t0, staleAfter: 3600_000_000))
        #expect(String(decoding: unknown.json, as: UTF8.self).hasSuffix(
            #""dst":{"valid":"unknown","count":null,"ok_count":null,"fail_count":null,"info_count":null,"msg_count":null,"server_msg_count":null,"invalid_checkers":null,"unknown_checkers":null,"anomaly_types":null}}"#))
    }

    @Test func runningThenStale() throws {
        let events = [Self.event(.runStarted, at: 0), Self.event(.stepStarted, step: "build", at: 10)]
        #expect(PipelineRun.derive(events, now: Self.t0 + 100_000_000, staleAfter: 3600_000_000)?.status == .running)
        #expect(PipelineRun.derive(events, now: Self.t0 + 3611_000_000, staleAfter: 3600_000_000)?.status == .stale)
        #expect(PipelineRun.derive([], now: 0, staleAfter: 0) == nil)
    }

    @Test func theJSONReadsBackAsTheSameRun() throws {
        let run = try #require(PipelineRun.derive([
            Self.event(.runStarted, revision: "abc", at: 0),
            Self.event(.stepStarted, step: "build", at: 1),
            Self.event(.stepFinished, step: "build", result: .success, exitCode: 0, duration: 29.75, at: 31),
            Self.event(.stepStarted, step: "deploy", at: 32),
            Self.event(.deploy, stage: "preprod", result: .success, at: 40),
            PipelineEvent(id: "r", type: .dstReport, pipeline: "lookout", runID: "7", time: Self.t0 + 45_000_000,
                          simulation: PipelineEvent.SimulationReport(valid: nil, okCount: 5, failCount: 0)),
        ], now: Self.t0 + 50_000_000, staleAfter: 3600_000_000))
        #expect(try PipelineRun(json: try JSONValue.parse(run.json)) == run)
    }

    @Test func aMemberOfTheWrongKindIsNamedWithItsPath() {
        let json = #"{"pipeline":"p","run_id":"1","status":"success","started":"2026-11-27T10:00:00Z","steps":[{"name":"a","result":"won"}]}"#
        #expect(throws: JSONShapeError(path: "steps[0].result", problem: "expected one of success, failure, cancelled, skipped, got \"won\"")) {
            try PipelineRun(json: try JSONValue.parse(Array(json.utf8)))
        }
        #expect(throws: JSONShapeError(path: "run_id", problem: "required")) {
            try PipelineRun(json: try JSONValue.parse(Array(#"{"pipeline":"p","status":"running","started":"2026-11-27T10:00:00Z"}"#.utf8)))
        }
    }
}
