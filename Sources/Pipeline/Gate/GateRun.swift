import LookoutSupport
import PipelineEvents
import PromQL

/// Where the gate's measurements come from: Lookout's own query API or a Prometheus server's
/// (`GET /api/v1/query`), or, in tests, recorded series. Throws ``GateQueryError`` when the
/// answer cannot be had (unreachable, refused query).
package protocol GateQuerier {
    /// The value of `expression` at `time` (milliseconds since the epoch).
    func query(_ expression: String, at time: Int64) async throws(GateQueryError) -> PromQLResult

    /// The names of the alerts the source's rules define (`GET /api/v1/rules?type=alert`).
    func definedAlerts() async throws(GateQueryError) -> Set<String>
}

/// Why a measurement could not be taken: one line.
package struct GateQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line.
    package var message: String

    /// An error saying `message`.
    package init(_ message: String) { self.message = message }

    /// The problem as one line.
    package var description: String { message }
}

/// One measurement of one check.
package struct GateMeasurement: Sendable, Equatable {
    /// What the measurement found.
    package typealias Result = GateMeasurementResult

    /// When, milliseconds since the epoch.
    package var time: Int64
    /// What it found.
    package var result: Result
    /// The samples the query returned (the failing ones first when it failed), at most 10.
    package var samples: [PromQLSample]
    /// Why it could not be taken, for an error.
    package var error: String?
}

/// Where one check stands.
package struct GateCheckState: Sendable, Equatable {
    /// The check's standing.
    package enum Status: String, Sendable, Equatable {
        /// Still being measured.
        case measuring
        /// Passed for its window; stays so unless a later failure exceeds a limit.
        case passed
        /// Failed beyond a limit.
        case failed
        /// Inconclusive (its no-data policy, or the deadline).
        case inconclusive
        /// Too many errors in a row.
        case errored
    }

    /// The check.
    package let check: GateCheck
    /// Its measurements, oldest first.
    package internal(set) var measurements: [GateMeasurement] = []
    /// Failed measurements so far (no data counted as failure under `no_data: fail`).
    package internal(set) var failures = 0
    /// Failed measurements in a row, up to the latest.
    package internal(set) var consecutiveFailures = 0
    /// Errors in a row, up to the latest.
    package internal(set) var consecutiveErrors = 0
    /// Measurements that passed (no data counted as a pass under `no_data: pass`).
    package internal(set) var passes = 0
    /// Where it stands.
    package internal(set) var status: Status = .measuring
    /// Why it stands there, one line.
    package internal(set) var reason = "not measured yet"

    /// How many measurements had each result.
    package var counts: [GateMeasurement.Result: Int] {
        var counts: [GateMeasurement.Result: Int] = [:]
        for measurement in measurements { counts[measurement.result, default: 0] += 1 }
        return counts
    }

    /// The verdict this check alone asks for, or nil while it is still measuring.
    var verdict: GateVerdict? {
        switch status {
        case .measuring: nil
        case .passed: .promote
        case .failed: .rollback
        case .inconclusive: .inconclusive
        case .errored: .error
        }
    }
}

