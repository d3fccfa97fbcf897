import Collectors
import MetricModel
import PromQL
import Rules
import Yams

/// Reads a Prometheus rule file into rule groups, checking it as `promtool check rules` does
/// (prometheus `model/rulefmt/rulefmt.go`): known keys only, group names present and unique, an
/// `expr` and exactly one of `record` or `alert` per rule, `for`, `keep_firing_for` and
/// `annotations` only on alerts, valid metric and label names, Prometheus durations. The first
/// problem is one `RuleFileError` naming the file, line and what is wrong. Expressions are kept
/// as text here; the PromQL parser checks them.
enum RuleFile {
    /// The groups in the file at `path`.
    static func load(path: String) throws(RuleFileError) -> [RuleGroup] {
        try RuleYAML.load(path, parse: parse(yaml:))
    }

    /// The groups in the file at `path` when the file is good, else the problems in promtool's
    /// words: the YAML or schema problem, or every expression that does not parse (`FILE: LINE:COL:
    /// group "G", rule N, "NAME": could not parse expression: …`) and every template that does not.
    static func checked(path: String) -> (groups: [RuleGroup]?, messages: [String]) {
        do {
            return checked(try load(path: path), file: path)
        } catch {
            return (nil, ["\(error)"])
        }
    }

    /// The groups of `text` (read as the file `name`) when good, else the problems.
    static func checked(yaml text: String, name: String) -> (groups: [RuleGroup]?, messages: [String]) {
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
    static func parse(yaml text: String) throws(RuleFileError) -> [RuleGroup] {
        let root = try RuleYAML.compose(text)
        guard let root else { return [] }
        var groups: [RuleGroup] = []
        var names: Set<String> = []
        for (key, value) in try RuleYAML.mapping(root, what: "the file") {
            guard key == "groups" else { throw RuleFileError(at: value, "unknown key \"\(key)\" (a rule file has only groups)") }
            guard case .sequence(let sequence) = value else { throw RuleFileError(at: value, "groups must be a list") }
            for node in sequence {
                let group = try readGroup(node)
                guard names.insert(group.name).inserted else {
                    throw RuleFileError(at: node, "group name \"\(group.name)\" is repeated in the same file")
                }
                groups.append(group)
            }
        }
        return groups
    }

    private static func readGroup(_ node: Node) throws(RuleFileError) -> RuleGroup {
        var group = RuleGroup(name: "", line: node.mark?.line)
        var rules: Node?
        for (key, value) in try RuleYAML.mapping(node, what: "a group") {
            switch key {
            case "name": group.name = try RuleYAML.scalar(value, key)
            case "interval": group.intervalMilliseconds = try RuleYAML.duration(value, key)
            case "limit":
                guard let limit = Int(try RuleYAML.scalar(value, key)), limit >= 0 else { throw RuleFileError(at: value, "limit must be a whole number") }
                group.limit = limit
            case "rules": rules = value
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in a group")
            }
        }
        guard !group.name.isEmpty else { throw RuleFileError(at: node, "a group needs a name") }
        if let rules {
            guard case .sequence(let sequence) = rules else { throw RuleFileError(at: rules, "rules must be a list") }
            for rule in sequence { group.rules.append(try readRule(rule, group: group.name)) }
        }
        return group
    }

    private static func readRule(_ node: Node, group: String) throws(RuleFileError) -> Rule {
        var record: String?, alert: String?, expression: String?, expressionLine: Int?, expressionColumn: Int?
        var forDuration: Node?, keepFiringFor: Node?, annotations: Node?
        var labels: [String: String] = [:]
        for (key, value) in try RuleYAML.mapping(node, what: "a rule") {
            switch key {
            case "record": record = try RuleYAML.scalar(value, key)
            case "alert": alert = try RuleYAML.scalar(value, key)
            case "expr":
                expression = try RuleYAML.scalar(value, key)
                expressionLine = value.mark?.line
                expressionColumn = value.mark?.column
            case "for": forDuration = value
            case "keep_firing_for": keepFiringFor = value
            case "labels": labels = try RuleYAML.labelMap(value, key)
            case "annotations": annotations = value
            default: throw RuleFileError(at: value, "unknown key \"\(key)\" in a rule of group \"\(group)\"")
            }
        }
        guard let expression, !expression.isEmpty else { throw RuleFileError(at: node, "a rule of group \"\(group)\" has no expr") }
        switch (record, alert) {
        case (let record?, nil):
            guard Label.isValidMetricName(record) else { throw RuleFileError(at: node, "invalid recording rule name \"\(record)\"") }
            for (value, key) in [(forDuration, "for"), (keepFiringFor, "keep_firing_for"), (annotations, "annotations")] {
                if let value { throw RuleFileError(at: value, "recording rule \"\(record)\" cannot have \(key)") }
            }
            return Rule(kind: .record(name: record), expression: expression, labels: labels, expressionLine: expressionLine, expressionColumn: expressionColumn)
        case (nil, let alert?):
            guard !alert.isEmpty else { throw RuleFileError(at: node, "an alerting rule needs a name") }
            let pending = try forDuration.map { (value: Node) throws(RuleFileError) in try RuleYAML.duration(value, "for") } ?? 0
            let keep = try keepFiringFor.map { (value: Node) throws(RuleFileError) in try RuleYAML.duration(value, "keep_firing_for") } ?? 0
            let texts = try annotations.map { (value: Node) throws(RuleFileError) in try RuleYAML.labelMap(value, "annotations") } ?? [:]
            return Rule(kind: .alert(name: alert, forMilliseconds: pending, keepFiringForMilliseconds: keep, annotations: texts),
                        expression: expression, labels: labels, expressionLine: expressionLine, expressionColumn: expressionColumn)
        case (nil, nil):
            throw RuleFileError(at: node, "a rule of group \"\(group)\" needs one of record or alert")
        case (_?, _?):
            throw RuleFileError(at: node, "a rule of group \"\(group)\" cannot have both record and alert")
        }
    }
}

/// Reading YAML nodes the way rule files and rule test files need: typed values whose problems
/// name the line.
enum RuleYAML {
    /// The YAML tree of `text`, nil for an empty document; a syntax error is one line.
    static func compose(_ text: String) throws(RuleFileError) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw RuleFileError(file: nil, line: nil, message: "invalid YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
    }

