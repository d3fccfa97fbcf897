import YAMLFiles
import MetricModel
import PromQL
import Rules
import Yams

/// Reads a gate policy (YAML) into a ``GatePolicy``, each mistake one line naming the file, the
/// line and the check:
///
/// ```yaml
/// interval: 30s                 # how often every check is measured (default 30s)
/// checks:
///   - name: vm_down             # [a-zA-Z_][a-zA-Z0-9_]*
///     alert: MicroVMDown        # fails while this alert fires
///   - name: error_rate
///     expr: sum(rate(app_errors_total[5m])) / sum(rate(app_requests_total[5m]))
///     failure: "> 0.05"         # >, >=, <, <=, ==, != and a number; or "present"
///     no_data: wait             # fail, pass, inconclusive or wait (default wait)
///     failure_limit: 1          # failed measurements tolerated in all (default 0)
///     consecutive_failure_limit: 1
///     consecutive_error_limit: 4
///     window: 5m                # must be measured this long before it passes (default 0)
///     dry_run: false
/// ```
package enum GatePolicyFile {
    /// The policy at `path`.
    package static func load(path: String) throws(YAMLFileError) -> GatePolicy {
        try YAMLFile.load(path, parse: parse(yaml:))
    }

    /// The policy in `text`.
    package static func parse(yaml text: String) throws(YAMLFileError) -> GatePolicy {
        let root = try YAMLFile.located(text)
        guard let root else { throw YAMLFileError(file: nil, line: nil, message: "the policy is empty") }
        var policy = GatePolicy(checks: [])
        var sawChecks = false
        for (key, value) in try YAMLFile.mapping(root, what: "the policy") {
            switch key {
            case "interval": policy.intervalMilliseconds = try positiveDuration(value, key)
            case "checks":
                sawChecks = true
                guard case .sequence(let sequence) = value else { throw YAMLFileError(at: value, "checks must be a list") }
                for node in sequence { policy.checks.append(try readCheck(node)) }
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" (a policy has interval and checks)")
            }
        }
        guard sawChecks, !policy.checks.isEmpty else { throw YAMLFileError(at: root, "a policy needs at least one check under checks") }
        var names: Set<String> = []
        for check in policy.checks where !names.insert(check.name).inserted {
            throw YAMLFileError(at: root, "check name \"\(check.name)\" is used twice")
        }
        return policy
    }

    private static func readCheck(_ node: Node) throws(YAMLFileError) -> GateCheck {
        var name: String?, query: GateCheck.Query?, failure: GateCheck.Failure?
        var check = GateCheck(name: "", query: .expression(""), failure: .present)
        let pairs = try YAMLFile.mapping(node, what: "a check")
        name = try pairs.first { $0.0 == "name" }.map { (pair: (String, Node)) throws(YAMLFileError) in try YAMLFile.scalar(pair.1, "name") }
        guard let name, Label.isValidName(name) else {
            throw YAMLFileError(at: node, "a check needs a name matching [a-zA-Z_][a-zA-Z0-9_]*")
        }
        func problem(_ at: Node, _ message: String) -> YAMLFileError { YAMLFileError(at: at, "check \(name): \(message)") }
        for (key, value) in pairs {
            switch key {
            case "name": break
            case "alert":
                let alert = try YAMLFile.scalar(value, key)
                guard !alert.isEmpty else { throw problem(value, "alert must name an alerting rule") }
                query = .alert(alert)
            case "expr":
                let text = try YAMLFile.scalar(value, key)
                do {
                    _ = try PromQLExpression.parse(text)
                } catch {
                    throw problem(value, "expr: \(error)")
                }
                query = .expression(text)
            case "failure":
                let text = try YAMLFile.scalar(value, key)
                guard let parsed = GateCheck.failure(parsing: text) else {
                    throw problem(value, "failure must be a comparison like \"> 0.05\" or \"present\", got \"\(text)\"")
                }
                failure = parsed
            case "no_data":
                let text = try YAMLFile.scalar(value, key)
                guard let policy = GateCheck.NoData(rawValue: text) else {
                    throw problem(value, "no_data must be one of fail, pass, inconclusive, wait, got \"\(text)\"")
                }
                check.noData = policy
            case "failure_limit": check.failureLimit = try count(value, key, name: name)
            case "consecutive_failure_limit": check.consecutiveFailureLimit = try count(value, key, name: name)
            case "consecutive_error_limit": check.consecutiveErrorLimit = try count(value, key, name: name)
            case "window": check.windowMilliseconds = try YAMLFile.duration(value, key)
            case "dry_run":
                switch try YAMLFile.scalar(value, key) {
                case "true": check.dryRun = true
                case "false": check.dryRun = false
                case let other: throw problem(value, "dry_run must be true or false, got \"\(other)\"")
                }
            default: throw problem(value, "unknown key \"\(key)\"")
            }
        }
        guard let query else { throw problem(node, "needs alert (a rule's alert) or expr (PromQL)") }
        if case .alert = query, failure != nil { throw problem(node, "an alert check fails while the alert fires; it takes no failure") }
        if case .expression = query, failure == nil {
            throw problem(node, "an expr check needs failure, a comparison like \"> 0.05\" or \"present\"")
        }
        if pairs.contains(where: { $0.0 == "alert" }) && pairs.contains(where: { $0.0 == "expr" }) {
            throw problem(node, "give alert or expr, not both")
        }
        check.name = name
        check.query = query
        check.failure = failure ?? .present
        return check
    }

    private static func count(_ node: Node, _ key: String, name: String) throws(YAMLFileError) -> Int {
        let text = try YAMLFile.scalar(node, key)
        guard let value = Int(text), value >= 0 else { throw YAMLFileError(at: node, "check \(name): \(key) must be a whole number, got \"\(text)\"") }
        return value
    }

    private static func positiveDuration(_ node: Node, _ key: String) throws(YAMLFileError) -> Int64 {
        let milliseconds = try YAMLFile.duration(node, key)
        guard milliseconds > 0 else { throw YAMLFileError(at: node, "\(key) must be longer than 0") }
        return milliseconds
    }
}
