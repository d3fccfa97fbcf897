import Foundation
import Testing

/// Real journal files made at test time from the committed export-format fixtures
/// (Tests/Fixtures/journal/*.export) by systemd-journal-remote, as journald itself would write them.
enum JournalFixture {
    /// systemd-journal-remote lives in systemd's lib directory, not on PATH.
    static func journalRemote() throws -> String {
        for candidate in ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw HarnessError("systemd-journal-remote is not installed; run scripts/bootstrap --test")
    }

    /// A new directory holding `NAME.journal` for each export fixture named (or for each export
    /// text given), made by systemd-journal-remote.
    static func directory(fixtures names: [String] = ["host-a"], exports: [String: Data] = [:]) throws -> URL {
        let directory = try Harness.temporaryDirectory()
        var inputs: [(String, URL)] = names.map { ($0, Harness.fixtures.appendingPathComponent("journal/\($0).export")) }
        for (name, data) in exports.sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent("\(name).export")
            try data.write(to: url)
            inputs.append((name, url))
        }
        for (name, input) in inputs {
            let result = try Harness.run(try journalRemote(), [
                "--output=\(directory.path)/\(name).journal", "--split-mode=none", input.path,
            ])
            guard result.status == 0 else {
                throw HarnessError("systemd-journal-remote failed on \(input.lastPathComponent): \(result.stderr)")
            }
            if input.deletingLastPathComponent() == directory { try FileManager.default.removeItem(at: input) }
        }
        return directory
    }

    /// The entries of an export-format text, each as its raw bytes (for cutting fixtures apart).
    static func exportEntries(_ data: Data) -> [Data] {
        var entries: [Data] = []
        var start = data.startIndex
        var index = data.startIndex
        var lineStart = index
        while index < data.endIndex {
            if data[index] == UInt8(ascii: "\n") {
                if index == lineStart {  // empty line: end of an entry
                    entries.append(data[start...index])
                    start = index + 1
                } else if !data[lineStart..<index].contains(UInt8(ascii: "=")) {
                    // Binary field: name line, then a 64-bit little-endian length, the bytes, a newline.
                    let sizeStart = index + 1
                    let size = data[sizeStart..<(sizeStart + 8)].enumerated()
                        .reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                    index = sizeStart + 8 + size
                }
                lineStart = index + 1
            }
            index += 1
        }
        return entries
    }

    /// Each line of NDJSON parsed as a JSON object.
    static func objects(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw HarnessError("not a JSON object: \(line.prefix(200))")
            }
            return object
        }
    }
}
