import Testing
@testable import Exporter

@Suite struct TimeTextTests {
    static let now: Int64 = 1_764_150_000_000_000  // 2025-11-26T09:40:00Z

    @Test(arguments: [
        ("now", now),
        ("@1764150000", now),
        ("@1764150000.5", now + 500_000),
        ("-1h", now - 3_600_000_000),
        ("-90s", now - 90_000_000),
        ("-2d", now - 172_800_000_000),
        ("-1.5d", now - 129_600_000_000),
        ("-25h", now - 90_000_000_000),
        ("2025-11-26", 1_764_115_200_000_000),
        ("2025-11-26 09:40", now),
        ("2025-11-26 09:40:00", now),
        ("2025-11-26T09:40:00Z", now),
        ("2025-11-26T09:40:00.25Z", now + 250_000),
        ("2025-11-26T10:40:00+01:00", now),
        ("2025-11-26T08:40:00-01:00", now),
        // RFC 3339 §5.6: T and Z may be lower case.
        ("2025-11-26t09:40:00z", now),
        ("2024-02-29", 1_709_164_800_000_000),
        ("2000-02-29", 951_782_400_000_000),
    ] as [(String, Int64)])
    func parses(text: String, microseconds: Int64) {
        #expect(TimeText.parse(text, now: Self.now) == microseconds)
    }

    @Test(arguments: ["", "yesterday", "2025-13-01", "2025-11-26 25:00", "2025-11-26T09:40:00+0100", "-1x", "@abc",
                      "2025-11-26T09:40:00.Z",
                      // Dates and offsets that cannot be.
                      "2025-02-29", "1900-02-29", "2025-04-31", "2025-11-31T00:00:00Z", "2025-11-00",
                      "2025-11-26T09:40:00+24:00", "2025-11-26T09:40:00+01:60", "2025-11-26T09:40:00-99:00"])
    func rejects(text: String) {
        #expect(TimeText.parse(text, now: Self.now) == nil)
    }

    @Test func prioritiesByNameOrNumber() {
        #expect(JournalPriority.parse("warning") == 4)
        #expect(JournalPriority.parse("warn") == 4)
        #expect(JournalPriority.parse("ERR") == 3)
        #expect(JournalPriority.parse("7") == 7)
        #expect(JournalPriority.parse("8") == nil)
        #expect(JournalPriority.parse("loud") == nil)
    }
}
