import Pipeline
import Testing
@testable import Collectors

@Suite struct EventStoreTests {
    static func event(_ id: String, _ type: PipelineEvent.Kind = .note, run: String = "r1") -> PipelineEvent {
        PipelineEvent(id: id, type: type, pipeline: "lookout", runID: run, time: 1_795_773_600_000_000)
    }

    @Test func eventsRoundTripInArrivalOrderAndIdsAreStoredOnce() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let store = try EventStore(directory: directory)
        let full = PipelineEvent(
            id: "full", type: .stepFinished, pipeline: "lookout", runID: "4711", step: "build", stage: "ci", result: .failure,
            exitCode: -9, durationSeconds: 12.25, revision: "5de79cc", labels: ["runner": "ci-2", "quote": "a\"b"],
            message: "killed\nby signal 9", time: 1_795_773_600_123_456)
        let report = PipelineEvent(id: "dst", type: .dstReport, pipeline: "lookout", runID: "4711", time: 1,
                                   simulation: .init(valid: nil, okCount: 10, failCount: 0, infoCount: nil))
        let empty = PipelineEvent(id: "dst-empty", type: .dstReport, pipeline: "lookout", runID: "4711", time: 2, simulation: .init())
        #expect(try store.append([full, Self.event("a"), report, empty], receivedAt: 99) == [true, true, true, true])
        #expect(try store.append([Self.event("a"), Self.event("b")], receivedAt: 100) == [false, true])
        #expect(try store.count() == 5)
        let stored = try store.events(after: 0, limit: 10)
        // In arrival order; a refused duplicate may use up a number (AUTOINCREMENT never reuses one).
        #expect(stored.map(\.seq) == stored.map(\.seq).sorted() && Set(stored.map(\.seq)).count == 5)
        #expect(stored.map(\.event) == [full, Self.event("a"), report, empty, Self.event("b")])
        #expect(stored.map(\.received) == [99, 99, 99, 99, 100])
        #expect(try store.events(after: stored[2].seq, limit: 1).map(\.event.id) == ["dst-empty"])
    }

    @Test func eventsAndWatermarksSurviveReopening() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        do {
            let store = try EventStore(directory: directory)
            _ = try store.append((1...100).map { Self.event("e\($0)") }, receivedAt: 1)
            #expect(try store.watermark("elasticsearch") == 0)
            try store.advanceWatermark("elasticsearch", to: 40)
            try store.advanceWatermark("elasticsearch", to: 30)  // never backwards
        }
        let reopened = try EventStore(directory: directory)
        #expect(try reopened.count() == 100)
        #expect(try reopened.watermark("elasticsearch") == 40)
        #expect(try reopened.events(after: 40, limit: 1000).count == 60)
        #expect(try reopened.append([Self.event("e1")], receivedAt: 2) == [false])
    }

    @Test func pruningTakesOldEventsButNeverUnshippedOnes() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let store = try EventStore(directory: directory)
        _ = try store.append((1...10).map { Self.event("old\($0)") }, receivedAt: 1_000)
        _ = try store.append((1...5).map { Self.event("new\($0)") }, receivedAt: 5_000)
        let seqs = try store.events(after: 0, limit: 100).map(\.seq)
        #expect(try store.backlog(after: 0) == (15, 1_000))
        // Shipped up to the 6th event: only those of the old ones may go.
        #expect(try store.prune(receivedBefore: 2_000, notAfter: seqs[5]) == 6)
        #expect(try store.events(after: 0, limit: 100).map(\.event.id).first == "old7")
        // Without shipping, age alone decides.
        #expect(try store.prune(receivedBefore: 2_000, notAfter: nil) == 4)
        #expect(try store.count() == 5)
        #expect(try store.backlog(after: seqs[12]) == (2, 5_000))
        #expect(try store.backlog(after: seqs[14]) == (0, nil))
    }

    @Test func anUnwritableDirectoryIsOneClearError() {
        #expect {
            _ = try EventStore(directory: "/nonexistent/lookout")
        } throws: { error in
            "\(error)".hasPrefix("cannot open the event store /nonexistent/lookout/pipeline-events.sqlite: ")
        }
    }
}