    /// `parse` applied to the text of the file at `path`; every error names the file.
    static func load<Value>(_ path: String, parse: (String) throws(RuleFileError) -> Value) throws(RuleFileError) -> Value {
        let text: String
        do {
            text = try SourceFile.read(path)
        } catch {
            let reason = if case .unreadable(_, let reason) = error { reason } else { "\(error)" }
            throw RuleFileError(file: path, line: nil, message: "cannot read: \(reason)")
        }
        do {
            return try parse(text)
        } catch var error {
            error.file = path
            throw error
        }
    }

    /// The key-value pairs of a mapping node; `what` names it in the error otherwise.
    static func mapping(_ node: Node, what: String) throws(RuleFileError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw RuleFileError(at: node, "\(what) must be a mapping of keys to values") }
        var pairs: [(String, Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let text) = key else { throw RuleFileError(at: key, "keys must be plain strings") }
            pairs.append((text.string, value))
        }
        return pairs
    }

    /// A scalar's text; `key` names it in the error otherwise.
    static func scalar(_ node: Node, _ key: String) throws(RuleFileError) -> String {
        guard case .scalar(let text) = node else { throw RuleFileError(at: node, "\(key) must be a single value") }
        return text.string
    }

    /// A Prometheus duration, in milliseconds.
    static func duration(_ node: Node, _ key: String) throws(RuleFileError) -> Int64 {
        let text = try RuleYAML.scalar(node, key)
        guard let milliseconds = PrometheusDuration.milliseconds(text) else {
            throw RuleFileError(at: node, "\(key): \"\(text)\" is not a duration like 30s, 5m or 1h30m")
        }
        return milliseconds
    }

    /// A mapping of label names (checked) to string values.
    static func labelMap(_ node: Node, _ key: String) throws(RuleFileError) -> [String: String] {
        var map: [String: String] = [:]
        for (name, value) in try RuleYAML.mapping(node, what: key) {
            guard Label.isValidName(name) else { throw RuleFileError(at: value, "invalid label name \"\(name)\" in \(key)") }
            map[name] = try RuleYAML.scalar(value, "\(key).\(name)")
        }
        return map
    }
}

/// A rule file that cannot be used: the file, the line, and what is wrong, as one line.
struct RuleFileError: Error, Equatable, CustomStringConvertible {
    /// The file, once known.
    var file: String?
    /// The 1-based line of the offending node, when known.
    var line: Int?
    /// What is wrong.
    var message: String

    init(file: String?, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// A problem at `node`'s line.
    init(at node: Node, _ message: String) {
        self.init(file: nil, line: node.mark?.line, message: message)
    }

    var description: String {
        [file, line.map(String.init)].compactMap { $0 }.joined(separator: ":") + (file == nil && line == nil ? "" : ": ") + message
    }
}
