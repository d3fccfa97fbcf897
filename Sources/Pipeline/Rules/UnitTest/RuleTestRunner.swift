import Foundation
import LookoutSupport
import MetricModel
import PromQL
import SeriesHistory

/// Runs promtool rule unit-test files (`promtool test rules`, prometheus `cmd/promtool/unittest.go`
/// of 2.42) with Lookout's evaluator, and words the outcome as promtool does, for
/// `lookout rules test` to print: each failure and warning in promtool's words.
///
/// Each test group loads its input series (one value per `interval` from time 0), then evaluates
/// every rule group at 0, `evaluation_interval`, 2 × … up to the latest `eval_time` asked for,
/// checking the firing alerts an `alert_rule_test` expects at the evaluation at or just before
/// its time; `promql_expr_test` expressions are evaluated afterwards over the inputs and
/// everything the rules wrote.
package struct RuleTestRunner {
    /// The outcome of one file: whether it passed, the failures and the warnings, in promtool's
    /// words.
    package struct Outcome {
        /// The failures, each in promtool's words.
        package var failures: [String]
        /// Lines promtool writes to standard error before the result (a rule-file pattern that
        /// matches nothing).
        package var warnings: [String] = []
        /// Whether every test of the file passed.
        package var passed: Bool { failures.isEmpty }
    }

    /// Runs the test file at `path`.
    package static func run(path: String) -> Outcome {
        let file: RuleTestFile
        do {
            file = try RuleTestFileReader.load(path: path)
        } catch {
            return Outcome(failures: ["\(error)"])
        }
        var seen: Set<String> = []
        for name in file.groupEvaluationOrder where !seen.insert(name).inserted {
            return Outcome(failures: ["group name repeated in evaluation order: \(name)"])
        }
        let directory = (path as NSString).deletingLastPathComponent
        var ruleFiles: [String] = []
        var warnings: [String] = []
        for pattern in file.ruleFiles {
            let absolute = pattern.hasPrefix("/") || pattern.isEmpty ? pattern : (directory.isEmpty ? pattern : directory + "/" + pattern)
            let matches = Glob.paths(matching: absolute)
            if matches.isEmpty { warnings.append("  WARNING: no file match pattern \(absolute)") }
            ruleFiles += matches
        }
        var failures: [String] = []
        for test in file.tests {
            failures += run(test, file: file, ruleFiles: ruleFiles)
        }
        return Outcome(failures: failures, warnings: warnings)
    }

    /// Runs one test group; the failures, in promtool's words.
    private static func run(_ test: RuleTestGroup, file: RuleTestFile, ruleFiles: [String]) -> [String] {
        let evaluationInterval = file.evaluationIntervalMilliseconds
        let inputInterval = test.intervalMilliseconds ?? evaluationInterval
        let store = SeriesStore()
        for input in test.inputSeries {
            guard let (name, labels) = seriesDescription(input.series), let name else {
                return ["error in input series: could not parse \(quotedPromQLString(input.series))"]
            }
            for (step, value) in input.values.enumerated() {
                let timestamp = Int64(step) * inputInterval
                switch value {
                case .missing: continue
                case .stale: store.append(name: name, labels: labels, timestamp: timestamp, value: SeriesStore.staleMarker)
                case .sample(let number): store.append(name: name, labels: labels, timestamp: timestamp, value: number)
                }
            }
        }

        var groups: [(group: RuleGroup, file: String)] = []
        var loadErrors: [String] = []
        for ruleFile in ruleFiles {
            let problems = RuleFile.checked(path: ruleFile)
            guard let loaded = problems.groups else {
                loadErrors += problems.messages
                continue
            }
            groups += loaded.map { ($0, ruleFile) }
        }
        if !loadErrors.isEmpty { return loadErrors }
        // Groups named in group_eval_order go in that order; the rest keep file order, first.
        let order = Dictionary(file.groupEvaluationOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        groups = groups.enumerated().sorted { (order[$0.element.group.name] ?? 0, $0.offset) < (order[$1.element.group.name] ?? 0, $1.offset) }
            .map(\.element)
        var rules: RuleSet
        do {
            rules = try RuleSet(groups: groups, defaultIntervalMilliseconds: inputInterval,
                                externalLabels: test.externalLabels, externalURL: test.externalURL)
        } catch {
            return ["\(error)"]
        }

        var failures: [String] = []
        let alertTests = test.alertRuleTests.sorted { $0.evalTimeMilliseconds < $1.evalTimeMilliseconds }
        var nextAlertTest = 0
        let lastTime = (test.alertRuleTests.map(\.evalTimeMilliseconds) + test.expressionTests.map(\.evalTimeMilliseconds)).max() ?? 0
        var time: Int64 = 0
        while time <= lastTime {
            var evaluationErrors: [String] = []
            for index in rules.groups.indices {
                for failure in rules.evaluate(group: index, at: time, source: store, output: store) {
                    evaluationErrors.append("    rule: \(failure.rule), time: \(goDuration(time)), err: \(failure.error)")
                }
            }
            if !evaluationErrors.isEmpty { return failures + evaluationErrors }
            while nextAlertTest < alertTests.count, alertTests[nextAlertTest].evalTimeMilliseconds < time + evaluationInterval {
                let expected = alertTests[nextAlertTest]
                nextAlertTest += 1
                guard expected.evalTimeMilliseconds >= time else { continue }
                if let failure = check(expected, against: rules, groupName: test.name) { failures.append(failure) }
            }
            time += evaluationInterval
        }

        for expression in test.expressionTests {
            if let failure = check(expression, in: store) { failures.append(failure) }
        }
        return failures
    }

    /// The firing alerts of the rules called as the test's alert, against what it expects;
    /// nil when they agree.
    private static func check(_ test: AlertRuleTest, against rules: RuleSet, groupName: String) -> String? {
        var got: [(labels: [Label], annotations: [Label])] = []
        for group in rules.groups {
            for rule in group.rules {
                guard let tracker = rule.tracker, tracker.name == test.alertName else { continue }
                for alert in tracker.alerts.values where alert.state == .firing {
                    got.append((alert.labels, alert.annotations.sorted()))
                }
            }
        }
        let expected = test.expectedAlerts.map { alert in
            (labels: alert.labels.merging(["alertname": test.alertName]) { $1 }.map { Label($0.key, $0.value) }.sorted(),
             annotations: alert.annotations.map { Label($0.key, $0.value) }.sorted())
        }
        func ordered(_ alerts: [(labels: [Label], annotations: [Label])]) -> [(labels: [Label], annotations: [Label])] {
            alerts.sorted { a, b in
                a.labels != b.labels ? a.labels.lexicographicallyPrecedes(b.labels, by: labelOrder)
                    : a.annotations.lexicographicallyPrecedes(b.annotations, by: labelOrder)
            }
        }
        let (sortedGot, sortedExpected) = (ordered(got), ordered(expected))
        guard sortedGot.count != sortedExpected.count
            || !zip(sortedGot, sortedExpected).allSatisfy({ $0.labels == $1.labels && $0.annotations == $1.annotations })
        else { return nil }
        let name = groupName.isEmpty ? "" : "    name: \(groupName),\n"
        let indent = String(repeating: " ", count: 12)
        return "\(name)    alertname: \(test.alertName), time: \(PromQLDuration(milliseconds: test.evalTimeMilliseconds)), \n"
            + "        exp:\(indentLines(describe(sortedExpected), indent)), \n"
            + "        got:\(indentLines(describe(sortedGot), indent))"
    }

    /// promtool's `labelsAndAnnotations.String()`.
    private static func describe(_ alerts: [(labels: [Label], annotations: [Label])]) -> String {
        guard !alerts.isEmpty else { return "[]" }
        var text = "["
        for (index, alert) in alerts.enumerated() {
            text += (index == 0 ? "\n" : ",\n") + "\(index):"
            text += indentLines("\nLabels:\(alert.labels.promQLDescription)\nAnnotations:\(alert.annotations.promQLDescription)", "  ")
        }
        return text + "\n]"
    }

    /// One expression test; nil when the samples agree.
    private static func check(_ test: ExpressionTest, in store: SeriesStore) -> String? {
        let quotedExpression = quotedPromQLString(test.expression)
        let time = PromQLDuration(milliseconds: test.evalTimeMilliseconds)
        let got: [PromQLSample]
        do {
            got = try PromQLQuery(try PromQLExpression.parse(test.expression)).evaluate(at: test.evalTimeMilliseconds, in: store).samples
        } catch {
            return "    expr: \(quotedExpression), time: \(time), err: \(error)"
        }
        var expected: [PromQLSample] = []
        for sample in test.expectedSamples {
            guard let (name, labels) = seriesDescription(sample.labels) else {
                return "    expr: \(quotedExpression), time: \(time), err: labels \(quotedPromQLString(sample.labels)): could not parse"
            }
            expected.append(PromQLSample(labels: name.map { labels.setting("__name__", to: $0) } ?? labels, value: sample.value))
        }
        let order = { (a: PromQLSample, b: PromQLSample) in a.labels.lexicographicallyPrecedes(b.labels, by: labelOrder) }
        let (sortedGot, sortedExpected) = (got.sorted(by: order), expected.sorted(by: order))
        // promtool compares with reflect.DeepEqual: a NaN never equals anything.
        if sortedGot.count == sortedExpected.count,
           zip(sortedGot, sortedExpected).allSatisfy({ $0.labels == $1.labels && $0.value == $1.value }) {
            return nil
        }
        func describe(_ samples: [PromQLSample]) -> String {
            samples.isEmpty ? "nil" : samples.map { "\($0.labels.promQLDescription) \(GoFloat.formatE($0.value))" }.joined(separator: ", ")
        }
        return "    expr: \(quotedExpression), time: \(time),\n        exp: \(describe(sortedExpected))\n        got: \(describe(sortedGot))"
    }

    /// A series as a test file writes one (`name{a="b"}`, `{a="b"}`, `name`): its name and labels.
    private static func seriesDescription(_ text: String) -> (name: String?, labels: [Label])? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "{}" { return (nil, []) }
        guard case .vectorSelector(let selector)? = try? PromQLExpression.parse(trimmed) else { return nil }
        var name = selector.metricName
        var labels: [Label] = []
        for matcher in selector.matchers {
            guard matcher.operation == .equal else { return nil }
            if matcher.label == "__name__" { name = matcher.value } else { labels = labels.setting(matcher.label, to: matcher.value) }
        }
        return (name, labels)
    }

    /// Labels in Prometheus' order (by name, then value).
    private static func labelOrder(_ a: Label, _ b: Label) -> Bool { a < b }
}

/// Every line of `lines` after the first prefixed with `indent` (promtool's `indentLines`).
func indentLines(_ lines: String, _ indent: String) -> String {
    lines.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        .map { $0.offset == 0 ? String($0.element) : indent + $0.element }.joined(separator: "\n")
}
