// The durable store of pipeline events: SQLite through GRDB, in `<data.dir>/pipeline-events.sqlite`.
//
// An event is committed (WAL, `synchronous = FULL`, so a committed transaction survives a power
// cut, not only a crash) before the API answers 2xx. Each event keeps its client id, unique, so
// a re-sent event is recognised and stored once; `seq` orders events as they arrived, and the
// shipper's watermark is the highest `seq` Elasticsearch has acknowledged.

import GRDB
import LookoutSupport
import PipelineEvents

/// A stored event: the event and where it stands in arrival order.
package struct StoredEvent: Sendable, Equatable {
    /// Arrival order, from 1; the shipping watermark counts in it.
    package var seq: Int64
    /// When Lookout received it, microseconds since the epoch.
    package var received: Int64
    /// The event.
    package var event: PipelineEvent
}

/// Why the store failed: what it was doing, and SQLite's message.
package struct EventStoreError: Error, Sendable, CustomStringConvertible {
    /// One line naming the file and the problem.
    package var description: String
}

/// The pipeline-event store.
package final class EventStore: Sendable {
    /// The database file.
    package let path: String
    private let database: DatabasePool

    /// Opens (creating and migrating when needed) the store under `directory`.
    package init(directory: String) throws(EventStoreError) {
        path = directory + "/pipeline-events.sqlite"
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            // Every commit goes through the pool's one writer connection. GRDB sets it to WAL's
            // usual NORMAL, which may lose the last commits on power loss; an answered event must
            // not be lost, so the WAL is synced at each commit. (prepareDatabase runs before
            // GRDB's own setting, so this must come after opening.)
            try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try Self.migrator.migrate(database)
        } catch {
            throw EventStoreError(description: "cannot open the event store \(path): \(error)")
        }
    }

    /// The writer's `PRAGMA synchronous` level (2 = FULL), for tests that check durability.
    func synchronousLevel() throws -> Int {
        try database.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The schema, version by version.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: events and the shipping watermark") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    pipeline TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    step TEXT,
                    stage TEXT,
                    result TEXT,
                    exit_code INTEGER,
                    duration_seconds REAL,
                    revision TEXT,
                    labels TEXT NOT NULL,
                    message TEXT,
                    time INTEGER NOT NULL,
                    received INTEGER NOT NULL,
                    dst INTEGER NOT NULL,
                    dst_valid INTEGER,
                    dst_ok_count INTEGER,
                    dst_fail_count INTEGER,
                    dst_info_count INTEGER
                );
                CREATE INDEX events_by_run ON events (pipeline, run_id, seq);
                CREATE TABLE watermarks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                """)
        }
        // The facts `lookout event dst-report --file` reads from a results file; the lists as
        // JSON arrays of strings. NULL: not reported (and for events stored before).
        migrator.registerMigration("v2: message counts and checker names of simulation reports") { db in
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN dst_count INTEGER;
                ALTER TABLE events ADD COLUMN dst_msg_count INTEGER;
                ALTER TABLE events ADD COLUMN dst_server_msg_count INTEGER;
                ALTER TABLE events ADD COLUMN dst_invalid_checkers TEXT;
                ALTER TABLE events ADD COLUMN dst_unknown_checkers TEXT;
                ALTER TABLE events ADD COLUMN dst_anomaly_types TEXT;
                """)
        }
        // The runs that saw events most recently, without grouping every stored event: kept by
        // triggers in the transaction that inserts or deletes the events.
        migrator.registerMigration("v3: runs by their latest event") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    pipeline TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    last_seq INTEGER NOT NULL,
                    PRIMARY KEY (pipeline, run_id)
                );
                CREATE INDEX runs_by_last_seq ON runs (last_seq);
                INSERT INTO runs (pipeline, run_id, last_seq) SELECT pipeline, run_id, max(seq) FROM events GROUP BY pipeline, run_id;
                CREATE TRIGGER runs_on_insert AFTER INSERT ON events BEGIN
                    INSERT INTO runs (pipeline, run_id, last_seq) VALUES (new.pipeline, new.run_id, new.seq)
                    ON CONFLICT (pipeline, run_id) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq);
                END;
                CREATE TRIGGER runs_on_delete AFTER DELETE ON events
                WHEN NOT EXISTS (SELECT 1 FROM events WHERE pipeline = old.pipeline AND run_id = old.run_id) BEGIN
                    DELETE FROM runs WHERE pipeline = old.pipeline AND run_id = old.run_id;
                END;
                """)
        }
        return migrator
    }

    /// Stores `events` in one transaction, received at `receivedAt`; returns, per event, whether
    /// it was new (false: an event with its id was already stored, and nothing changed). When
    /// this returns, the events are on disk.
    package func append(_ events: [PipelineEvent], receivedAt: Int64) throws(EventStoreError) -> [Bool] {
        // Built before taking the one writer, so concurrent requests do this part in parallel.
        let rows = events.map { Self.arguments($0, receivedAt: receivedAt) }
        do {
            return try database.write { db in
                let statement = try db.cachedStatement(sql: """
                    INSERT OR IGNORE INTO events (id, type, pipeline, run_id, step, stage, result, exit_code, duration_seconds,
                        revision, labels, message, time, received, dst, dst_valid, dst_ok_count, dst_fail_count, dst_info_count,
                        dst_count, dst_msg_count, dst_server_msg_count, dst_invalid_checkers, dst_unknown_checkers, dst_anomaly_types)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                return try rows.map { row in
                    try statement.execute(arguments: row)
                    return db.changesCount == 1
                }
            }
        } catch {
            throw EventStoreError(description: "cannot store events in \(path): \(error)")
        }
    }

    /// Up to `limit` events after `seq`, in arrival order.
    package func events(after seq: Int64, limit: Int) throws(EventStoreError) -> [StoredEvent] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                    .map(Self.storedEvent)
            }
        } catch {
            throw EventStoreError(description: "cannot read events from \(path): \(error)")
        }
    }

    /// The events of the `limit` runs that saw events most recently (of `pipeline`, when given),
    /// newest run first; each run's events in arrival order.
    package func recentRuns(pipeline: String?, limit: Int) throws(EventStoreError) -> [[PipelineEvent]] {
        do {
            return try database.read { db in
                let runs = try Row.fetchAll(db, sql: """
                    SELECT pipeline, run_id FROM runs WHERE ?1 IS NULL OR pipeline = ?1 ORDER BY last_seq DESC LIMIT ?2
                    """, arguments: [pipeline, limit])
                return try runs.map { run in
                    try Row.fetchAll(db, sql: "SELECT * FROM events WHERE pipeline = ? AND run_id = ? ORDER BY seq",
                                     arguments: [run["pipeline"] as String, run["run_id"] as String])
                        .map { try Self.storedEvent($0).event }
                }
            }
        } catch {
            throw EventStoreError(description: "cannot read runs from \(path): \(error)")
        }
    }

    /// The events of run `runID` (of `pipeline`, when given; else of the pipeline that saw it
    /// last), in arrival order; empty when there is no such run.
    package func run(pipeline: String?, runID: String) throws(EventStoreError) -> [PipelineEvent] {
        do {
            return try database.read { db in
                guard let owner = try String.fetchOne(db, sql: """
                    SELECT pipeline FROM events WHERE run_id = ?1 AND (?2 IS NULL OR pipeline = ?2) ORDER BY seq DESC LIMIT 1
                    """, arguments: [runID, pipeline]) else { return [] }
                return try Row.fetchAll(db, sql: "SELECT * FROM events WHERE pipeline = ? AND run_id = ? ORDER BY seq",
                                        arguments: [owner, runID]).map { try Self.storedEvent($0).event }
            }
        } catch {
            throw EventStoreError(description: "cannot read run \(runID) from \(path): \(error)")
        }
    }

    /// How many events are stored.
    package func count() throws(EventStoreError) -> Int {
        do {
            return try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
        } catch {
            throw EventStoreError(description: "cannot count events in \(path): \(error)")
        }
    }

    /// The events after `seq`: how many, and when the oldest of them was received (nil when
    /// there are none). What a shipper's watermark leaves behind.
    package func backlog(after seq: Int64) throws(EventStoreError) -> (count: Int, oldestReceived: Int64?) {
        do {
            return try database.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT count(*) AS n, min(received) AS oldest FROM events WHERE seq > ?",
                                           arguments: [seq])
                return (row?["n"] ?? 0, row?["oldest"])
            }
        } catch {
            throw EventStoreError(description: "cannot measure the backlog in \(path): \(error)")
        }
    }

    /// Deletes the events received before `cutoff` (microseconds since the epoch), but none
    /// after `seq` when given (the shipping watermark: unshipped events are kept whatever their
    /// age); returns how many went.
    package func prune(receivedBefore cutoff: Int64, notAfter seq: Int64?) throws(EventStoreError) -> Int {
        do {
            return try database.write { db in
                try db.execute(sql: "DELETE FROM events WHERE received < ? AND (?2 IS NULL OR seq <= ?2)", arguments: [cutoff, seq])
                return db.changesCount
            }
        } catch {
            throw EventStoreError(description: "cannot delete old events from \(path): \(error)")
        }
    }

    /// The watermark called `name` (0 when never set).
    package func watermark(_ name: String) throws(EventStoreError) -> Int64 {
        do {
            return try database.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM watermarks WHERE name = ?", arguments: [name]) ?? 0 }
        } catch {
            throw EventStoreError(description: "cannot read watermark \(name) from \(path): \(error)")
        }
    }

    /// Moves the watermark called `name` to `seq` (never backwards).
    package func advanceWatermark(_ name: String, to seq: Int64) throws(EventStoreError) {
        do {
            try database.write { db in
                try db.execute(sql: """
                    INSERT INTO watermarks (name, seq) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq)
                    """, arguments: [name, seq])
            }
        } catch {
            throw EventStoreError(description: "cannot save watermark \(name) in \(path): \(error)")
        }
    }

    private static func arguments(_ event: PipelineEvent, receivedAt: Int64) -> StatementArguments {
        var labels = JSONObjectWriter()
        for key in event.labels.keys.sorted() { labels.string(key, event.labels[key]) }
        let simulation = event.simulation
        return [
            event.id, event.type.rawValue, event.pipeline, event.runID, event.step, event.stage, event.result?.rawValue,
            event.exitCode, event.durationSeconds, event.revision, String(decoding: labels.finished(), as: UTF8.self), event.message,
            event.time, receivedAt, simulation == nil ? 0 : 1, simulation?.valid.map { $0 ? 1 : 0 }, simulation?.okCount, simulation?.failCount,
            simulation?.infoCount, simulation?.operationCount, simulation?.messageCount, simulation?.serverMessageCount,
            namesText(simulation?.invalidCheckers), namesText(simulation?.unknownCheckers), namesText(simulation?.anomalyTypes),
        ]
    }

    /// A list of names as a JSON array, for a TEXT column.
    private static func namesText(_ names: [String]?) -> String? {
        guard let names else { return nil }
        var text: [UInt8] = [UInt8(ascii: "[")]
        for (index, name) in names.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            JSONText.appendString(name, to: &text)
        }
        text.append(UInt8(ascii: "]"))
        return String(decoding: text, as: UTF8.self)
    }

    /// The names in a TEXT column written by ``namesText(_:)``.
    private static func names(_ text: String?) throws -> [String]? {
        guard let text else { return nil }
        guard case .array(let elements) = try JSONValue.parse(Array(text.utf8)) else { return [] }
        return elements.compactMap { element in
            guard case .string(let name) = element else { return nil }
            return name
        }
    }

    private static func storedEvent(_ row: Row) throws -> StoredEvent {
        var labels: [String: String] = [:]
        if case .object(let members) = try JSONValue.parse(Array((row["labels"] as String).utf8)) {
            for (key, value) in members { if case .string(let text) = value { labels[key] = text } }
        }
        let event = PipelineEvent(
            id: row["id"], type: PipelineEvent.Kind(rawValue: row["type"]) ?? .note, pipeline: row["pipeline"], runID: row["run_id"],
            step: row["step"], stage: row["stage"], result: (row["result"] as String?).flatMap(PipelineEvent.Result.init(rawValue:)),
            exitCode: row["exit_code"], durationSeconds: row["duration_seconds"], revision: row["revision"], labels: labels,
            message: row["message"], time: row["time"],
            simulation: row["dst"] as Int == 1
                ? PipelineEvent.SimulationReport(
                    valid: (row["dst_valid"] as Int?).map { $0 != 0 }, operationCount: row["dst_count"], okCount: row["dst_ok_count"],
                    failCount: row["dst_fail_count"], infoCount: row["dst_info_count"], messageCount: row["dst_msg_count"],
                    serverMessageCount: row["dst_server_msg_count"], invalidCheckers: try names(row["dst_invalid_checkers"]),
                    unknownCheckers: try names(row["dst_unknown_checkers"]), anomalyTypes: try names(row["dst_anomaly_types"]))
                : nil)
        return StoredEvent(seq: row["seq"], received: row["received"], event: event)
    }
}

