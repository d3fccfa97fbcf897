import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PeerSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `lookout serve` shipping a journal to a real OpenSearch-compatible server (osmem-server):
/// every entry exactly once, across restarts, crashes, SIGTERM and outages.
@Suite(.serialized) struct JournalShippingTests {
    /// The fixture journal's entries as `lookout journal` prints them, keyed by cursor.
    static func expectedDocuments(_ directory: URL) throws -> [[String: Any]] {
        let printed = try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path])
        return try JournalFixture.objects(printed.stdout)
    }

    /// The number of documents in the journal indices.
    static func count(_ url: String) async -> Int? {
        guard let response = try? await Harness.get("\(url)/lookout-logs-*/_count"), response.status == 200,
              let object = try? JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any] else { return nil }
        return (object["count"] as? NSNumber)?.intValue
    }

    /// A document by id, searched across the journal indices.
    static func document(_ url: String, id: String) async throws -> [String: Any]? {
        let query = #"{"query":{"ids":{"values":["\#(id)"]}}}"#
        var request = URLRequest(url: URL(string: "\(url)/lookout-logs-*/_search")!)
        request.httpMethod = "POST"
        request.httpBody = Data(query.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, _) = try await URLSession.shared.data(for: request)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let hits = (object?["hits"] as? [String: Any])?["hits"] as? [[String: Any]]
        #expect(hits?.count == 1, "one document with id \(id)")
        return hits?.first?["_source"] as? [String: Any]
    }

    /// The sum of a family's samples in a scrape.
    static func sum(_ family: String, in scrape: String) -> Double {
        scrape.split(separator: "\n")
            .filter { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    /// The `_id` Lookout gives a document: seqnum id, seqnum and boot id from the cursor.
    static func id(of document: [String: Any]) -> String {
        let cursor = (document["journald"] as! [String: Any])["__CURSOR"] as! String
        var parts: [Character: Substring] = [:]
        for part in cursor.split(separator: ";") where part.count > 2 { parts[part.first!] = part.dropFirst(2) }
        return "\(parts["s"]!)-\(parts["i"]!)-\(parts["b"]!)"
    }

    static func serve(_ journal: URL, data: URL, url: String, extra: [String] = []) throws -> (ServerProcess, String) {
        let port = try Harness.freePort()
        let process = try ServerProcess(name: "lookout", executable: Harness.lookoutBinary, arguments: [
            "serve", "--web.listen-address", "127.0.0.1:\(port)", "--no-collector.filesystem",
            "--journal.directory", journal.path, "--journal.start", "head", "--data.dir", data.path,
            "--elasticsearch.url", url, "--elasticsearch.backoff-initial", "50ms", "--elasticsearch.backoff-max", "500ms",
        ] + extra)
        return (process, "http://127.0.0.1:\(port)/metrics")
    }

    /// A journal of `count` small entries across two boots, for the crash and outage tests;
    /// `after` entries of earlier files come first, as a journal that keeps growing would have them.
    static func generatedJournal(_ count: Int, name: String = "generated", after: Int = 0, into directory: URL? = nil) throws -> URL {
        var text = Data()
        for index in after..<(after + count) {
            let boot = index < (after + count) / 2 ? "11111111111111111111111111111111" : "22222222222222222222222222222222"
            text += Data("""
                __REALTIME_TIMESTAMP=\(1_764_150_000_000_000 + index * 1000)
                __MONOTONIC_TIMESTAMP=\(1_000_000 + index * 1000)
                _BOOT_ID=\(boot)
                _HOSTNAME=host-b
                PRIORITY=\(index % 8)
                _SYSTEMD_UNIT=unit-\(index % 7).service
                MESSAGE=generated entry \(index) \(String(repeating: "z", count: index % 200))


                """.utf8)
        }
        guard let directory else { return try JournalFixture.directory(fixtures: [], exports: [name: text]) }
        let made = try JournalFixture.directory(fixtures: [], exports: [name: text])
        for file in try FileManager.default.contentsOfDirectory(atPath: made.path) {
            try FileManager.default.moveItem(atPath: made.appendingPathComponent(file).path,
                                             toPath: directory.appendingPathComponent(file).path)
        }
        try FileManager.default.removeItem(at: made)
        return directory
    }

    @Test func everyEntryArrivesOnceWithItsFieldsAndARestartAddsNothing() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try JournalFixture.directory()
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        let expected = try Self.expectedDocuments(journal)
        #expect(expected.count == 377)

        let (lookout, metrics) = try Self.serve(journal, data: data, url: osmem.url)
        try await lookout.waitUntilServing(metrics)
        try await Harness.waitUntil(seconds: 60, "377 documents in osmem") { await Self.count(osmem.url) == 377 }

        // Sampled documents are the ones `lookout journal` prints, field for field.
        for index in [0, 1, 130, 240, 245, 246, 250, 374] {
            let wanted = expected[index]
            let stored = try await Self.document(osmem.url, id: Self.id(of: wanted))
            #expect(stored.map { NSDictionary(dictionary: $0).isEqual(to: wanted) } == true, "document \(index) differs")
        }
        try await Harness.waitUntil(seconds: 10, "the cursor file") {
            (try? String(contentsOf: data.appendingPathComponent("journal.cursor"), encoding: .utf8))?
                .hasPrefix((expected.last!["journald"] as! [String: Any])["__CURSOR"] as! String) == true
        }
        let scrape = try await Harness.get(metrics).body
        #expect(scrape.contains("lookout_elasticsearch_documents_acknowledged_total{result=\"indexed\"} 377\n"))
        #expect(scrape.contains("lookout_journal_lag_seconds 0\n"))
        // libcurl and libsystemd, loaded on first use (LazyLibrariesTests), are loaded now.
        let libraries = lookout.mappedLibraries()
        #expect(LazyLibrariesTests.holds(libraries, "libcurl") && LazyLibrariesTests.holds(libraries, "libsystemd"),
                "\(libraries.sorted())")
        lookout.stop()

        // A restart resumes after the saved cursor: nothing sent again, nothing added.
        let (again, againMetrics) = try Self.serve(journal, data: data, url: osmem.url)
        try await again.waitUntilServing(againMetrics)
        try await Task.sleep(for: .seconds(2))
        let second = try await Harness.get(againMetrics).body
        #expect(second.contains("lookout_elasticsearch_documents_sent_total 0\n"), "\(again.log)")
        let afterRestart = await Self.count(osmem.url)
        #expect(afterRestart == 377)
        again.stop()
    }

    /// Starting at the tail with no saved cursor, the start position is saved before anything is
    /// read: stopped before any entry is shipped (a quiet host), started again after entries
    /// were written, the daemon ships every one of them — and nothing from before its first start.
    @Test func aRestartBeforeTheFirstBatchLosesNothingWrittenInBetween() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try JournalFixture.directory()
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        let last = try Self.expectedDocuments(journal).last!
        let (first, metrics) = try Self.serve(journal, data: data, url: osmem.url, extra: ["--journal.start", "tail"])
        try await first.waitUntilServing(metrics)
        let cursorFile = data.appendingPathComponent("journal.cursor")
        try await Harness.waitUntil(seconds: 60, "the start position in the cursor file") {
            (try? String(contentsOf: cursorFile, encoding: .utf8))?
                .hasPrefix((last["journald"] as! [String: Any])["__CURSOR"] as! String) == true
        }
        first.stop()
        #expect((await Self.count(osmem.url) ?? 0) == 0, "tail shipped entries from before the start")

        // While it is down, journald writes 50 more entries (a new file, as after a rotation).
        _ = try Self.generatedJournal(50, name: "later", after: 10_000_000, into: journal)
        let (second, secondMetrics) = try Self.serve(journal, data: data, url: osmem.url, extra: ["--journal.start", "tail"])
        defer { second.stop() }
        try await second.waitUntilServing(secondMetrics)
        try await Harness.waitUntil(seconds: 60, "the 50 entries written while it was down") { await Self.count(osmem.url) == 50 }
        try await Task.sleep(for: .seconds(1))
        #expect(await Self.count(osmem.url) == 50)
    }

    @Test func withoutShippingTheJournalIsCountedAndSigtermStillExitsZero() async throws {
        let journal = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: journal) }
        let port = try Harness.freePort()
        let lookout = try ServerProcess(name: "lookout", executable: Harness.lookoutBinary, arguments: [
            "serve", "--web.listen-address", "127.0.0.1:\(port)", "--collector.disable-defaults",
            "--journal.enabled", "--journal.directory", journal.path, "--journal.start", "head",
        ])
        let metrics = "http://127.0.0.1:\(port)/metrics"
        try await lookout.waitUntilServing(metrics)
        try await Harness.waitUntil(seconds: 60, "377 entries counted") {
            Self.sum("lookout_journal_entries_total", in: (try? await Harness.get(metrics).body) ?? "") == 377
        }
        let scrape = try await Harness.get(metrics).body
        #expect(scrape.contains("lookout_journal_entries_total{priority=\"3\",unit=\"nginx.service\"}"))
        #expect(scrape.contains("lookout_journal_binary_fields_total 3\n"))
        #expect(!scrape.contains("lookout_elasticsearch_"))
        #expect(lookout.terminate() == 0, "\(lookout.log)")
    }

    @Test func killedAtRandomPointsItStillIndexesEveryEntryExactlyOnce() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let total = 30_000
        let journal = try Self.generatedJournal(total)
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<4 {
            let (lookout, metrics) = try Self.serve(journal, data: data, url: osmem.url, extra: ["--elasticsearch.batch-size", "700"])
            try await lookout.waitUntilServing(metrics)
            // Wait for some progress past the last round, then kill -9 at a random moment.
            let before = await Self.count(osmem.url) ?? 0
            try await Harness.waitUntil(seconds: 60, "progress") { (await Self.count(osmem.url) ?? 0) > before || before == total }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400, using: &generator)))
            lookout.kill()
            kills += 1
        }
        let (lookout, metrics) = try Self.serve(journal, data: data, url: osmem.url, extra: ["--elasticsearch.batch-size", "700"])
        try await lookout.waitUntilServing(metrics)
        try await Harness.waitUntil(seconds: 120, "all \(total) documents") { await Self.count(osmem.url) == total }
        try await Task.sleep(for: .seconds(1))
        let final = await Self.count(osmem.url)
        #expect(final == total, "no document twice, none missing, after \(kills) kills")
        // Documents re-sent after a kill come back as duplicates (409), never as new documents.
        let scrape = try await Harness.get(metrics).body
        #expect(scrape.contains("lookout_elasticsearch_documents_dead_lettered_total 0\n"))
        lookout.stop()
    }

    @Test func sigtermFlushesThePartialBatchSavesTheCursorAndExitsZero() async throws {
        let osmem = try OsmemServer()
        defer { osmem.stop() }
        let journal = try JournalFixture.directory()
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        // A batch that never fills and a flush interval that never passes: only SIGTERM sends it.
        let (lookout, metrics) = try Self.serve(journal, data: data, url: osmem.url, extra: [
            "--elasticsearch.batch-size", "100000", "--elasticsearch.flush-interval", "1h",
        ])
        try await lookout.waitUntilServing(metrics)
        try await Harness.waitUntil(seconds: 60, "all entries read") {
            let scrape = (try? await Harness.get(metrics).body) ?? ""
            return Self.sum("lookout_journal_entries_total", in: scrape) == 377
        }
        try await Task.sleep(for: .milliseconds(500))
        let beforeSigterm = await Self.count(osmem.url)
        #expect(beforeSigterm ?? 0 == 0, "nothing sent before SIGTERM")
        let status = lookout.terminate()
        #expect(status == 0, "\(lookout.log)")
        let afterSigterm = await Self.count(osmem.url)
        #expect(afterSigterm == 377)
        let cursor = try String(contentsOf: data.appendingPathComponent("journal.cursor"), encoding: .utf8)
        let expected = try Self.expectedDocuments(journal)
        #expect(cursor == ((expected.last!["journald"] as! [String: Any])["__CURSOR"] as! String) + "\n")
    }

    /// Journal and event shipping both backlogged behind an Elasticsearch that never answers:
    /// SIGTERM still ends the process within --shutdown.grace-period.
    @Test func sigtermEndsWithinTheGracePeriodWhateverIsBacklogged() async throws {
        let elasticsearch = try SilentListener()
        let journal = try Self.generatedJournal(3000)
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        try Data("shutdown-token\n".utf8).write(to: data.appendingPathComponent("token"))
        let (lookout, metrics) = try Self.serve(journal, data: data, url: "http://127.0.0.1:\(elasticsearch.port)", extra: [
            "--elasticsearch.timeout", "60s", "--elasticsearch.batch-size", "100", "--shutdown.grace-period", "2s",
            "--web.events-token-file", data.appendingPathComponent("token").path,
        ])
        try await lookout.waitUntilServing(metrics)
        let events = metrics.replacingOccurrences(of: "/metrics", with: "/api/v1/events")
        for index in 0..<20 {
            let posted = try await Harness.post(
                events, body: #"{"type":"note","pipeline":"p","run_id":"\#(index)","message":"backlog"}"#,
                headers: ["Authorization": "Bearer shutdown-token", "Content-Type": "application/json"])
            #expect(posted.status == 200, "\(posted.body)")
        }
        try await Harness.waitUntil(seconds: 30, "both shippers waiting on Elasticsearch") { elasticsearch.connectionCount >= 2 }
        try await Task.sleep(for: .milliseconds(500))

        let started = ContinuousClock.now
        let status = lookout.terminate()
        let took = ContinuousClock.now - started
        #expect(status == 0, "\(lookout.log)")
        #expect(took < .milliseconds(3500), "SIGTERM took \(took) with a 2 s grace period\n\(lookout.log)")
    }

    @Test func anOutageCostsNoMemoryAndNothingIsLostWhenThePeerReturns() async throws {
        let port = try Harness.freePort()
        let url = "http://127.0.0.1:\(port)"
        let journal = try Harness.temporaryDirectory()
        let data = try Harness.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: journal)
            try? FileManager.default.removeItem(at: data)
        }
        _ = try Self.generatedJournal(2000, name: "first", into: journal)
        let (lookout, metrics) = try Self.serve(journal, data: data, url: url, extra: ["--elasticsearch.batch-size", "500"])
        try await lookout.waitUntilServing(metrics)
        try await Task.sleep(for: .seconds(2))
        let early = lookout.residentKilobytes()
        // More entries arrive while the peer is still down: the reader stops at a full channel.
        for round in 0..<3 {
            _ = try Self.generatedJournal(2000, name: "more-\(round)", after: 2000 * (round + 1), into: journal)
            try await Task.sleep(for: .seconds(1))
        }
        let late = lookout.residentKilobytes()
        #expect(late < early + 16 * 1024, "RSS grew from \(early) KiB to \(late) KiB during the outage")
        let failures = try await Harness.get(metrics).body
        #expect(failures.contains("lookout_elasticsearch_requests_total{status=\"error\"}"))
        // Backpressure: the reader stopped after the batches the channel holds (two), the two
        // being shipped (--elasticsearch.concurrency) and the one being filled, instead of
        // reading all 8000 into memory.
        let read = Self.sum("lookout_journal_entries_total", in: failures)
        #expect(read <= 5 * 500, "read \(read) entries while the peer was down")
        // Down since start, nothing acknowledged: the backlog and its span still show, in the
        // metrics and in the summary.
        #expect(Self.sum("lookout_journal_unacknowledged_entries", in: failures) == read, "\(failures)")
        #expect(Self.sum("lookout_journal_lag_seconds", in: failures) > 0, "\(failures)")
        let summary = try await Harness.get(metrics.replacingOccurrences(of: "/metrics", with: "/api/v1/summary")).body
        let shipping = (try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any])?["shipping"] as? [String: Any]
        let journalShipping = shipping?["journal"] as? [String: Any]
        #expect((journalShipping?["waiting"] as? NSNumber)?.intValue ?? 0 > 0, "\(summary)")
        #expect((journalShipping?["lag_seconds"] as? NSNumber)?.doubleValue ?? 0 > 0, "\(summary)")

        let osmem = try OsmemServer(address: "127.0.0.1:\(port)")
        defer { osmem.stop() }
        do {
            try await Harness.waitUntil(seconds: 120, "8000 documents after the outage") { await Self.count(osmem.url) == 8000 }
        } catch {
            Issue.record("\(error); osmem has \(await Self.count(osmem.url) ?? -1)\n\(lookout.log)")
        }
        lookout.stop()
    }
}
