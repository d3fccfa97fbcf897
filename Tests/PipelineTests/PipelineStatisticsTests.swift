@testable import MetricModel
@testable import PipelineEvents
import Testing

@Suite struct PipelineStatisticsTests {
    static let t0: Int64 = 1_795_773_600_000_000

    static func event(_ type: PipelineEvent.Kind, run: String = "1", step: String? = nil, stage: String? = nil,
                      result: PipelineEvent.Result? = nil, duration: Double? = nil, at seconds: Int64,
                      simulation: PipelineEvent.SimulationReport? = nil) -> PipelineEvent {
        PipelineEvent(id: "\(type.rawValue)-\(run)-\(step ?? "")-\(seconds)", type: type, pipeline: "lookout", runID: run, step: step,
                      stage: stage, result: result, durationSeconds: duration, time: t0 + seconds * 1_000_000, simulation: simulation)
    }

    static func text(_ statistics: PipelineStatistics) -> String {
        String(decoding: ExpositionEncoder(format: .text).encode(statistics.collect().sorted { $0.name < $1.name }), as: UTF8.self)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }

    @Test func runsStepsDeploymentsAndReportsBecomeFamilies() {
        let statistics = PipelineStatistics(now: { Self.t0 + 300 * 1_000_000 })
        statistics.add([
            Self.event(.runStarted, at: 0),
            Self.event(.stepStarted, step: "build", at: 0),
            Self.event(.stepFinished, step: "build", result: .success, at: 45),
            Self.event(.stepFinished, step: "unit-tests", result: .failure, duration: 3, at: 50),
            Self.event(.deploy, stage: "preprod", result: .success, at: 60),
            Self.event(.dstReport, at: 70, simulation: .init(valid: false, okCount: 90, failCount: 2, infoCount: 1, messageCount: 19842)),
            Self.event(.dstReport, at: 75, simulation: .init(valid: false, messageCount: 158)),
            Self.event(.rollback, stage: "preprod", at: 80),
            Self.event(.runFinished, result: .failure, at: 100),
            // Late events of a finished run (a report, a verdict) do not reopen it.
            Self.event(.note, at: 110),
            Self.event(.runFinished, result: .success, at: 120),
            Self.event(.runStarted, run: "2", at: 200),
        ])
        #expect(Self.text(statistics) == """
            pipeline_deployment_last_success{pipeline="lookout",stage="preprod"} 1
            pipeline_deployment_last_timestamp_seconds{pipeline="lookout",stage="preprod"} 1.79577366e+09
            pipeline_deployments_total{pipeline="lookout",stage="preprod",result="cancelled"} 0
            pipeline_deployments_total{pipeline="lookout",stage="preprod",result="failure"} 0
            pipeline_deployments_total{pipeline="lookout",stage="preprod",result="skipped"} 0
            pipeline_deployments_total{pipeline="lookout",stage="preprod",result="success"} 1
            pipeline_dst_messages_total{pipeline="lookout"} 20000
            pipeline_dst_operations_total{pipeline="lookout",result="fail"} 2
            pipeline_dst_operations_total{pipeline="lookout",result="info"} 1
            pipeline_dst_operations_total{pipeline="lookout",result="ok"} 90
            pipeline_dst_valid{pipeline="lookout"} 0
            pipeline_gate_verdicts_total{pipeline="lookout",stage="preprod",verdict="error"} 0
            pipeline_gate_verdicts_total{pipeline="lookout",stage="preprod",verdict="inconclusive"} 0
            pipeline_gate_verdicts_total{pipeline="lookout",stage="preprod",verdict="promote"} 0
            pipeline_gate_verdicts_total{pipeline="lookout",stage="preprod",verdict="rollback"} 0
            pipeline_rollbacks_total{pipeline="lookout",stage="preprod"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="30"} 0
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="60"} 0
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="120"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="300"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="600"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="900"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="1200"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="1800"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="2700"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="3600"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="7200"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="14400"} 1
            pipeline_run_duration_seconds_bucket{pipeline="lookout",le="+Inf"} 1
            pipeline_run_duration_seconds_sum{pipeline="lookout"} 100
            pipeline_run_duration_seconds_count{pipeline="lookout"} 1
            pipeline_runs_in_progress{pipeline="lookout"} 1
            pipeline_runs_total{pipeline="lookout",result="cancelled"} 0
            pipeline_runs_total{pipeline="lookout",result="failure"} 1
            pipeline_runs_total{pipeline="lookout",result="skipped"} 0
            pipeline_runs_total{pipeline="lookout",result="stale"} 0
            pipeline_runs_total{pipeline="lookout",result="success"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="1"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="2.5"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="5"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="10"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="30"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="60"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="120"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="300"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="600"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="1200"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="1800"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="3600"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="build",result="success",le="+Inf"} 1
            pipeline_step_duration_seconds_sum{pipeline="lookout",step="build",result="success"} 45
            pipeline_step_duration_seconds_count{pipeline="lookout",step="build",result="success"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="1"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="2.5"} 0
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="5"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="10"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="30"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="60"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="120"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="300"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="600"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="1200"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="1800"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="3600"} 1
            pipeline_step_duration_seconds_bucket{pipeline="lookout",step="unit-tests",result="failure",le="+Inf"} 1
            pipeline_step_duration_seconds_sum{pipeline="lookout",step="unit-tests",result="failure"} 3
            pipeline_step_duration_seconds_count{pipeline="lookout",step="unit-tests",result="failure"} 1
            pipeline_step_last_success{pipeline="lookout",step="build"} 1
            pipeline_step_last_success{pipeline="lookout",step="unit-tests"} 0
            pipeline_step_last_timestamp_seconds{pipeline="lookout",step="build"} 1.795773645e+09
            pipeline_step_last_timestamp_seconds{pipeline="lookout",step="unit-tests"} 1.79577365e+09
            """)
    }

    @Test func aRunWhoseEventsStopBecomesStale() {
        let statistics = PipelineStatistics(staleAfter: .seconds(600), now: { Self.t0 })
        statistics.add([Self.event(.runStarted, run: "9", at: 0), Self.event(.stepStarted, run: "9", step: "dst", at: 300)])
        statistics.closeStaleRuns(now: Self.t0 + 800 * 1_000_000)
        let runs = { (stale: Int) in
            ["cancelled", "failure", "skipped"].map { #"pipeline_runs_total{pipeline="lookout",result="\#($0)"} 0"# }
                + [#"pipeline_runs_total{pipeline="lookout",result="stale"} \#(stale)"#, #"pipeline_runs_total{pipeline="lookout",result="success"} 0"#]
        }
        #expect(Self.text(statistics) == ([#"pipeline_runs_in_progress{pipeline="lookout"} 1"#] + runs(0)).joined(separator: "\n"))
        statistics.closeStaleRuns(now: Self.t0 + 901 * 1_000_000)
        #expect(Self.text(statistics) == ([#"pipeline_runs_in_progress{pipeline="lookout"} 0"#] + runs(1)).joined(separator: "\n"))
        // A late event of the stale run does not reopen it (it would count as stale twice).
        statistics.add([Self.event(.stepFinished, run: "9", step: "dst", result: .success, at: 1000)])
        statistics.closeStaleRuns(now: Self.t0 + 5000 * 1_000_000)
        #expect(Self.text(statistics).contains(#"pipeline_runs_in_progress{pipeline="lookout"} 0"#))
        #expect(Self.text(statistics).contains(#"pipeline_runs_total{pipeline="lookout",result="stale"} 1"#))
        // Closed runs are forgotten after four stale periods without events, so client-made
        // run ids cannot pile up: an event that late opens the run again.
        statistics.closeStaleRuns(now: Self.t0 + (1000 + 4 * 600 + 1) * 1_000_000)
        statistics.add([Self.event(.note, run: "9", at: 3500)])
        #expect(Self.text(statistics).contains(#"pipeline_runs_in_progress{pipeline="lookout"} 1"#))
        // An unknown verdict hides pipeline_dst_valid rather than guessing.
        statistics.add([Self.event(.dstReport, run: "10", at: 1000, simulation: .init(valid: nil))])
        #expect(!Self.text(statistics).contains("pipeline_dst_valid"))
    }

    @Test func absurdCountsSaturateInsteadOfTrapping() {
        let statistics = PipelineStatistics(now: { Self.t0 })
        for second in 0..<3 {
            statistics.add([Self.event(.dstReport, run: "\(second)", at: Int64(second),
                                       simulation: .init(valid: true, okCount: Int.max, messageCount: Int.max))])
        }
        let text = Self.text(statistics)
        #expect(text.contains(#"pipeline_dst_operations_total{pipeline="lookout",result="ok"} 1.8446744073709552e+19"#))
        #expect(text.contains(#"pipeline_dst_messages_total{pipeline="lookout"} 1.8446744073709552e+19"#))
    }
}
