/// Exponential backoff with full jitter: the n-th consecutive retry waits a uniformly random time
/// below `min(maximum, initial · 2ⁿ)` (the AWS Architecture Blog's "full jitter"), so many
/// shippers hitting one overloaded cluster spread out instead of retrying in step.
struct Backoff: Sendable, Equatable {
    /// The first ceiling.
    var initial: Duration
    /// The largest ceiling.
    var maximum: Duration

    /// The wait before retry number `attempt` (0 for the first).
    func delay(attempt: Int) -> Duration {
        // 2^30 already exceeds any sensible maximum over any positive initial delay.
        let ceiling = min(maximum, initial * (1 << min(attempt, 30)))
        let nanoseconds = Int64(ceiling / .nanoseconds(1))
        return .nanoseconds(Int64.random(in: 0...max(0, nanoseconds)))
    }
}
