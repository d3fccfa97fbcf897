import Foundation
import Testing

/// The whole scrape of `lookout serve` on the committed fixture tree, compared with
/// `Tests/Fixtures/golden/scrape.prom`. Run with `LOOKOUT_UPDATE_GOLDEN=1` to rewrite the file
/// after checking a difference (and `git diff` it).
///
/// Values that cannot be fixed in advance are masked as `<VARIES>` (`maskedValues`, `maskedSamples`): collector
/// durations, the exporter's own `process_*`, the clock, the host's uname and time zone, statfs results of the fixture mount
/// points (they live on the checkout's disk) and textfile mtimes. HELP/TYPE lines and label sets
/// of those families stay pinned. The fixture directory's absolute path is written `<FIXTURES>`.
@Suite(.serialized) struct GoldenScrapeTests {
    /// Sample lines whose value is masked.
    static var maskedValues: Regex<AnyRegexOutput> {
        try! Regex(#"^(process_[a-z_]+|lookout_scrape_collector_duration_seconds|node_time_seconds|node_textfile_mtime_seconds|node_filesystem_(size|free|avail)_bytes|node_filesystem_files(_free)?)[{ ]"#)
    }

    /// Sample lines whose labels and value are masked (the host's identity and time zone).
    static var maskedSamples: Regex<AnyRegexOutput> {
        try! Regex(#"^(node_uname_info|node_time_zone_offset_seconds)[{ ]"#)
    }

    @Test func fullScrapeMatchesGoldenFile() async throws {
        let port = try Harness.freePort()
        let lookout = try ServerProcess(
            name: "lookout", executable: Harness.lookoutBinary,
            arguments: ["serve", "--web.listen-address=127.0.0.1:\(port)", "--no-rules.defaults"] + NodeExporterDifferentialTests.sharedFlags)
        defer { lookout.stop() }
        // Probe the landing page, not the metrics: every scrape adds to the textfile error count.
        try await lookout.waitUntilServing("http://127.0.0.1:\(port)/")
        let body = try await Harness.get("http://127.0.0.1:\(port)/metrics").body
        let actual = Self.normalise(body)

        let golden = Harness.fixtures.appendingPathComponent("golden/scrape.prom")
        if ProcessInfo.processInfo.environment["LOOKOUT_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(actual == expected)
        if actual != expected {
            let actualLines = actual.split(separator: "\n"), expectedLines = expected.split(separator: "\n")
            if let index = Array(zip(actualLines, expectedLines)).firstIndex(where: { $0 != $1 }) {
                Issue.record("first difference at line \(index + 1):\n  got      \(actualLines[index])\n  expected \(expectedLines[index])")
            }
        }
    }

    static func normalise(_ body: String) -> String {
        body.replacingOccurrences(of: Harness.fixtures.path, with: "<FIXTURES>")
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> String in
                if let match = line.prefixMatch(of: maskedSamples) {
                    return line[..<line.index(before: match.range.upperBound)] + "{<VARIES>} <VARIES>"
                }
                guard line.prefixMatch(of: maskedValues) != nil, let space = line.lastIndex(of: " ") else { return String(line) }
                return line[...space] + "<VARIES>"
            }
            .joined(separator: "\n")
    }
}
