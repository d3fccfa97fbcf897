import YAMLFiles
import MetricModel
import PromQL
import Yams

/// Reads a Prometheus rule file into rule groups, checking it as `promtool check rules` does
/// (prometheus `model/rulefmt/rulefmt.go`), in two steps as rulefmt does. Reading the YAML (known
/// keys only, the right shapes, Prometheus durations) stops at its first problem, one
/// `YAMLFileError` naming the file and line. Validation then goes on past each problem and words
/// every one as rulefmt does, placed at the offending value (`LINE:COL: group "G", rule N,
/// "NAME": …`): group names present and unique, exactly one of `record` or `alert`, an `expr`
/// that parses, no `for`, `keep_firing_for` or `annotations` on a recording rule, valid metric,
/// label and annotation names, templates that parse.
package enum RuleFile {
    /// The groups in the file at `path`.
    package static func load(path: String) throws(YAMLFileError) -> [RuleGroup] {
        try YAMLFile.load(path, parse: parse(yaml:))
    }

    /// The groups in the file at `path` when the file is good, else the problems in promtool's
    /// words, one line each: the YAML or schema problem, or every validation problem
    /// (`FILE: LINE:COL: group "G", rule N, "NAME": could not parse expression: …`).
    package static func checked(path: String) -> (groups: [RuleGroup]?, messages: [String]) {
        do {
            return checked(try YAMLFile.load(path, parse: read(yaml:)), file: path)
        } catch {
            return (nil, ["\(error)"])
        }
    }

    /// The groups of `text` (read as the file `name`) when good, else the problems.
    package static func checked(yaml text: String, name: String) -> (groups: [RuleGroup]?, messages: [String]) {
        do {
            return checked(try read(yaml: text), file: name)
        } catch {
            var located = error
            located.file = name
            return (nil, ["\(located)"])
        }
    }

    private static func checked(_ read: (groups: [RuleGroup], problems: [String]), file: String) -> (groups: [RuleGroup]?, messages: [String]) {
        read.problems.isEmpty ? (read.groups, []) : (nil, read.problems.map { "\(file): \($0)" })
    }

    /// The groups in `text`; the first validation problem is thrown as well.
    package static func parse(yaml text: String) throws(YAMLFileError) -> [RuleGroup] {
        let (groups, problems) = try read(yaml: text)
        if let first = problems.first { throw YAMLFileError(file: nil, line: nil, message: first) }
        return groups
    }

    /// The groups in `text` and every validation problem, in rulefmt's order and words.
    static func read(yaml text: String) throws(YAMLFileError) -> (groups: [RuleGroup], problems: [String]) {
        let root = try YAMLFile.located(text)
        guard let root else { return ([], []) }
        var groups: [RuleGroup] = []
        var names: Set<String> = []
        var problems: [String] = []
        for (key, value) in try YAMLFile.mapping(root, what: "the file") {
            guard key == "groups" else { throw YAMLFileError(at: value, "unknown key \"\(key)\" (a rule file has only groups)") }
            guard case .sequence(let sequence) = value else { throw YAMLFileError(at: value, "groups must be a list") }
            for node in sequence {
                groups.append(try readGroup(node, names: &names, problems: &problems))
            }
        }
        return (groups, problems)
    }

    /// `LINE:COL` of a node as rulefmt prints a yaml.Node's position; `0:0` for one not written.
    private static func position(_ node: Node?) -> String {
        "\(node?.mark?.line ?? 0):\(node?.mark?.column ?? 0)"
    }

    private static func readGroup(_ node: Node, names: inout Set<String>, problems: inout [String]) throws(YAMLFileError) -> RuleGroup {
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
        // rulefmt places a group's problems at the group itself.
        if group.name.isEmpty { problems.append("\(position(node)): Groupname must not be empty") }
        if !names.insert(group.name).inserted {
            problems.append("\(position(node)): groupname: \"\(group.name)\" is repeated in the same file")
        }
        if let rules {
            guard case .sequence(let sequence) = rules else { throw YAMLFileError(at: rules, "rules must be a list") }
            for (index, rule) in sequence.enumerated() {
                if let read = try readRule(rule, group: group.name, number: index + 1, problems: &problems) { group.rules.append(read) }
            }
        }
        return group
    }

    /// One rule, or nil when it has validation problems (appended to `problems`).
    private static func readRule(_ node: Node, group: String, number: Int, problems: inout [String]) throws(YAMLFileError) -> Rule? {
        var record: String?, alert: String?, expression: String?
        var recordNode: Node?, alertNode: Node?, expressionNode: Node?
        var forMilliseconds: Int64 = 0, keepMilliseconds: Int64 = 0
        var labels: [(String, String)] = [], annotations: [(String, String)] = []
        var hasAnnotations = false
        for (key, value) in try YAMLFile.mapping(node, what: "a rule") {
            switch key {
            case "record": (record, recordNode) = (try YAMLFile.scalar(value, key), value)
            case "alert": (alert, alertNode) = (try YAMLFile.scalar(value, key), value)
            case "expr": (expression, expressionNode) = (try YAMLFile.scalar(value, key), value)
            case "for": forMilliseconds = try YAMLFile.duration(value, key)
            case "keep_firing_for": keepMilliseconds = try YAMLFile.duration(value, key)
            case "labels": labels = try YAMLFile.stringMap(value, key)
            case "annotations":
                annotations = try YAMLFile.stringMap(value, key)
                hasAnnotations = !annotations.isEmpty
            default: throw YAMLFileError(at: value, "unknown key \"\(key)\" in a rule of group \"\(group)\"")
            }
        }
        let recordName = record ?? "", alertName = alert ?? ""
        let ruleName = alertName.isEmpty ? recordName : alertName
        let before = problems.count
        func problem(_ message: String, at node: Node?, and other: Node? = nil) {
            let place = other.map { "\(position(node)): \(position($0))" } ?? position(node)
            problems.append("\(place): group \"\(group)\", rule \(number), \"\(ruleName)\": \(message)")
        }
        func unplaced(_ message: String) {
            problems.append("group \"\(group)\", rule \(number), \"\(ruleName)\": \(message)")
        }
        if !recordName.isEmpty && !alertName.isEmpty {
            problem("only one of 'record' and 'alert' must be set", at: recordNode, and: alertNode)
        }
        if recordName.isEmpty && alertName.isEmpty {
            problem("one of 'record' or 'alert' must be set", at: recordNode)
        }
        let text = expression ?? ""
        if text.isEmpty {
            problem("field 'expr' must be set in rule", at: expressionNode)
        } else {
            do {
                _ = try PromQLExpression.parse(text)
            } catch {
                problem("could not parse expression: \(error)", at: expressionNode)
            }
        }
        if !recordName.isEmpty {
            if hasAnnotations { problem("invalid field 'annotations' in recording rule", at: recordNode) }
            if forMilliseconds != 0 { problem("invalid field 'for' in recording rule", at: recordNode) }
            if keepMilliseconds != 0 { problem("invalid field 'keep_firing_for' in recording rule", at: recordNode) }
            if !Label.isValidMetricName(recordName) { problem("invalid recording rule name: \(recordName)", at: recordNode) }
        }
        for (name, _) in labels where !Label.isValidName(name) || name == "__name__" { unplaced("invalid label name: \(name)") }
        for (name, _) in annotations where !Label.isValidName(name) { unplaced("invalid annotation name: \(name)") }
        // Templates of alerting rules, as rulefmt's testTemplateParsing: labels, then
        // annotations, each sorted, parsed as the template "__alert_NAME".
        let templates = alertName.isEmpty ? [] : labels.sorted { $0.0 < $1.0 }.map { ("label", $0.0, $0.1) }
            + annotations.sorted { $0.0 < $1.0 }.map { ("annotation", $0.0, $0.1) }
        for (kind, name, template) in templates {
            do {
                _ = try AlertTemplate(template)
            } catch {
                // "template: LINE: …" becomes Go's "template: __alert_NAME:LINE: …".
                let message = error.message.hasPrefix("template: ")
                    ? "template: __alert_\(alertName):" + error.message.dropFirst("template: ".count) : error.message
                unplaced("\(kind) \"\(name)\": \(message)")
            }
        }
        guard problems.count == before else { return nil }
        let labelMap = Dictionary(labels, uniquingKeysWith: { $1 })
        let expressionAt = (line: expressionNode?.mark?.line, column: expressionNode?.mark?.column)
        if !recordName.isEmpty {
            return Rule(kind: .record(name: recordName), expression: text, labels: labelMap,
                        expressionLine: expressionAt.line, expressionColumn: expressionAt.column)
        }
        return Rule(kind: .alert(name: alertName, forMilliseconds: forMilliseconds, keepFiringForMilliseconds: keepMilliseconds,
                                 annotations: Dictionary(annotations, uniquingKeysWith: { $1 })),
                    expression: text, labels: labelMap, expressionLine: expressionAt.line, expressionColumn: expressionAt.column)
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

    /// A mapping of names to string values, in the file's order, the names not checked here.
    static func stringMap(_ node: Node, _ key: String) throws(YAMLFileError) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for (name, value) in try mapping(node, what: key) { pairs.append((name, try scalar(value, "\(key).\(name)"))) }
        return pairs
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