/// One run of the gate: measures every check of a policy each interval from `start` until the
/// checks decide or `deadline` comes. Driven by whoever owns the clock: ``poll(policy:wait:using:clock:)``
/// (`lookout gate`) with a ``GateClock``, or tests measuring at chosen times.
package struct GateRun: Sendable {
    /// The policy.
    package let policy: GatePolicy
    /// When the gate started, milliseconds since the epoch.
    package let start: Int64
    /// When it must have answered.
    package let deadline: Int64
    /// The checks' states, in policy order.
    package private(set) var checks: [GateCheckState]
    /// The verdict, once there is one.
    package private(set) var verdict: GateVerdict?
    /// When the verdict was reached.
    package private(set) var decidedAt: Int64?

    /// A run of `policy` from `start` that must answer by `deadline`.
    package init(policy: GatePolicy, start: Int64, deadline: Int64) {
        self.policy = policy
        self.start = start
        self.deadline = deadline
        checks = policy.checks.map { GateCheckState(check: $0) }
    }

    /// Measures every check at `time` through `querier`, then decides if it can: roll back as
    /// soon as a deciding check fails, otherwise answer once every deciding check has passed or
    /// given up; at or past the deadline, checks still measuring become inconclusive. Returns
    /// the verdict once there is one.
    @discardableResult
    package mutating func measure(at time: Int64, using querier: some GateQuerier) async -> GateVerdict? {
        guard verdict == nil else { return verdict }
        for index in checks.indices {
            let measurement = await Self.take(checks[index].check, at: time, using: querier)
            record(measurement, in: &checks[index], at: time)
        }
        decide(at: time)
        return verdict
    }

    /// Ends the run at `time` whatever stands: checks still measuring are inconclusive, and the
    /// verdict is the worst of the deciding checks'.
    package mutating func finish(at time: Int64) -> GateVerdict {
        if let verdict { return verdict }
        for index in checks.indices where checks[index].status == .measuring {
            checks[index].status = .inconclusive
            checks[index].reason = "deadline reached before it could pass (" + checks[index].reason + ")"
        }
        let decided = checks.filter { !$0.check.dryRun }.compactMap(\.verdict).min() ?? .promote
        verdict = decided
        decidedAt = time
        return decided
    }

    /// One measurement of `check`.
    static func take(_ check: GateCheck, at time: Int64, using querier: some GateQuerier) async -> GateMeasurement {
        let samples: [PromQLSample]
        do {
            switch try await querier.query(check.expression, at: time) {
            case .vector(let vector): samples = vector
            case .scalar(let value): samples = value.isNaN ? [] : [PromQLSample(labels: [], value: value)]
            }
        } catch {
            return GateMeasurement(time: time, result: .error, samples: [], error: error.message)
        }
        if samples.isEmpty { return GateMeasurement(time: time, result: check.failure == .present ? .pass : .noData, samples: []) }
        switch check.failure {
        case .present:
            return GateMeasurement(time: time, result: .fail, samples: Array(samples.prefix(10)))
        case .comparison(let op, let threshold):
            let failing = samples.filter { PromQLEvaluation.apply(op, $0.value, threshold).keep }
            let shown = failing.isEmpty ? samples : failing + samples.filter { sample in !failing.contains(sample) }
            return GateMeasurement(time: time, result: failing.isEmpty ? .pass : .fail, samples: Array(shown.prefix(10)))
        }
    }

    private func record(_ measurement: GateMeasurement, in state: inout GateCheckState, at time: Int64) {
        state.measurements.append(measurement)
        // A decided check keeps its answer, except that a passed one can still fail.
        guard state.status == .measuring || state.status == .passed else { return }
        var result = measurement.result
        if result == .noData {
            switch state.check.noData {
            case .fail: result = .fail
            case .pass: result = .pass
            case .inconclusive:
                state.status = .inconclusive
                state.reason = "no data, and its no-data policy is inconclusive"
                return
            case .wait:
                state.reason = "no data yet; waiting for some"
                return
            }
        }
        switch result {
        case .error:
            state.consecutiveErrors += 1
            state.reason = "could not measure: " + (measurement.error ?? "error")
            if state.consecutiveErrors > state.check.consecutiveErrorLimit {
                state.status = .errored
                state.reason = "\(state.consecutiveErrors) errors in a row (limit \(state.check.consecutiveErrorLimit)): "
                    + (measurement.error ?? "error")
            }
            return
        case .fail:
            state.consecutiveErrors = 0
            state.failures += 1
            state.consecutiveFailures += 1
            let what = Self.describe(measurement, failure: state.check.failure)
            if state.failures > state.check.failureLimit {
                state.status = .failed
                state.reason = "\(state.failures) failed measurement\(state.failures == 1 ? "" : "s") (limit \(state.check.failureLimit)): \(what)"
            } else if let limit = state.check.consecutiveFailureLimit, state.consecutiveFailures > limit {
                state.status = .failed
                state.reason = "\(state.consecutiveFailures) failed measurements in a row (limit \(limit)): \(what)"
            } else {
                state.status = .measuring
                state.reason = "failed \(state.failures) of \(state.check.failureLimit + 1) allowed: \(what)"
            }
        default:
            state.consecutiveErrors = 0
            state.consecutiveFailures = 0
            state.passes += 1
            let elapsed = time - start
            if elapsed >= state.check.windowMilliseconds {
                state.status = .passed
                state.reason = "passed " + (state.failures == 0 ? "every measurement" : "with \(state.failures) failure\(state.failures == 1 ? "" : "s") within its limit")
                    + (state.check.windowMilliseconds > 0 ? " for its \(goDuration(state.check.windowMilliseconds)) window" : "")
            } else {
                state.status = .measuring
                state.reason = "passing; \(goDuration(state.check.windowMilliseconds - elapsed)) of its window to go"
            }
        }
    }

    /// What a failed measurement found: the failing series and values.
    static func describe(_ measurement: GateMeasurement, failure: GateCheck.Failure) -> String {
        guard !measurement.samples.isEmpty else { return "no data" }
        let shown = measurement.samples.prefix(3).map { sample in
            let name = sample.labels.first { $0.name == "__name__" }?.value ?? ""
            let labels = sample.labels.filter { $0.name != "__name__" }
            return name + labels.promQLDescription + " = " + GoFloat.formatG(sample.value)
        }
        let more = measurement.samples.count > 3 ? " and \(measurement.samples.count - 3) more" : ""
        return shown.joined(separator: ", ") + more + (failure == .present ? "" : " (fails when \(failure.description))")
    }

    private mutating func decide(at time: Int64) {
        let deciding = checks.filter { !$0.check.dryRun }
        let verdicts = deciding.compactMap(\.verdict)
        if verdicts.contains(.rollback) || verdicts.count == deciding.count {
            verdict = verdicts.min() ?? .promote
            decidedAt = time
        } else if time >= deadline {
            _ = finish(at: time)
        }
    }
}
