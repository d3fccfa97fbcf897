import Dispatch
import Logging
import Synchronization
import Testing
@testable import MetricModel

/// A collector whose behaviour each test scripts; with a `hang` semaphore it blocks like a hung
/// read until the test signals it.
private struct ScriptedCollector: MetricCollector {
    let name: String
    var families: [MetricFamily] = []
    var error: CollectorError? = nil
    var hang: DispatchSemaphore? = nil

    func collect() throws -> [MetricFamily] {
        hang?.wait()
        if let error { throw error }
        return families
    }
}

/// Counts `collect()` calls started and finished.
private final class CallCounter: Sendable {
    private let counts = Mutex<(started: Int, finished: Int)>((0, 0))
    var count: Int { counts.withLock { $0.started } }
    var finished: Int { counts.withLock { $0.finished } }
    func start() { counts.withLock { $0.started += 1 } }
    func finish() { counts.withLock { $0.finished += 1 } }
}

/// A collector that blocks on `hang` (once signalled it lets every later call through).
private struct CountingCollector: MetricCollector {
    let name: String
    let calls: CallCounter
    let hang: DispatchSemaphore

    func collect() -> [MetricFamily] {
        calls.start()
        hang.wait()
        hang.signal()
        calls.finish()
        return []
    }
}

@Suite struct CollectorRegistryTests {
    let logger = Logger(label: "test")

    private func successes(_ families: [MetricFamily]) -> [String: Double] {
        let family = families.first { $0.name == "lookout_scrape_collector_success" }!
        return Dictionary(uniqueKeysWithValues: family.samples.map { ($0.labels[0].value, $0.value) })
    }

