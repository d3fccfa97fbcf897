import Foundation
import Testing

/// `lookout journal` against `journalctl -o json --all` on the same journal files: every field of
/// every entry must decode to the same bytes, whatever name and encoding the document gives it.
@Suite struct JournalDifferentialTests {
    /// Where each ECS field of a Lookout document came from; written out here, independently of
    /// the encoder's own table, so a mapping mistake shows up as a difference.
    static let ecsOrigins: [(path: [String], field: String)] = [
        (["message"], "MESSAGE"),
        (["log", "syslog", "severity", "code"], "PRIORITY"),
        (["log", "syslog", "facility", "code"], "SYSLOG_FACILITY"),
        (["log", "syslog", "appname"], "SYSLOG_IDENTIFIER"),
        (["log", "origin", "file", "name"], "CODE_FILE"),
        (["log", "origin", "file", "line"], "CODE_LINE"),
        (["log", "origin", "function"], "CODE_FUNC"),
        (["host", "name"], "_HOSTNAME"),
        (["host", "id"], "_MACHINE_ID"),
        (["host", "boot", "id"], "_BOOT_ID"),
        (["process", "pid"], "_PID"),
        (["process", "name"], "_COMM"),
        (["process", "executable"], "_EXE"),
        (["process", "command_line"], "_CMDLINE"),
        (["user", "id"], "_UID"),
        (["user", "group", "id"], "_GID"),
        (["systemd", "unit"], "_SYSTEMD_UNIT"),
        (["systemd", "user_unit"], "_SYSTEMD_USER_UNIT"),
        (["systemd", "slice"], "_SYSTEMD_SLICE"),
        (["systemd", "cgroup"], "_SYSTEMD_CGROUP"),
        (["systemd", "invocation_id"], "_SYSTEMD_INVOCATION_ID"),
        (["systemd", "transport"], "_TRANSPORT"),
    ]
    static let levels = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

    /// A journal field's values as bytes, from journalctl's JSON: a string, an array of byte
    /// numbers (values journalctl does not print as text), or an array of either (repeated field).
    static func journalctlValues(_ value: Any) throws -> [[UInt8]] {
        if let text = value as? String { return [Array(text.utf8)] }
        if let array = value as? [Any] {
            if array.allSatisfy({ $0 is NSNumber }) && !array.isEmpty {
                return [array.map { ($0 as! NSNumber).uint8Value }]
            }
            return try array.flatMap { try journalctlValues($0) }
        }
        throw HarnessError("unexpected journalctl value \(value)")
    }

    /// A Lookout document turned back into journal fields and their values as bytes.
    static func journalFields(of document: [String: Any]) throws -> [String: [[UInt8]]] {
        var fields: [String: [[UInt8]]] = [:]
        for (path, field) in ecsOrigins {
            var node: Any? = document
            for key in path { node = (node as? [String: Any])?[key] }
            guard let node else { continue }
            if let number = node as? NSNumber, !(node is String) {
                fields[field] = [Array(number.stringValue.utf8)]
            } else if let text = node as? String {
                fields[field] = [Array(text.utf8)]
            } else {
                throw HarnessError("\(path.joined(separator: ".")) is \(node), not a scalar")
            }
        }
        if let severity = ((document["log"] as? [String: Any])?["syslog"] as? [String: Any]).flatMap({ $0["severity"] as? [String: Any] })?["code"] as? Int {
            let level = (document["log"] as? [String: Any])?["level"] as? String
            #expect(level == levels[severity], "log.level \(level ?? "nil") for severity \(severity)")
        }
        guard let journald = document["journald"] as? [String: Any] else { throw HarnessError("no journald object") }
        let base64 = Set(journald["base64"] as? [String] ?? [])
        for (name, value) in journald where name != "base64" {
            let texts: [String] = if let text = value as? String { [text] } else { value as? [String] ?? [] }
            #expect(!texts.isEmpty, "journald.\(name) is neither a string nor an array of strings")
            fields[name] = try texts.map { text in
                guard base64.contains(name) else { return Array(text.utf8) }
                guard let data = Data(base64Encoded: text) else { throw HarnessError("journald.\(name) is not base64") }
                return Array(data)
            }
        }
        return fields
    }

