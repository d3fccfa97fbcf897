import LookoutSupport
import YAMLFiles
import Yams

/// The node checks shared by the readers of Lookout's YAML settings files (the configuration
/// file, `--web.config.file`): each problem names its dotted key and line.
protocol SettingNodeReader {}

extension SettingNodeReader {
    /// The pairs of a mapping node.
    func mapping(_ node: Node, key: String) throws(ConfigurationError) -> [(String, Node)] {
        do {
            return try YAMLFile.pairs(node).map { ($0.key, $0.value) }
        } catch {
            let message = error.kind == .keyNotScalar ? "keys must be plain strings" : "expected a mapping of keys to values"
            throw ConfigurationError(key: key, line: error.line, message: message)
        }
    }

    /// The text of a scalar node.
    func string(_ node: Node, key: String) throws(ConfigurationError) -> String {
        do {
            return try YAMLFile.scalar(node)
        } catch {
            throw ConfigurationError(key: key, line: error.line, message: "expected a single value")
        }
    }

    /// A list of scalars, or one scalar as a list of one.
    func strings(_ node: Node, key: String) throws(ConfigurationError) -> [String] {
        if case .sequence(let sequence) = node {
            var values: [String] = []
            for element in sequence { values.append(try string(element, key: key)) }
            return values
        }
        return [try string(node, key: key)]
    }

    /// YAML's spellings of true and false.
    func bool(_ node: Node, key: String) throws(ConfigurationError) -> Bool {
        let text = try string(node, key: key)
        switch text {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        default: throw ConfigurationError(key: key, line: YAMLFile.line(node), message: "expected true or false, got \"\(text)\"")
        }
    }

    /// A scalar checked by one of the shared ``SettingValue`` rules, its problem tied to key and line.
    func checked<Value>(
        _ node: Node, key: String, _ rule: (String) throws(SettingProblem) -> Value
    ) throws(ConfigurationError) -> Value {
        try checked(try string(node, key: key), key: key, at: node, rule)
    }

    /// One element of a list value checked by a shared rule, its problem tied to the list's line.
    func checked<Value>(
        _ text: String, key: String, at node: Node, _ rule: (String) throws(SettingProblem) -> Value
    ) throws(ConfigurationError) -> Value {
        do {
            return try rule(text)
        } catch {
            throw ConfigurationError(key: key, line: YAMLFile.line(node), message: error.message)
        }
    }

    /// A key the schema does not have.
    func unknown(_ key: String, at node: Node) -> ConfigurationError {
        ConfigurationError(key: key, line: YAMLFile.line(node), message: "unknown key")
    }
}
