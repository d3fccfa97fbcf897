import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Holds `lookout serve` to `--shutdown.grace-period` as a whole. The services stop one after
/// another, each flushing within its own grace; with journal and event shipping both backlogged
/// behind an unanswering Elasticsearch, or a long query running, that added up to more than the
/// period. This service is the first told of the shutdown (the group stops services in reverse
/// order, and it is last); when the period has passed and the process still runs, it logs and
/// exits. Nothing acknowledged is at risk: the journal cursor and the event store advance only
/// on Elasticsearch's acknowledgement, so what was not shipped is shipped after the restart.
struct ShutdownDeadline: Service {
    /// `--shutdown.grace-period`.
    let gracePeriod: Duration
    /// Where the forced exit is reported.
    let logger: Logger

    func run() async throws {
        // Returns when shutdown begins; throws when the group is cancelled instead, which ends
        // the process just the same.
        try? await gracefulShutdown()
        let nanoseconds = gracePeriod.components.seconds * 1_000_000_000 + gracePeriod.components.attoseconds / 1_000_000_000
        let logger = logger
        let gracePeriod = gracePeriod
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
            logger.warning(
                "the shutdown grace period passed with work unfinished; exiting now (what was not acknowledged ships after the restart)",
                metadata: ["grace_period": "\(gracePeriod)"])
            fflush(nil)
            _exit(0)
        }
    }
}
