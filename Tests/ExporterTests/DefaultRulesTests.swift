import Foundation
@testable import Exporter
@testable import Rules
import Testing

/// The default rule file under rules/ keeps the style of the Prometheus monitoring mixins
/// (mixtool lint): CamelCase alert names, a severity label, summary and description annotations,
/// and every expression and template loads into Lookout's evaluator.
@Suite struct DefaultRulesTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("rules/lookout.rules.yml").path

    @Test func everyAlertFollowsTheMixinStyle() throws {
        let groups = try RuleFile.load(path: Self.path)
        var alerts = 0
        for group in groups {
            for rule in group.rules {
                guard case .alert(let name, _, _, let annotations) = rule.kind else {
                    #expect(rule.name.split(separator: ":").count == 3, "recording rule \(rule.name) is level:metric:operations")
                    continue
                }
                alerts += 1
                #expect(name.first?.isUppercase == true && name.allSatisfy { $0.isLetter || $0.isNumber }, "\(name) is CamelCase")
                #expect(["critical", "warning", "info"].contains(rule.labels["severity"] ?? ""), "\(name) has a severity")
                #expect(!(annotations["summary"] ?? "").isEmpty, "\(name) has a summary")
                #expect(!(annotations["description"] ?? "").isEmpty, "\(name) has a description")
            }
        }
        #expect(alerts >= 10)
    }

    @Test func everyRuleLoadsIntoTheEvaluator() throws {
        let groups = try RuleFile.load(path: Self.path)
        let rules = try RuleSet(groups: groups.map { ($0, Self.path) }, defaultIntervalMilliseconds: 15_000)
        #expect(rules.groups.count == groups.count)
    }
}
