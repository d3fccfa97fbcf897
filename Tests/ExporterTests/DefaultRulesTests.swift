import Foundation
@testable import Exporter
@testable import Rules
import Testing

/// The default rule file under rules/ keeps the style of the Prometheus monitoring mixins
/// (mixtool lint): CamelCase alert names of at most 40 characters, a severity label, a static
/// summary sentence and a templated description, groups of at most 20 rules,
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
                // mixtool's alert-name-camelcase (^([A-Z]+[a-z0-9]+)+$) and alert-name-length (40).
                #expect(name.wholeMatch(of: /([A-Z]+[a-z0-9]+)+/) != nil && name.count <= 40, "\(name) is CamelCase, at most 40 characters")
                #expect(["critical", "warning", "info"].contains(rule.labels["severity"] ?? ""), "\(name) has a severity")
                // A static summary that is a sentence; a description templated with the series.
                let summary = annotations["summary"] ?? ""
                #expect(!summary.isEmpty && !summary.contains("{{") && summary.first?.isUppercase == true && summary.hasSuffix("."),
                        "\(name): the summary is a static sentence ending in a period: \(summary)")
                #expect((annotations["description"] ?? "").contains("{{"), "\(name) has a templated description")
            }
            #expect(group.rules.count <= 20 && group.name.count <= 40, "group \(group.name): at most 20 rules and 40 characters")
        }
        #expect(alerts >= 10)
    }

    @Test func everyRuleLoadsIntoTheEvaluator() throws {
        let groups = try RuleFile.load(path: Self.path)
        let rules = try RuleSet(groups: groups.map { ($0, Self.path) }, defaultIntervalMilliseconds: 15_000)
        #expect(rules.groups.count == groups.count)
    }
}
