import YAMLFiles
import MetricModel
import PromQL
import Yams

/// Reads a Prometheus rule file into rule groups, checking it as `promtool check rules` does
/// (prometheus `model/rulefmt/rulefmt.go`): known keys only, group names present and unique, an
/// `expr` and exactly one of `record` or `alert` per rule, `for`, `keep_firing_for` and
/// `annotations` only on alerts, valid metric and label names, Prometheus durations. The first
/// problem is one `YAMLFileError` naming the file, line and what is wrong. Expressions are kept
/// as text here; the PromQL parser checks them.
package enum RuleFile {
    /// The groups in the file at `path`.
    package static func load(path: String) throws(YAMLFileError) -> [RuleGroup] {
        try YAMLFile.load(path, parse: parse(yaml:))
    }

    /// The groups in the file at `path` when the file is good, else the problems in promtool's
    /// words: the YAML or schema problem, or every expression that does not parse (`FILE: LINE:COL:
    /// group "G", rule N, "NAME": could not parse expression: …`) and every template that does not.
    package static func checked(path: String) -> (groups: [RuleGroup]?, messages: [String]) {
        do {
            return checked(try load(path: path), file: path)
        } catch {
            return (nil, ["\(error)"])
        }
    }

    /// The groups of `text` (read as the file `name`) when good, else the problems.
    package static func checked(yaml text: String, name: String) -> (groups: [RuleGroup]?, messages: [String]) {
        do {
            return checked(try parse(yaml: text), file: name)
        } catch {
            var located = error
            located.file = name
            return (nil, ["\(located)"])
        }
    }

    private static func checked(_ groups: [RuleGroup], file: String) -> (groups: [RuleGroup]?, messages: [String]) {
        var messages: [String] = []
        for group in groups {
            for (number, rule) in group.rules.enumerated() {
                let prefix = "group \"\(group.name)\", rule \(number + 1), \"\(rule.name)\""
                do {
                    _ = try PromQLExpression.parse(rule.expression)
                } catch {
                    let position = [rule.expressionLine, rule.expressionColumn].compactMap { $0.map(String.init) }.joined(separator: ":")
                    messages.append("\(file): \(position): \(prefix): could not parse expression: \(error)")
                }
                var templates = rule.labels.map { ("label", $0.key, $0.value) }
                if case .alert(_, _, _, let annotations) = rule.kind { templates += annotations.map { ("annotation", $0.key, $0.value) } }
                for (kind, name, text) in templates.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                    do {
                        _ = try AlertTemplate(text)
                    } catch {
                        messages.append("\(file): \(prefix): \(kind) \"\(name)\": \(error.message)")
                    }
                }
            }
        }
        return messages.isEmpty ? (groups, []) : (nil, messages)
    }

    /// The groups in `text`.
    package static func parse(yaml text: String) throws(YAMLFileError) -> [RuleGroup] {
        let root = try YAMLFile.located(text)
        guard let root else { return [] }
        var groups: [RuleGroup] = []
        var names: Set<String> = []
        for (key, value) in try YAMLFile.mapping(root, what: "the file") {
            guard key == "groups" else { throw YAMLFileError(at: value, "unknown key \"\(key)\" (a rule file has only groups)") }
            guard case .sequence(let sequence) = value else { throw YAMLFileError(at: value, "groups must be a list") }
            for node in sequence {
                let group = try readGroup(node)
                guard names.insert(group.name).inserted else {
                    throw YAMLFileError(at: node, "group name \"\(group.name)\" is repeated in the same file")
                }
                groups.append(group)
            }
        }
        return groups
    }

    private static func readGroup(_ node: Node) throws(YAMLFileError) -> RuleGroup {
        var group = RuleGroup(name: "", line: node.mark?.line)
        var rules: Node?
        for (key, value) in try YAMLFile.mapping(node, what: "a group") {
            switch key {
            case "name": group.name = try YAMLFile.scalar(value, key)
            case "interval": group.intervalMilliseconds = try YAMLFile.duration(value, key)
            case "limit":
                guard let limit = Int(try YAMLFile.scalar(value, key)), limit >= 0 else { throw YAMLFileError(at: value, "limit must be a whole number") }
                group.limit = limit
            case "rules": rules = value
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a group")
            }
        }
        guard !group.name.isEmpty else { throw YAMLFileError(at: node, "a group needs a name") }
        if let rules {
            guard case .sequence(let sequence) = rules else { throw YAMLFileError(at: rules, "rules must be a list") }
            for rule in sequence { group.rules.append(try readRule(rule, group: group.name)) }
        }
        return group
    }

    private static func readRule(_ node: Node, group: String) throws(YAMLFileError) -> Rule {
        var record: String?, alert: String?, expression: String?, expressionLine: Int?, expressionColumn: Int?
        var forDuration: Node?, keepFiringFor: Node?, annotations: Node?
        var labels: [String: String] = [:]
        for (key, value) in try YAMLFile.mapping(node, what: "a rule") {
            switch key {
            case "record": record = try YAMLFile.scalar(value, key)
            case "alert": alert = try YAMLFile.scalar(value, key)
            case "expr":
                expression = try YAMLFile.scalar(value, key)
                expressionLine = value.mark?.line
                expressionColumn = value.mark?.column
            case "for": forDuration = value
            case "keep_firing_for": keepFiringFor = value
            case "labels": labels = try YAMLFile.labelMap(value, key)
            case "annotations": annotations = value
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a rule of group \"\(group)\"")
            }
        }
        guard let expression, !expression.isEmpty else { throw YAMLFileError(at: node, "a rule of group \"\(group)\" has no expr") }
        switch (record, alert) {
        case (let record?, nil):
            guard Label.isValidMetricName(record) else { throw YAMLFileError(at: node, "invalid recording rule name \"\(record)\"") }
            for (value, key) in [(forDuration, "for"), (keepFiringFor, "keep_firing_for"), (annotations, "annotations")] {
                if let value { throw YAMLFileError(at: value, "recording rule \"\(record)\" cannot have \(key)") }
            }
            return Rule(kind: .record(name: record), expression: expression, labels: labels, expressionLine: expressionLine, expressionColumn: expressionColumn)
        case (nil, let alert?):
            guard !alert.isEmpty else { throw YAMLFileError(at: node, "an alerting rule needs a name") }
            let pending = try forDuration.map { (value: Node) throws(YAMLFileError) in try YAMLFile.duration(value, "for") } ?? 0
            let keep = try keepFiringFor.map { (value: Node) throws(YAMLFileError) in try YAMLFile.duration(value, "keep_firing_for") } ?? 0
            let texts = try annotations.map { (value: Node) throws(YAMLFileError) in try YAMLFile.labelMap(value, "annotations") } ?? [:]
            return Rule(kind: .alert(name: alert, forMilliseconds: pending, keepFiringForMilliseconds: keep, annotations: texts),
                        expression: expression, labels: labels, expressionLine: expressionLine, expressionColumn: expressionColumn)
        case (nil, nil):
            throw YAMLFileError(at: node, "a rule of group \"\(group)\" needs one of record or alert")
        case (_?, _?):
            throw YAMLFileError(at: node, "a rule of group \"\(group)\" cannot have both record and alert")
        }
    }
}

extension YAMLFile {
    /// A Prometheus duration, in milliseconds; `key` names it in the error otherwise.
    package static func duration(_ node: Node, _ key: String) throws(YAMLFileError) -> Int64 {
        let text = try scalar(node, key)
        guard let milliseconds = PrometheusDuration.milliseconds(text) else {
            throw YAMLFileError(at: node, "\(key): \"\(text)\" is not a duration like 30s, 5m or 1h30m")
        }
        return milliseconds
    }

    /// A mapping of label names (checked) to string values.
    static func labelMap(_ node: Node, _ key: String) throws(YAMLFileError) -> [String: String] {
        var map: [String: String] = [:]
        for (name, value) in try mapping(node, what: key) {
            guard Label.isValidName(name) else { throw YAMLFileError(at: value, "invalid label name \"\(name)\" in \(key)") }
            map[name] = try scalar(value, "\(key).\(name)")
        }
        return map
    }
}
