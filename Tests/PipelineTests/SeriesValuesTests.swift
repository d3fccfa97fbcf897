@testable import Rules
import Testing

@Suite struct SeriesValuesTests {
    static func text(_ values: [SeriesValue]) -> String {
        values.map {
            switch $0 {
            case .sample(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
            case .missing: "_"
            case .stale: "stale"
            }
        }.joined(separator: " ")
    }

    @Test(arguments: [
        ("-2+4x3", "-2 2 6 10"),
        ("1 _x3 stale", "1 _ _ _ stale"),
        ("1-2x4", "1 -1 -3 -5 -7"),
        ("3x2", "3 3 3"),
        ("0+10x2 _ 5", "0 10 20 _ 5"),
        ("1e3+1e3x1", "1000 2000"),
        ("1e-3-1e-3x1", "0.001 0"),
        ("0x2 -1x1", "0 0 0 -1 -1"),
        ("100+-10x2", "100 90 80"),
        ("1--1x1", "1 2"),
        ("  7   8 ", "7 8"),
        ("_x0", ""),
        ("5x0", "5"),
    ])
    func theDocumentedExpansions(notation: String, expanded: String) throws {
        #expect(Self.text(try SeriesValue.expand(notation)) == expanded)
    }

    @Test func infinityNaNAndRepeatedAddition() throws {
        let values = try SeriesValue.expand("Inf -Inf NaN 0.1+0.1x2")
        #expect(values[0] == .sample(.infinity) && values[1] == .sample(-.infinity))
        if case .sample(let value) = values[2] { #expect(value.isNaN) } else { Issue.record("NaN is a sample") }
        // Each value is the previous plus the step, as promtool computes them: 0.1+0.1+0.1.
        #expect(values[5] == .sample(0.1 + 0.1 + 0.1))
    }

    @Test(arguments: [
        ("1 abc", SeriesValuesError(column: 3, item: "abc", reason: "not a number, _ or stale")),
        ("1+2xy", SeriesValuesError(column: 1, item: "1+2xy", reason: "the repeat count after x must be a whole number")),
        ("1+2x-1", SeriesValuesError(column: 1, item: "1+2x-1", reason: "the repeat count after x must be a whole number")),
        ("a+1x2", SeriesValuesError(column: 1, item: "a+1x2", reason: "'a' is not a number")),
        ("1+bx2", SeriesValuesError(column: 1, item: "1+bx2", reason: "'+b' is not a number")),
        ("2 stalex2", SeriesValuesError(column: 3, item: "stalex2", reason: "'stale' is not a number")),
        // One sign only, and nothing a float64 cannot hold: promtool's parser reads numbers
        // with strconv.ParseFloat, which refuses both.
        ("++1", SeriesValuesError(column: 1, item: "++1", reason: "not a number, _ or stale")),
        ("1 -+2", SeriesValuesError(column: 3, item: "-+2", reason: "not a number, _ or stale")),
        ("1e400", SeriesValuesError(column: 1, item: "1e400", reason: "not a number, _ or stale")),
        ("1_000", SeriesValuesError(column: 1, item: "1_000", reason: "not a number, _ or stale")),
    ])
    func malformedItemsAreNamedWithTheirColumn(notation: String, error: SeriesValuesError) {
        #expect(throws: error) { try SeriesValue.expand(notation) }
    }
}