    @Test func everyFieldOfEveryEntryDecodesAsJournalctlDecodesIt() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let oracle = try Harness.run(try Harness.tool("journalctl"), ["--directory", directory.path, "-o", "json", "--all"])
        #expect(oracle.status == 0, "\(oracle.stderr)")
        let lookout = try Harness.run(Harness.lookoutBinary, ["journal", "--journal.directory", directory.path])
        #expect(lookout.status == 0, "\(lookout.stderr)")

        let expected = try JournalFixture.objects(oracle.stdout)
        let documents = try JournalFixture.objects(lookout.stdout)
        #expect(expected.count == 377)
        #expect(documents.count == expected.count)

        var binaryDocuments = 0
        for (reference, document) in zip(expected, documents) {
            var referenceFields: [String: [[UInt8]]] = [:]
            for (name, value) in reference { referenceFields[name] = try Self.journalctlValues(value) }
            var fields = try Self.journalFields(of: document)
            // journalctl 252 does not print the sequence number; Lookout takes it from the cursor.
            let seqnum = fields.removeValue(forKey: "__SEQNUM")
            let seqnumID = fields.removeValue(forKey: "__SEQNUM_ID")
            let cursor = String(decoding: referenceFields["__CURSOR"]?.first ?? [], as: UTF8.self)
            #expect(seqnumID.map { "s=" + String(decoding: $0[0], as: UTF8.self) }.map(cursor.hasPrefix) == true)
            #expect(seqnum.map { String(decoding: $0[0], as: UTF8.self) }
                .flatMap { UInt64($0) }.map { cursor.contains(";i=\(String($0, radix: 16));") } == true)
            #expect(fields == referenceFields, "entry \(cursor): fields differ")
            if let journald = document["journald"] as? [String: Any], journald["base64"] != nil { binaryDocuments += 1 }

            // @timestamp: the source time when it is a number, else the receive time.
            let received = UInt64(String(decoding: referenceFields["__REALTIME_TIMESTAMP"]![0], as: UTF8.self))!
            let source = referenceFields["_SOURCE_REALTIME_TIMESTAMP"].flatMap { UInt64(String(decoding: $0[0], as: UTF8.self)) }
            let wanted = Date(timeIntervalSince1970: Double(source ?? received) / 1e6)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let stamp = document["@timestamp"] as? String ?? ""
            let parsed = formatter.date(from: String(stamp.prefix(23)) + "Z")
            #expect(parsed.map { abs($0.timeIntervalSince(wanted)) < 0.001 } == true, "@timestamp \(stamp) for \(cursor)")
        }
        #expect(binaryDocuments == 3, "the fixture has three entries with values that are not UTF-8")
    }

    @Test func filtersSelectWhatJournalctlSelects() throws {
        let directory = try JournalFixture.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journalctl = try Harness.tool("journalctl")
        let cases: [(lookout: [String], journalctl: [String])] = [
            (["--unit", "nginx"], ["-u", "nginx.service"]),
            (["--priority", "warning"], ["-p", "warning"]),
            (["--journal.match", "_SYSTEMD_UNIT=sshd.service", "--journal.match", "+", "--journal.match", "PRIORITY=3"],
             ["_SYSTEMD_UNIT=sshd.service", "+", "PRIORITY=3"]),
            (["--journal.match", "_SYSTEMD_UNIT=cron.service", "--journal.match", "PRIORITY=6"],
             ["_SYSTEMD_UNIT=cron.service", "PRIORITY=6"]),
        ]
        for (lookoutArguments, journalctlArguments) in cases {
            let oracle = try Harness.run(journalctl, ["--directory", directory.path, "-o", "json", "--all"] + journalctlArguments)
            let lookout = try Harness.run(Harness.lookoutBinary, ["journal", "--directory", directory.path] + lookoutArguments)
            #expect(lookout.status == 0, "\(lookout.stderr)")
            let wanted = try JournalFixture.objects(oracle.stdout).map { $0["__CURSOR"] as? String }
            let got = try JournalFixture.objects(lookout.stdout).map { ($0["journald"] as? [String: Any])?["__CURSOR"] as? String }
            #expect(!wanted.isEmpty)
            #expect(got == wanted, "lookout \(lookoutArguments) vs journalctl \(journalctlArguments)")
        }
    }
}
