import LookoutSupport

/// The time a gate run reads and waits on: measurements are stamped with wall-clock time, and
/// the run sleeps until the next measurement is due. ``SystemGateClock`` is the real one; tests
/// pass a clock that moves only when the run sleeps.
package protocol GateClock: Sendable {
    /// Now, in milliseconds since the epoch.
    func now() -> Int64
    /// Returns at `time` (milliseconds since the epoch), or at once when that has passed or the
    /// task is cancelled.
    func sleep(until time: Int64) async
}

/// Wall-clock time for stamps, and a monotonic clock for the waits in between, so that setting
/// the system clock neither shortens nor stretches a gate's schedule.
package struct SystemGateClock: GateClock {
    private let clock = ContinuousClock()
    private let startInstant: ContinuousClock.Instant
    private let startTime: Int64

    /// A clock whose schedule starts now.
    package init() {
        startInstant = clock.now
        startTime = CivilTime.nowMicroseconds() / 1000
    }

    /// Now, in milliseconds since the epoch.
    package func now() -> Int64 {
        CivilTime.nowMicroseconds() / 1000
    }

    /// Sleeps until `time` on the monotonic clock, counted from when this clock was made.
    package func sleep(until time: Int64) async {
        try? await Task.sleep(until: startInstant + .milliseconds(time - startTime), clock: clock)
    }
}

extension GateRun {
    /// Measures the checks of `policy` at once and then every `policy.intervalMilliseconds`,
    /// until they decide or `wait` has passed, when the run is finished with what it has (an
    /// undecided check makes it inconclusive). This is `lookout gate`'s loop.
    package static func poll(policy: GatePolicy, wait: Duration, using querier: some GateQuerier, clock: some GateClock) async -> GateRun {
        let start = clock.now()
        var run = GateRun(policy: policy, start: start, deadline: start + wait.milliseconds)
        var round: Int64 = 0
        while await run.measure(at: clock.now(), using: querier) == nil {
            round += 1
            let next = start + round * policy.intervalMilliseconds
            if next > run.deadline {
                await clock.sleep(until: run.deadline)
                _ = run.finish(at: clock.now())
                break
            }
            await clock.sleep(until: next)
        }
        return run
    }
}
