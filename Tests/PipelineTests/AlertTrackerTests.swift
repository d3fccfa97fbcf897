@testable import MetricModel
@testable import Rules
import Testing

@Suite struct AlertTrackerTests {
    static let minute: Int64 = 60_000
    static let down = [(labels: [Label("__name__", "up"), Label("instance", "a")], value: 0.0)]

    /// The samples as text, one per line: `NAME{labels} value`, ordered by the alert's labels
    /// (the tracker gives them in no particular order), ALERTS before ALERTS_FOR_STATE.
    static func text(_ samples: [(name: String, labels: [Label], value: Double)]) -> String {
        samples.sorted { a, b in
            let (x, y) = (a.labels.filter { $0.name != "alertstate" }, b.labels.filter { $0.name != "alertstate" })
            return x != y ? x.lexicographicallyPrecedes(y) : a.name < b.name
        }.map { sample in
            sample.name + "{" + sample.labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "} " + String(sample.value)
        }.joined(separator: "\n")
    }

    @Test func pendingThenFiringAfterForThenResolvedAndForgotten() throws {
        var tracker = AlertTracker(name: "InstanceDown", labels: ["severity": "page"], forMilliseconds: 5 * Self.minute)
        #expect(Self.text(try tracker.evaluate(Self.down, at: 60 * Self.minute)) == """
            ALERTS{alertname="InstanceDown",alertstate="pending",instance="a",severity="page"} 1.0
            ALERTS_FOR_STATE{alertname="InstanceDown",instance="a",severity="page"} 3600.0
            """)
        _ = try tracker.evaluate(Self.down, at: 64 * Self.minute)
        #expect(tracker.alerts.values.first?.state == .pending)
        #expect(Self.text(try tracker.evaluate(Self.down, at: 65 * Self.minute)).hasPrefix(
            #"ALERTS{alertname="InstanceDown",alertstate="firing",instance="a",severity="page"} 1.0"#))
        // The series is gone: resolved at once, no samples, kept 15 minutes for notifiers.
        #expect(try tracker.evaluate([], at: 66 * Self.minute).isEmpty)
        #expect(tracker.alerts.values.first?.state == .inactive)
        #expect(tracker.alerts.values.first?.resolvedAt == 66 * Self.minute)
        _ = try tracker.evaluate([], at: 81 * Self.minute)
        #expect(tracker.alerts.count == 1, "15 minutes after resolution it is still kept")
        _ = try tracker.evaluate([], at: 81 * Self.minute + 1)
        #expect(tracker.alerts.isEmpty)
    }

    @Test func aPendingAlertWhoseSeriesGoesIsDropped() throws {
        var tracker = AlertTracker(name: "A", forMilliseconds: 10 * Self.minute)
        _ = try tracker.evaluate(Self.down, at: 0)
        #expect(try tracker.evaluate([], at: Self.minute).isEmpty)
        #expect(tracker.alerts.isEmpty)
    }

    @Test func keepFiringForHoldsAFiringAlertAfterItsSeriesIsGone() throws {
        var tracker = AlertTracker(name: "A", keepFiringForMilliseconds: 10 * Self.minute)
        _ = try tracker.evaluate(Self.down, at: 0)
        #expect(tracker.alerts.values.first?.state == .firing, "for 0 fires at the first evaluation")
        #expect(Self.text(try tracker.evaluate([], at: Self.minute)).hasPrefix(#"ALERTS{alertname="A",alertstate="firing",instance="a"} 1.0"#))
        _ = try tracker.evaluate([], at: 10 * Self.minute)
        #expect(tracker.alerts.values.first?.state == .firing, "9 minutes after the first evaluation without it")
        // Back before the time is up: the count starts again.
        _ = try tracker.evaluate(Self.down, at: 11 * Self.minute)
        _ = try tracker.evaluate([], at: 12 * Self.minute)
        _ = try tracker.evaluate([], at: 21 * Self.minute)
        #expect(tracker.alerts.values.first?.state == .firing)
        #expect(try tracker.evaluate([], at: 22 * Self.minute).isEmpty)
        #expect(tracker.alerts.values.first?.state == .inactive)
    }

    @Test func aSeriesBackAfterResolutionStartsANewAlert() throws {
        var tracker = AlertTracker(name: "A", forMilliseconds: Self.minute)
        _ = try tracker.evaluate(Self.down, at: 0)
        _ = try tracker.evaluate(Self.down, at: Self.minute)
        _ = try tracker.evaluate([], at: 2 * Self.minute)
        _ = try tracker.evaluate(Self.down, at: 3 * Self.minute)
        let alert = try #require(tracker.alerts.values.first)
        #expect(alert.state == .pending && alert.activeAt == 3 * Self.minute && alert.firedAt == nil)
    }

    @Test func ruleLabelsReplaceResultLabelsAndCollisionsAreAnError() throws {
        var tracker = AlertTracker(name: "A", labels: ["instance": "all"])
        let two = [(labels: [Label("instance", "a")], value: 1.0), (labels: [Label("instance", "b")], value: 2.0)]
        #expect(throws: AlertTrackerError(rule: "A", message: "vector contains metrics with the same labelset after applying alert labels")) {
            try tracker.evaluate(two, at: 0)
        }
        var plain = AlertTracker(name: "A")
        #expect(Self.text(try plain.evaluate(two, at: 0)) == """
            ALERTS{alertname="A",alertstate="firing",instance="a"} 1.0
            ALERTS_FOR_STATE{alertname="A",instance="a"} 0.0
            ALERTS{alertname="A",alertstate="firing",instance="b"} 1.0
            ALERTS_FOR_STATE{alertname="A",instance="b"} 0.0
            """)
    }
}
