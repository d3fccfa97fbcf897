import LookoutSupport
import Yams

/// The one reader of YAML nodes behind every YAML file Lookout takes: the configuration file,
/// Prometheus rule files, promtool rule test files and gate policies. It composes the tree and
/// checks each node's kind; the structured errors it throws (``YAMLSyntaxError``,
/// ``YAMLShapeError``) let each format word a problem its own way. Rule files, rule test files
/// and policies share one wording, ``YAMLFileError`` and the `located` helpers below.
package enum YAMLFile {
    /// The tree of `text`; nil for an empty document. Plain scalars are left untagged (Yams'
    /// basic resolver): every reader takes a scalar's text and checks it itself, as Go's YAML
    /// decoding into typed fields does, and two keys with the same text are the same key whether
    /// quoted or not, as for Go. Yams' default resolver would tag them by seven regular
    /// expressions compiled through ICU, whose code and Unicode tables then stay in the daemon's
    /// memory for nothing.
    package static func compose(_ text: String) throws(YAMLSyntaxError) -> Node? {
        do {
            return try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw YAMLSyntaxError(error)
        } catch {
            let firstLine = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
            throw YAMLSyntaxError(line: nil, problem: firstLine, firstLine: firstLine)
        }
    }

    /// The key-value pairs of a mapping node, in the document's order (Yams itself refuses a
    /// duplicate key, with its line).
    package static func pairs(_ node: Node) throws(YAMLShapeError) -> [(key: String, value: Node)] {
        guard case .mapping(let mapping) = node else { throw YAMLShapeError(.notMapping, at: node) }
        var pairs: [(key: String, value: Node)] = []
        for (key, value) in mapping {
            guard case .scalar(let text) = key else { throw YAMLShapeError(.keyNotScalar, at: key) }
            pairs.append((text.string, value))
        }
        return pairs
    }

    /// The text of a scalar node.
    package static func scalar(_ node: Node) throws(YAMLShapeError) -> String {
        guard case .scalar(let text) = node else { throw YAMLShapeError(.notScalar, at: node) }
        return text.string
    }

    /// The 1-based line of `node`, when Yams recorded one.
    package static func line(_ node: Node) -> Int? {
        node.mark?.line
    }
}

/// YAML text that does not parse.
package struct YAMLSyntaxError: Error, Sendable, Equatable {
    /// The 1-based line Yams names, when it names one.
    package var line: Int?
    /// The problem alone, e.g. `duplicate key 'max-requests'`.
    package var problem: String
    /// The first line of Yams' own message, which repeats the position in its own words.
    var firstLine: String

    /// The error with its parts.
    package init(line: Int?, problem: String, firstLine: String) {
        self.line = line
        self.problem = problem
        self.firstLine = firstLine
    }

    init(_ error: YamlError) {
        let whole = "\(error)"
        let firstLine = whole.split(separator: "\n").first.map(String.init) ?? ""
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            self.init(line: mark.line, problem: problem, firstLine: firstLine)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self.init(line: context.mark.line, problem: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", "))",
                      firstLine: firstLine)
        default:
            self.init(line: nil, problem: firstLine.isEmpty ? whole : firstLine, firstLine: firstLine)
        }
    }
}

/// A node of another kind than the reader needs.
package struct YAMLShapeError: Error, Sendable, Equatable {
    /// What was expected.
    package enum Kind: Sendable, Equatable {
        /// A mapping of keys to values.
        case notMapping
        /// A plain string as a mapping's key.
        case keyNotScalar
        /// A single value.
        case notScalar
    }

    /// What was expected.
    package var kind: Kind
    /// The 1-based line of the offending node.
    package var line: Int?

    /// The error for `node`.
    package init(_ kind: Kind, at node: Node) {
        self.kind = kind
        line = YAMLFile.line(node)
    }
}

/// A YAML file that cannot be used (a rule file, a rule test file, a gate policy): the file, the
/// line, and what is wrong, as one line: `rules.yml:7: unknown key "exp" in a rule of group "g"`.
package struct YAMLFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file, once known.
    package var file: String?
    /// The 1-based line of the offending node, when known.
    package var line: Int?
    /// What is wrong.
    package var message: String

    /// The error with its parts.
    package init(file: String?, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// A problem at `node`'s line.
    package init(at node: Node, _ message: String) {
        self.init(file: nil, line: YAMLFile.line(node), message: message)
    }

    /// `FILE:LINE: message`, leaving out the parts that are unknown.
    package var description: String {
        [file, line.map(String.init)].compactMap { $0 }.joined(separator: ":") + (file == nil && line == nil ? "" : ": ") + message
    }
}

extension YAMLFile {
    /// `parse` applied to the text of the file at `path`; every error names the file.
    package static func load<Value>(_ path: String, parse: (String) throws(YAMLFileError) -> Value) throws(YAMLFileError) -> Value {
        let text: String
        do {
            text = try TextFile.read(path)!
        } catch {
            throw YAMLFileError(file: path, line: nil, message: "cannot read: \(error.reason)")
        }
        do {
            return try parse(text)
        } catch var error {
            error.file = path
            throw error
        }
    }

    /// The tree of `text`, nil for an empty document; a syntax error is one line.
    package static func located(_ text: String) throws(YAMLFileError) -> Node? {
        do {
            return try compose(text)
        } catch {
            throw YAMLFileError(file: nil, line: nil, message: "invalid YAML: \(error.firstLine)")
        }
    }

    /// The key-value pairs of a mapping node; `what` names it in the error otherwise.
    package static func mapping(_ node: Node, what: String) throws(YAMLFileError) -> [(String, Node)] {
        do {
            return try pairs(node).map { ($0.key, $0.value) }
        } catch {
            switch error.kind {
            case .keyNotScalar: throw YAMLFileError(file: nil, line: error.line, message: "keys must be plain strings")
            default: throw YAMLFileError(file: nil, line: error.line, message: "\(what) must be a mapping of keys to values")
            }
        }
    }

    /// A scalar's text; `key` names it in the error otherwise.
    package static func scalar(_ node: Node, _ key: String) throws(YAMLFileError) -> String {
        do {
            return try scalar(node)
        } catch {
            throw YAMLFileError(at: node, "\(key) must be a single value")
        }
    }
}
