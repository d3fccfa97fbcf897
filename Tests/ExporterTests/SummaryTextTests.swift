import Foundation
import DaemonSummary
import LookoutSupport
import Testing
@testable import Exporter

/// `lookout summary`'s text, from the committed summary `Tests/Fixtures/summary/summary.json`:
/// the exact plain text, the same text in colour, and the number formats.
@Suite struct SummaryTextTests {
    static func fixture() throws -> Summary {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/summary/summary.json").path
        return try Summary(json: try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
    }

    static let plain = """
        host-a  lookout 0.1.0  10:00:00

        HOST
          cpu         12.5%  8 cpus, over 2s
          memory      75.0%  12.0 GiB of 16.0 GiB in use
          load        9.50   5m 4.25, 15m 1.00
          filesystem  94.7%  /var (ext4 on /dev/nvme0n1p3), 5.0 GiB free of 100 GiB

        MICROVMS
          NAME  STATE    CPU     MEMORY   HYPERVISOR        RESTART
          db    running  0.5%    512 MiB  cloud-hypervisor  pending
          idle  stopped  -       -        firecracker
          web   running  103.3%  1.0 GiB  qemu

        RUNS
          lookout 42  running  2m30s  started 2m ago
            unit-tests      success  1m02s
            build           success  1m08s
            deploy-preprod  running  20s
          lookout 41  failure  12m03s  started 1h ago  rev 9f8e7d6  rolled back preprod  dst invalid, 20 failed
            unit-tests  success  1m02s
            build       success  4m00s
            dst         failure  5m00s  exit 1

        SHIPPING
          elasticsearch  failing, 3 requests failed in a row, last success 2m ago
          documents      123456 acknowledged
          journal        lag 2m06s, 2000 waiting
          events         4 not acknowledged, lag 13s
          last error     5s ago: https://es.example:9200: HTTP 503 cluster_block_exception: blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];

        JOURNAL ERRORS  priority err or worse, last 15m
          15  nginx.service
           3  (no unit)
           1  sshd.service

        WARNINGS
          collector textfile is failing (see the daemon's log)

        """

    /// `text` without its SGR escapes.
    static func stripped(_ text: String) -> String {
        text.replacing(/\u{1B}\[[0-9;]*m/, with: "")
    }

    @Test func plainTextIsAlignedAndCarriesNoEscape() throws {
        let text = SummaryText(colors: false).render(try Self.fixture())
        #expect(text == Self.plain)
        #expect(!text.contains("\u{1B}"))
    }

    @Test func colourOnlyAddsEscapesAroundTheSameText() throws {
        let text = SummaryText(colors: true).render(try Self.fixture())
        #expect(Self.stripped(text) == Self.plain)
        for painted in ["\u{1B}[1mHOST\u{1B}[0m", "\u{1B}[33m75.0%\u{1B}[0m", "\u{1B}[31m94.7%\u{1B}[0m",
                        "\u{1B}[33m9.50\u{1B}[0m", "\u{1B}[32mrunning\u{1B}[0m", "\u{1B}[2mstopped\u{1B}[0m", "\u{1B}[33mpending\u{1B}[0m",
                        "\u{1B}[36mrunning\u{1B}[0m", "\u{1B}[31mfailure\u{1B}[0m", "\u{1B}[32msuccess\u{1B}[0m", "\u{1B}[31mexit 1\u{1B}[0m",
                        "\u{1B}[31mfailing\u{1B}[0m, 3 requests", "\u{1B}[31m5s ago: https://es.example", "\u{1B}[31m15\u{1B}[0m", "\u{1B}[33mcollector textfile"] {
            #expect(text.contains(painted), "no \(painted.debugDescription)")
        }
        // Padding stays outside the escapes, so columns line up on the screen.
        #expect(text.contains("  db    \u{1B}[32mrunning\u{1B}[0m  0.5%    512 MiB"))
    }

    @Test func aNarrowTerminalCutsTheErrorMessageNotTheTables() throws {
        let text = SummaryText(colors: false, width: 60).render(try Self.fixture())
        #expect(text.contains("\n  last error     5s ago: https://es.example:9200: HTTP 503 …\n"))
        #expect(text.contains("\n  elasticsearch  failing, 3 requests failed in a row, last success 2m ago\n"))
    }

    @Test func aTitleForWatchingAndAProblemAboveTheLastSummary() throws {
        let summary = try Self.fixture()
        let watching = SummaryText(colors: false, utcOffsetSeconds: 3600, refreshSeconds: 2).render(summary)
        #expect(watching.hasPrefix("host-a  lookout 0.1.0  11:00:00  every 2s\n\nHOST\n"))
        let problem = SummaryText(colors: false).render(problem: "cannot reach the daemon at http://127.0.0.1:1: refused", last: summary)
        #expect(problem == "cannot reach the daemon at http://127.0.0.1:1: refused\n\n" + Self.plain)
    }

    @Test func sectionsTheDaemonLeftOutAreLeftOut() {
        let summary = Summary(version: "0.1.0", hostname: "h", time: 0, host: Summary.Host(), microVMs: nil, runs: [],
                              shipping: nil, journalErrors: Summary.JournalErrors(windowSeconds: 120, units: []), warnings: [])
        #expect(SummaryText(colors: false).render(summary) == """
            h  lookout 0.1.0  00:00:00

            RUNS
              none yet

            JOURNAL ERRORS  priority err or worse, last 2m
              none

            """)
    }

    @Test func numbersForPeople() {
        #expect(["0 B", "1023 B", "1.0 KiB", "1.5 KiB", "512 MiB", "1.0 GiB", "15.5 GiB", "234 GiB"]
                == [0, 1023, 1024, 1536, 536_870_912, 1_073_741_823.9, 16_642_998_272, 251_255_586_816].map(SummaryText.bytes))
        #expect(["0.25s", "7.5s", "9.99s", "10s", "59s", "1m00s", "12m03s", "2h05m", "3d04h"]
                == [0.25, 7.5, 9.99, 10.4, 59.4, 59.6, 723, 7500, 273_600].map(SummaryText.duration))
        #expect(["0.0", "12.5", "-0.5", "100.0"] == [0.04, 12.45, -0.45, 99.96].map { SummaryText.fixed($0, 1) })
        #expect(["0s ago", "59s ago", "1m ago", "1h ago", "2d ago"]
                == [0, 59_000_000, 90_000_000, 3_600_000_000, 172_800_000_000].map(SummaryText.ago))
    }
}