    @Test func mergesFamiliesSortsThemAndReportsSuccess() async {
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "b", families: [.single("zeta", help: "z", value: 1)]),
            ScriptedCollector(name: "a", families: [.single("alpha", help: "a", value: 2)]),
        ], logger: logger)
        let families = await registry.scrape(timeout: .seconds(5))
        #expect(families.map(\.name) == [
            "alpha", "lookout_scrape_collector_duration_seconds", "lookout_scrape_collector_success", "zeta",
        ])
        #expect(successes(families) == ["a": 1, "b": 1])
        #expect(families.first { $0.name == "lookout_scrape_collector_success" }!.samples.map { $0.labels[0].value } == ["a", "b"])
    }

    @Test func failingCollectorDoesNotFailTheScrape() async {
        let errors = ComponentErrors()
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "broken", error: .malformed(path: "/proc/stat", reason: "line 3: too few fields")),
            ScriptedCollector(name: "absent", error: .noData("no /proc/pressure")),
            ScriptedCollector(name: "good", families: [.single("good_value", help: "g", value: 7)]),
        ], errors: errors, logger: logger)
        let families = await registry.scrape(timeout: .seconds(5))
        #expect(successes(families) == ["absent": 0, "broken": 0, "good": 1])
        #expect(families.contains { $0.name == "good_value" })
        #expect(errors.count(component: "collector.broken", errorType: "parse_error") == 1)
        #expect(errors.count(component: "collector.absent", errorType: "no_data") == 0)
        // Having no data is not failing.
        #expect(registry.failingCollectors == ["broken"])
    }

    @Test func slowCollectorTimesOutAndTheRestIsServed() async {
        let errors = ComponentErrors()
        let hang = DispatchSemaphore(value: 0)
        defer { hang.signal() }
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "slow", families: [.single("late", help: "l", value: 1)], hang: hang),
            ScriptedCollector(name: "fast", families: [.single("early", help: "e", value: 1)]),
        ], errors: errors, logger: logger)
        // The scrape returns although "slow" is still blocked: the deadline, not the collector, ended it.
        let families = await registry.scrape(timeout: .seconds(1))
        #expect(successes(families) == ["fast": 1, "slow": 0])
        #expect(!families.contains { $0.name == "late" })
        #expect(errors.count(component: "collector.slow", errorType: "timeout") == 1)
    }

    @Test func hungCollectorIsNotStartedAgain() async {
        let hang = DispatchSemaphore(value: 0)
        let calls = CallCounter()
        let registry = CollectorRegistry(collectors: [
            CountingCollector(name: "hung", calls: calls, hang: hang),
        ], logger: logger)
        let first = await registry.scrape(timeout: .milliseconds(100))
        #expect(successes(first) == ["hung": 0])
        let second = await registry.scrape(timeout: .milliseconds(100))
        #expect(successes(second) == ["hung": 0])
        #expect(calls.count == 1, "a collector stuck past a deadline must not pin a second thread")
        hang.signal()
        while calls.finished == 0 { try? await Task.sleep(for: .milliseconds(10)) }
        let third = await registry.scrape(timeout: .seconds(5))
        #expect(successes(third) == ["hung": 1])
        #expect(calls.count == 2)
    }

    @Test func constantFamiliesComeWithEveryScrape() async {
        let info = MetricFamily.single("lookout_build_info", help: "b", value: 1)
        let registry = CollectorRegistry(collectors: [], constantFamilies: [info], logger: logger)
        #expect(await registry.scrape(timeout: .seconds(1)).contains(info))
    }

    @Test func conflictingTypesKeepTheFirstFamily() async {
        let errors = ComponentErrors()
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "a", families: [.single("shared", help: "s", type: .gauge, value: 1)]),
            ScriptedCollector(name: "b", families: [.single("shared", help: "s", type: .counter, value: 2)]),
        ], errors: errors, logger: logger)
        let families = await registry.scrape(timeout: .seconds(5))
        #expect(families.first { $0.name == "shared" }?.samples.map(\.value) == [1])
        #expect(errors.count(component: "collector.b", errorType: "type_conflict") == 1)
    }

    @Test func duplicateSeriesFromASecondCollectorAreDropped() async {
        let errors = ComponentErrors()
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "loadavg", families: [.single("node_load1", help: "1m load average.", value: 0.5)]),
            ScriptedCollector(name: "textfile", families: [
                MetricFamily(name: "node_load1", help: "Other help.", type: .gauge, samples: [
                    Sample(value: 9), Sample(labels: [Label("source", "file")], value: 2),
                ]),
            ]),
        ], errors: errors, logger: logger)
        let families = await registry.scrape(timeout: .seconds(5))
        let load = families.first { $0.name == "node_load1" }
        #expect(load == MetricFamily(name: "node_load1", help: "1m load average.", type: .gauge, samples: [
            Sample(value: 0.5), Sample(labels: [Label("source", "file")], value: 2),
        ]))
        #expect(errors.count(component: "collector.textfile", errorType: "duplicate_series") == 1)
    }

    @Test func selectionRunsOnlyNamedCollectors() async {
        let registry = CollectorRegistry(collectors: [
            ScriptedCollector(name: "a", families: [.single("from_a", help: "a", value: 1)]),
            ScriptedCollector(name: "b", families: [.single("from_b", help: "b", value: 1)]),
        ], logger: logger)
        let families = await registry.scrape(timeout: .seconds(5), selection: ["b"])
        #expect(families.contains { $0.name == "from_b" })
        #expect(!families.contains { $0.name == "from_a" })
        #expect(successes(families) == ["b": 1])
    }
}

@Suite struct ByteOrderTests {
    @Test(arguments: [
        ("a", "b", true), ("b", "a", false), ("a", "a", false), ("a", "ab", true), ("ab", "a", false),
        ("node_cpu", "node_cpu_seconds_total", true), ("Z", "a", true), ("node_memory_Z", "node_memory_a", true),
        ("", "a", true), ("a", "", false), ("é", "z", false),
    ])
    func matchesGoStringOrder(left: String, right: String, expected: Bool) {
        #expect(precedesInByteOrder(left, right) == expected)
    }
}
