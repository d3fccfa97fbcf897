import PipelineEvents
import Testing
@testable import Exporter

/// `--label NAME=VALUE` as `lookout event` and `lookout run` read it.
@Suite struct EventLabelFlagsTests {
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
}
