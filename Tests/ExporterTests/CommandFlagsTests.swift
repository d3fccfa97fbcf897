import LookoutSupport
import PipelineEvents
import Testing
@testable import Exporter

/// The flags of the commands that send events and read the journal, as a user writes them.
@Suite struct CommandFlagsTests {
    @Test func labelsAreReadAndMistakesRefused() throws {
        #expect(try EventCommand.labels(["zone=b", "note=a=b"]) == ["zone": "b", "note": "a=b"])
        #expect(throws: EventError(field: "labels", problem: "--label must be NAME=VALUE, got \"=x\"")) {
            try EventCommand.labels(["=x"])
        }
        // The events API refuses a repeated key, so the flags refuse a repeated name.
        #expect(throws: EventError(field: "labels", problem: "--label zone is given twice")) {
            try EventCommand.labels(["zone=a", "zone=b"])
        }
    }

    @Test func aDSTReportWithoutItsResultsIsRefused() throws {
        let command = try EventCommand.parse(["dst-report", "--pipeline", "p", "--run-id", "r"])
        #expect(throws: EventError(field: nil, problem: "dst.report needs --file, the simulation's results.edn (or the same as JSON)")) {
            try command.simulationReport()
        }
        #expect(try EventCommand.parse(["note", "--pipeline", "p", "--run-id", "r"]).simulationReport() == nil)
    }

    @Test func valuesThatBeginWithAMinusAreValues() throws {
        // As the README writes them: --since -1h, --journal.start -2d; and a negative exit code.
        #expect(try JournalCommand.parse(["--since", "-1h"]).since == "-1h")
        let before = UInt64(CivilTime.nowMicroseconds())
        guard case .since(let start) = try ServeFlags.parse(["--journal.start", "-2d"]).resolve().journal.start else {
            Issue.record("--journal.start -2d is not a time")
            return
        }
        let twoDays: UInt64 = 2 * 86_400 * 1_000_000
        #expect(start >= before - twoDays && start <= UInt64(CivilTime.nowMicroseconds()) - twoDays)
        #expect(try EventCommand.parse(["note", "--pipeline", "p", "--run-id", "r", "--exit-code", "-1"]).exitCode == -1)
    }
}
