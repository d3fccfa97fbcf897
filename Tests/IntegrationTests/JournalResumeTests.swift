import Foundation
import Testing

/// Resuming after a saved cursor: nothing repeated, nothing skipped, even when the cursor's own
/// entry is gone from the journal.
@Suite struct JournalResumeTests {
    static func messages(_ stdout: String) throws -> [String] {
        try JournalFixture.objects(stdout).map { $0["message"] as? String ?? "" }
    }

    @Test func afterCursorStartsWithTheNextEntry() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try JournalFixture.objects(
            try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path]).stdout)
        for index in [0, 41, all.count - 2, all.count - 1] {
            let cursor = (all[index]["journald"] as! [String: Any])["__CURSOR"] as! String
            let rest = try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path, "--after-cursor", cursor])
            #expect(rest.status == 0, "\(rest.stderr)")
            let got = try Self.messages(rest.stdout)
            let wanted = all[(index + 1)...].map { $0["message"] as? String ?? "" }
            #expect(got == Array(wanted), "after entry \(index)")
        }
    }

    @Test func aVacuumedCursorEntryDoesNotCostTheFirstUnreadOne() throws {
        let export = try Data(contentsOf: Harness.fixtures.appendingPathComponent("journal/host-a.export"))
        let entries = JournalFixture.exportEntries(export)
        #expect(entries.count == 377)
        let full = try JournalFixture.directory()
        // The same journal with its oldest 13 entries vacuumed away.
        let vacuumed = try JournalFixture.directory(fixtures: [], exports: ["host-a": entries[13...].reduce(Data(), +)])
        defer {
            try? FileManager.default.removeItem(at: full)
            try? FileManager.default.removeItem(at: vacuumed)
        }
        let all = try JournalFixture.objects(try Harness.run(Harness.lookoutBinary, ["journal", "--directory", full.path]).stdout)
        let savedCursor = (all[10]["journald"] as! [String: Any])["__CURSOR"] as! String

        let resumed = try Harness.run(Harness.lookoutBinary, ["journal", "--directory", vacuumed.path, "--after-cursor", savedCursor])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let got = try Self.messages(resumed.stdout)
        #expect(got.first == all[13]["message"] as? String, "the first entry still in the journal comes first")
        #expect(got.count == all.count - 13)
    }

    @Test func sinceStartsAtTheFirstEntryReceivedThen() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try JournalFixture.objects(
            try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path]).stdout)
        let received = UInt64((all[200]["journald"] as! [String: Any])["__REALTIME_TIMESTAMP"] as! String)!
        let since = "@\(received / 1_000_000).\(String(format: "%06d", received % 1_000_000))"
        let rest = try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path, "--since", since])
        #expect(rest.status == 0, "\(rest.stderr)")
        let got = try JournalFixture.objects(rest.stdout).map { ($0["journald"] as! [String: Any])["__CURSOR"] as! String }
        #expect(got == all[200...].map { ($0["journald"] as! [String: Any])["__CURSOR"] as! String })
    }

    /// `--file F --follow` sees entries appended to F itself, as the daemon's reader does.
    @Test func followOnAFileSeesEntriesAppendedToIt() async throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("host-a.journal").path
        let follower = try ServerProcess(name: "lookout-follow", executable: Harness.lookoutBinary,
                                         arguments: ["journal", "--file", file, "--follow"])
        defer { follower.stop() }
        func lines(_ process: ServerProcess) -> Int { process.log.split(separator: "\n").count }
        try await Harness.waitUntil(seconds: 60, "the existing entries") { lines(follower) == 377 }
        // Later entries written into the same file, as journald appends to the active one.
        var export = Data()
        for index in 0..<25 {
            export += Data("""
                __REALTIME_TIMESTAMP=\(1_900_000_000_000_000 + index * 1000)
                __MONOTONIC_TIMESTAMP=\(9_000_000_000 + index * 1000)
                _BOOT_ID=33333333333333333333333333333333
                _HOSTNAME=host-a
                MESSAGE=appended \(index)


                """.utf8)
        }
        let input = directory.appendingPathComponent("later.export")
        try export.write(to: input)
        let appended = try await Harness.runDetached(try JournalFixture.journalRemote(), ["--output=\(file)", "--split-mode=none", input.path])
        #expect(appended.status == 0, "\(appended.stderr)")
        try await Harness.waitUntil(seconds: 60, "the appended entries") { lines(follower) == 402 }
        #expect(follower.log.contains("\"message\":\"appended 24\""))
        #expect(follower.isRunning)
    }

    @Test func followPrintsEntriesThatArriveLater() async throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let follower = try ServerProcess(name: "lookout-follow", executable: Harness.lookoutBinary,
                                         arguments: ["journal", "--directory", directory.path, "--follow"])
        defer { follower.stop() }
        func lines() -> Int { follower.log.split(separator: "\n").count }
        try await Harness.waitUntil(seconds: 60, "the existing entries") { lines() == 377 }
        // A new journal file with later entries, as journald starts one after rotation.
        _ = try JournalShippingTests.generatedJournal(50, name: "later", after: 10_000_000, into: directory)
        try await Harness.waitUntil(seconds: 60, "the new entries") { lines() == 427 }
        #expect(follower.log.hasSuffix("\n"))
        #expect(follower.isRunning)
    }

    @Test func badSourceFlagsAreOneLineErrors() throws {
        // A flag's malformed value is a usage error (64, as ArgumentParser's own); a journal that
        // cannot be opened is a failure (1).
        for (arguments, message, status) in [
            (["--priority", "loud"], "--journal.priority: 'loud' is not a priority", 64),
            (["--match", "NOEQUALS"], "--journal.match: 'NOEQUALS' is not FIELD=VALUE or +", 64),
            (["--since", "yesterday-ish"], "--since: 'yesterday-ish' is not a time", 64),
            (["--directory", "/nonexistent/journal"], "cannot open journal directory /nonexistent/journal", 1),
        ] as [([String], String, Int32)] {
            let result = try Harness.run(Harness.lookoutBinary, ["journal"] + arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderr.hasPrefix("lookout: \(message)") || result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}
