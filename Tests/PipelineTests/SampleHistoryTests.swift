import MetricModel
import SeriesHistory
import Testing

@Suite struct SampleHistoryTests {
    static func gauge(_ name: String, _ samples: [([Label], Double)]) -> MetricFamily {
        MetricFamily(name: name, help: "h", type: .gauge, samples: samples.map { Sample(labels: $0.0, value: $0.1) })
    }

    static func points(_ history: SampleHistory, _ name: String, from: Int64 = 0, through: Int64 = .max) -> [[String]] {
        history.series { candidate, _ in candidate == name }.map { series in
            history.points(of: series, from: from, through: through).map { "\($0.timestamp)=\($0.value)" }
        }
    }

    @Test func roundsKeepEachSeriesAndStaleMarkersEndThem() {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(60))
        #expect(history.capacity == 5)
        let up = [Label("job", "lookout")]
        history.record([Self.gauge("up", [(up, 1)]), Self.gauge("gone", [([], 7)])], at: 15_000)
        history.record([Self.gauge("up", [(up, 0)])], at: 30_000)
        history.record([Self.gauge("up", [(up, 1)]), Self.gauge("gone", [([], 8)])], at: 45_000)
        let series = history.series { name, _ in name == "up" }
        #expect(series.map(\.labels) == [up])
        #expect(Self.points(history, "up") == [["15000=1.0", "30000=0.0", "45000=1.0"]])
        // The round without "gone" is a stale marker: left out of ranges, and it ends the instant value.
        #expect(Self.points(history, "gone") == [["15000=7.0", "45000=8.0"]])
        let gone = history.series { name, _ in name == "gone" }[0]
        #expect(history.latest(of: gone, from: 0, through: 44_999) == nil)
        #expect(history.latest(of: gone, from: 0, through: 20_000)! == (15_000, 7))
        #expect(history.latest(of: gone, from: 0, through: 50_000)! == (45_000, 8))
        // The lookback bounds the instant value from below.
        #expect(history.latest(of: gone, from: 46_000, through: 50_000) == nil)
        #expect(Self.points(history, "up", from: 30_000, through: 45_000) == [["30000=0.0", "45000=1.0"]])
    }

    @Test func theWindowSlidesAndForgetsWhatLeftIt() {
        let history = SampleHistory(step: .seconds(1), retention: .seconds(2))
        history.record([Self.gauge("a", [([], 1)]), Self.gauge("b", [([], 1)])], at: 1_000)
        for second in 2...5 { history.record([Self.gauge("a", [([], Double(second))])], at: Int64(second) * 1_000) }
        #expect(Self.points(history, "a") == [["3000=3.0", "4000=4.0", "5000=5.0"]])
        #expect(history.series { name, _ in name == "b" }.isEmpty, "b's one reading left the window")
        #expect(history.seriesCount == 1)
        // A new series takes the forgotten one's storage, and has no past.
        history.record([Self.gauge("a", [([], 6)]), Self.gauge("c", [([Label("x", "1")], 9)])], at: 6_000)
        #expect(Self.points(history, "c") == [["6000=9.0"]])
        #expect(history.seriesCount == 2)
    }

    @Test func histogramsKeepTheirSuffixesAndLabelsAreSorted() {
        var family = MetricFamily.histogram("d_seconds", help: "h", labels: [Label("z", "1"), Label("a", "2")],
                                            buckets: [(1, 3)], sum: 2.5, count: 4)
        family.samples.append(Sample(suffix: "", labels: [], value: .nan))
        let history = SampleHistory(step: .seconds(15), retention: .seconds(30))
        history.record([family], at: 1_000)
        let names = history.series { _, _ in true }.map(\.name)
        #expect(names == ["d_seconds_bucket", "d_seconds_bucket", "d_seconds_sum", "d_seconds_count", "d_seconds"])
        #expect(history.series { name, _ in name == "d_seconds_sum" }[0].labels == [Label("a", "2"), Label("z", "1")])
        // A NaN a collector reports is a value, not a marker.
        let nan = history.series { name, _ in name == "d_seconds" }[0]
        #expect(history.latest(of: nan, from: 0, through: 1_000)?.value.isNaN == true)
    }

    @Test func outOfOrderRoundsAreIgnored() {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(60))
        history.record([Self.gauge("a", [([], 1)])], at: 30_000)
        history.record([Self.gauge("a", [([], 2)])], at: 30_000)
        history.record([Self.gauge("a", [([], 3)])], at: 15_000)
        #expect(Self.points(history, "a") == [["30000=1.0"]])
    }

    @Test func tenThousandSeriesForAnHourFitInTheBudget() {
        let history = SampleHistory(step: .seconds(15), retention: .seconds(3_600))
        let families = (0..<100).map { family in
            Self.gauge("bench_metric_\(family)_total", (0..<100).map { ([Label("instance", "host-\($0)"), Label("job", "lookout")], Double($0)) })
        }
        // Each series' window is allocated when it first appears, so two rounds cost what 241 do.
        for round in 0..<2 { history.record(families, at: Int64(round) * 15_000 + 1) }
        #expect(history.seriesCount == 10_000)
        #expect(history.approximateBytes < 64 << 20, "\(history.approximateBytes) bytes")
        #expect(history.approximateBytes > 19_000_000, "241 values of 8 bytes for each of 10,000 series at least")
    }
}
