import Foundation
import LookoutSupport
import PromQL

/// What `lookout gate` measures before it says promote, roll back, or not yet: checks, each a
/// firing alert or a PromQL expression with what counts as failure, its no-data policy and its
/// failure limits. Read from YAML by ``GatePolicyFile``; ``GateRun`` applies it.
///
/// The vocabulary follows Argo Rollouts' analysis (https://argo-rollouts.readthedocs.io, "Analysis
/// & Progressive Delivery") and Flagger's canary checks (https://docs.flagger.app): cumulative
/// `failure_limit`, `consecutive_failure_limit`, dry-run
/// checks that are measured and reported but never decide, and no data never meaning promote.
package struct GatePolicy: Sendable, Equatable {
    /// How often every check is measured, milliseconds.
    package var intervalMilliseconds: Int64
    /// The checks, in report order.
    package var checks: [GateCheck]

    /// A policy of `checks` measured every `intervalMilliseconds`.
    package init(intervalMilliseconds: Int64 = 30_000, checks: [GateCheck]) {
        self.intervalMilliseconds = intervalMilliseconds
        self.checks = checks
    }

    /// The policy without a file for `pipeline`, measured every 30 s: roll back as soon as a
    /// critical or warning alert of that pipeline or of the host (one without a `pipeline`
    /// label) fires, never for another pipeline's; promote once none has fired for 5 minutes
    /// (alerts with a `for` need that long to fire after a bad deploy) while the source reports
    /// Lookout's metrics at all (no data never means promote: without them the gate waits, then
    /// is inconclusive).
    package static func standard(pipeline: String) -> GatePolicy {
        let scope = quotedPromQLString("|" + RE2Regex.quotedMeta(pipeline))
        return GatePolicy(checks: [
            GateCheck(name: "no_firing_alerts",
                      query: .expression(#"ALERTS{alertstate="firing",severity=~"critical|warning",pipeline=~"# + scope + "}"),
                      failure: .present, windowMilliseconds: 5 * 60_000),
            GateCheck(name: "lookout_reporting", query: .expression("count(lookout_build_info)"), failure: .comparison(.less, 1)),
        ])
    }

    /// The `alert:` checks whose alert is not among `defined` (the alerts the source's rules
    /// define), as (check, alert) pairs: such a check could never fail, so it is an error.
    package func undefinedAlerts(defined: Set<String>) -> [(check: String, alert: String)] {
        checks.compactMap { check in
            guard case .alert(let name) = check.query, !defined.contains(name) else { return nil }
            return (check.name, name)
        }
    }
}

/// One check of a gate policy.
package struct GateCheck: Sendable, Equatable {
    /// What is measured.
    package enum Query: Sendable, Equatable {
        /// A rule's alert: failure while it fires (`ALERTS{alertname="X",alertstate="firing"}`).
        case alert(String)
        /// A PromQL expression.
        case expression(String)
    }

    /// What counts as a failed measurement.
    package enum Failure: Sendable, Equatable {
        /// Any series in the result fails the measurement; an empty result passes it.
        case present
        /// A sample whose value compares so with the threshold fails it (`> 0.05`); an empty
        /// result is no data.
        case comparison(PromQLBinaryOperator, Double)

        /// `> 0.05`, or `present`.
        package var description: String {
            switch self {
            case .present: "present"
            case .comparison(let op, let threshold): "\(op.rawValue) \(GoFloat.formatG(threshold))"
            }
        }
    }

    /// What a measurement without data means.
    package enum NoData: String, Sendable, Equatable, CaseIterable {
        /// A failure, counted against the limits.
        case fail
        /// A pass.
        case pass
        /// The check is inconclusive at once.
        case inconclusive
        /// Not counted; measure again (inconclusive if the deadline comes first).
        case wait
    }

    /// The check's name: `[a-zA-Z_][a-zA-Z0-9_]*`, as it appears in labels and metrics.
    package var name: String
    /// What is measured.
    package var query: Query
    /// What counts as failure.
    package var failure: Failure
    /// What no data means; by default, wait for data.
    package var noData: NoData
    /// Failed measurements tolerated in all; one more rolls back.
    package var failureLimit: Int
    /// Failed measurements in a row tolerated; one more rolls back. nil: no such limit.
    var consecutiveFailureLimit: Int?
    /// Errors in a row (unreachable, query refused) tolerated before the gate gives up.
    var consecutiveErrorLimit: Int
    /// How long, from the gate's start, the check must be measured before it can pass, ms.
    var windowMilliseconds: Int64
    /// Measured and reported, never part of the verdict.
    var dryRun: Bool

    /// A check; the defaults are no failure tolerated, wait on no data, four errors in a row,
    /// no window.
    package init(name: String, query: Query, failure: Failure, noData: NoData = .wait, failureLimit: Int = 0,
                consecutiveFailureLimit: Int? = nil, consecutiveErrorLimit: Int = 4, windowMilliseconds: Int64 = 0, dryRun: Bool = false) {
        self.name = name
        self.query = query
        self.failure = failure
        self.noData = noData
        self.failureLimit = failureLimit
        self.consecutiveFailureLimit = consecutiveFailureLimit
        self.consecutiveErrorLimit = consecutiveErrorLimit
        self.windowMilliseconds = windowMilliseconds
        self.dryRun = dryRun
    }

    /// The PromQL the check sends.
    package var expression: String {
        switch query {
        case .alert(let name): "ALERTS{alertname=\(quotedPromQLString(name)),alertstate=\"firing\"}"
        case .expression(let text): text
        }
    }

    /// Reads `> 0.05`, `>= 1`, `< 0.9`, `<= 2`, `== 0`, `!= 1` or `present`.
    package static func failure(parsing text: String) -> Failure? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "present" { return .present }
        for op in [PromQLBinaryOperator.greaterOrEqual, .lessOrEqual, .equal, .notEqual, .greater, .less] where trimmed.hasPrefix(op.rawValue) {
            let number = trimmed.dropFirst(op.rawValue.count).trimmingCharacters(in: .whitespaces)
            guard let threshold = GoFloat.parse(number), !threshold.isNaN else { return nil }
            return .comparison(op, threshold)
        }
        return nil
    }
}
