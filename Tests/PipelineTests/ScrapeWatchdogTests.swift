import Dispatch
import Synchronization
import Testing
@testable import MetricModel

@Suite struct ScrapeWatchdogTests {
    /// Waits until `done` holds, checking every 10 ms for at most `limit`; whether it held.
    private func eventually(within limit: Duration = .seconds(10), _ done: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if done() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return done()
    }

    @Test func timersFireInTheOrderTheyFallDue() async {
        let fired = Mutex<[Int]>([])
        let start = DispatchTime.now()
        for offset in [30, 10, 20] {
            _ = ScrapeWatchdog.shared.arm(at: start + .milliseconds(offset)) {
                fired.withLock { $0.append(offset) }
                return nil
            }
        }
        let allFired = await eventually { fired.withLock { $0.count } == 3 }
        #expect(allFired)
        let order = fired.withLock { $0 }
        #expect(order == [10, 20, 30])
    }

    @Test func anEarlierTimerWakesTheWatchdogSleepingUntilALaterOne() async {
        let late = ScrapeWatchdog.shared.arm(at: .now() + .seconds(600)) { nil }
        defer { ScrapeWatchdog.shared.cancel(late) }
        // Give the watchdog time to go to sleep until the late one.
        try? await Task.sleep(for: .milliseconds(50))
        let fired = Atomic<Bool>(false)
        _ = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(10)) {
            fired.store(true, ordering: .releasing)
            return nil
        }
        let firedInTime = await eventually { fired.load(ordering: .acquiring) }
        #expect(firedInTime)
    }

    @Test func aCancelledTimerNeverRuns() async {
        let cancelledRan = Atomic<Bool>(false)
        let laterRan = Atomic<Bool>(false)
        let cancelled = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(20)) {
            cancelledRan.store(true, ordering: .releasing)
            return nil
        }
        ScrapeWatchdog.shared.cancel(cancelled)
        _ = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(60)) {
            laterRan.store(true, ordering: .releasing)
            return nil
        }
        let laterRanInTime = await eventually { laterRan.load(ordering: .acquiring) }
        #expect(laterRanInTime)
        let cancelledDidRun = cancelledRan.load(ordering: .acquiring)
        #expect(!cancelledDidRun)
    }

    @Test func aTimerArmedByAnotherTimerRuns() async {
        let fired = Atomic<Bool>(false)
        _ = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(5)) {
            _ = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(5)) {
                fired.store(true, ordering: .releasing)
                return nil
            }
            return nil
        }
        let firedInTime = await eventually { fired.load(ordering: .acquiring) }
        #expect(firedInTime)
    }

    @Test func anActionThatReturnsATimeRunsAgainThenUntilCancelled() async {
        let runs = Mutex(0)
        let timer = ScrapeWatchdog.shared.arm(at: .now() + .milliseconds(5)) {
            runs.withLock { $0 += 1 }
            return .now() + .milliseconds(5)
        }
        let ranThrice = await eventually { runs.withLock { $0 } >= 3 }
        #expect(ranThrice)
        ScrapeWatchdog.shared.cancel(timer)
        // A run under way when the cancel came may still arm it once more; after that it stays quiet.
        try? await Task.sleep(for: .milliseconds(50))
        let settled = runs.withLock { $0 }
        try? await Task.sleep(for: .milliseconds(100))
        let later = runs.withLock { $0 }
        #expect(later == settled)
    }
}
