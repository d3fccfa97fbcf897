import GRDB
import PipelineEvents
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
        let maelstrom = PipelineEvent(
            id: "dst-full", type: .dstReport, pipeline: "lookout", runID: "4711", time: 3,
            simulation: .init(valid: false, operationCount: 1732, okCount: 1260, failCount: 431, infoCount: 41, messageCount: 19842,
                              serverMessageCount: 16338, invalidCheckers: ["perf", "work\"load"], unknownCheckers: [], anomalyTypes: ["G1c"]))
        #expect(try store.append([full, Self.event("a"), report, empty, maelstrom], receivedAt: 99) == [true, true, true, true, true])
        #expect(try store.append([Self.event("a"), Self.event("b")], receivedAt: 100) == [false, true])
        #expect(try store.count() == 6)
        let stored = try store.events(after: 0, limit: 10)
        // In arrival order; a refused duplicate may use up a number (AUTOINCREMENT never reuses one).
        #expect(stored.map(\.seq) == stored.map(\.seq).sorted() && Set(stored.map(\.seq)).count == 6)
        #expect(stored.map(\.event) == [full, Self.event("a"), report, empty, maelstrom, Self.event("b")])
        #expect(stored.map(\.received) == [99, 99, 99, 99, 99, 100])
        #expect(try store.events(after: stored[2].seq, limit: 1).map(\.event.id) == ["dst-empty"])
    }

    @Test func commitsAreSyncedToDisk() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let store = try EventStore(directory: directory)
        _ = try store.append([Self.event("a")], receivedAt: 1)
        #expect(try store.synchronousLevel() == 2, "synchronous=FULL on the connection that commits")
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

    @Test func recentRunsFollowInsertsAndPruning() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        let store = try EventStore(directory: directory)
        _ = try store.append([Self.event("a1", run: "a"), Self.event("b1", run: "b")], receivedAt: 1)
        _ = try store.append([Self.event("a2", run: "a"), Self.event("c1", run: "c")], receivedAt: 2)
        _ = try store.append([Self.event("a2", run: "a")], receivedAt: 3)  // a duplicate moves nothing
        let order = { try store.recentRuns(pipeline: nil, limit: 10).map { $0.map(\.id) } }
        #expect(try order() == [["c1"], ["a1", "a2"], ["b1"]])
        #expect(try store.recentRuns(pipeline: "lookout", limit: 1).map { $0.map(\.id) } == [["c1"]])
        #expect(try store.recentRuns(pipeline: "other", limit: 10).isEmpty)
        // Pruning b's only event forgets run b; pruning a's first event keeps a where it was.
        _ = try store.prune(receivedBefore: 2, notAfter: nil)
        #expect(try order() == [["c1"], ["a2"]])
    }

    @Test func aStoreOfTheFirstSchemaIsMigratedWithItsEvents() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { Fixtures.removeTree(directory) }
        // The store as the first release left it: its schema and migration record, one report.
        let old = try DatabaseQueue(path: directory + "/pipeline-events.sqlite")
        try old.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1: events and the shipping watermark');
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, pipeline TEXT NOT NULL,
                    run_id TEXT NOT NULL, step TEXT, stage TEXT, result TEXT, exit_code INTEGER, duration_seconds REAL, revision TEXT,
                    labels TEXT NOT NULL, message TEXT, time INTEGER NOT NULL, received INTEGER NOT NULL, dst INTEGER NOT NULL,
                    dst_valid INTEGER, dst_ok_count INTEGER, dst_fail_count INTEGER, dst_info_count INTEGER);
                CREATE INDEX events_by_run ON events (pipeline, run_id, seq);
                CREATE TABLE watermarks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                INSERT INTO events (id, type, pipeline, run_id, labels, time, received, dst, dst_valid, dst_ok_count)
                    VALUES ('old', 'dst.report', 'lookout', '1', '{}', 5, 6, 1, 1, 7);
                """)
        }
        try old.close()
        let store = try EventStore(directory: directory)
        #expect(try store.events(after: 0, limit: 10).map(\.event) == [
            PipelineEvent(id: "old", type: .dstReport, pipeline: "lookout", runID: "1", time: 5, simulation: .init(valid: true, okCount: 7)),
        ])
        let new = PipelineEvent(id: "new", type: .dstReport, pipeline: "lookout", runID: "1", time: 8,
                                simulation: .init(valid: true, messageCount: 26, invalidCheckers: []))
        #expect(try store.append([new], receivedAt: 9) == [true])
        #expect(try store.run(pipeline: nil, runID: "1").last == new)
        #expect(try store.recentRuns(pipeline: nil, limit: 5).map { $0.map(\.id) } == [["old", "new"]])
    }

    @Test func anUnwritableDirectoryIsOneClearError() {
        #expect {
            _ = try EventStore(directory: "/nonexistent/lookout")
        } throws: { error in
            "\(error)".hasPrefix("cannot open the event store /nonexistent/lookout/pipeline-events.sqlite: ")
        }
    }
}
