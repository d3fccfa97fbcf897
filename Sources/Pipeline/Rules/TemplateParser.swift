/// Reads an ``AlertTemplate``'s text into its tree: text and `{{ actions }}`, as Go's
/// `text/template/parse` reads them, for the subset ``AlertTemplate`` describes.
struct TemplateParser {
    typealias Node = AlertTemplate.Node
    typealias Failure = AlertTemplate.Failure

    private enum Token: Equatable {
        case identifier(String)
        case variable(String)
        case field(String)
        case dot
        case literal(AlertTemplate.Value)
        case pipe
        case open
        case close
        case declare
    }

    /// Functions Prometheus (or Go) templates have that the subset leaves out, refused by name.
    static let prometheusOnlyFunctions: Set<String> = [
        "query", "first", "label", "value", "sortByLabel", "stripPort", "stripDomain", "safeHtml", "args", "tmpl",
        "pathPrefix", "graphLink", "tableLink", "parseDuration", "toTime", "strvalue", "html", "js", "len", "slice",
        "urlquery", "println", "call",
    ]

    private let text: [Character]
    private var position = 0
    private var line = 1

    init(text: String) { self.text = Array(text) }

    /// The whole text as nodes; throws on an unclosed action, an unbalanced `if`/`end`, or
    /// anything outside the subset.
    mutating func parseAll() throws(Failure) -> [Node] {
        // Each open `if` keeps its branches so far, the condition being filled, and its body.
        var stack: [(branches: [(AlertTemplate.Pipeline, [Node])], condition: AlertTemplate.Pipeline?, body: [Node])] = []
        var nodes: [Node] = []
        func append(_ node: Node) {
            if stack.isEmpty { nodes.append(node) } else { stack[stack.count - 1].body.append(node) }
        }
        var trimNext = false
        while position < text.count {
            let start = position
            var textEnd = text.count
            var next = position
            while next + 1 < text.count {
                if text[next] == "{" && text[next + 1] == "{" {
                    textEnd = next
                    break
                }
                next += 1
            }
            if next + 1 >= text.count { textEnd = text.count }
            var chunk = String(text[start..<textEnd])
            position = textEnd
            let trimBefore = position + 3 < text.count && text[position + 2] == "-" && text[position + 3].isWhitespace
            if trimNext { chunk = String(chunk.drop { $0.isWhitespace }) }
            if trimBefore { chunk = String(chunk.reversed().drop { $0.isWhitespace }.reversed()) }
            line += chunk.filter { $0 == "\n" }.count
            if !chunk.isEmpty { append(.text(chunk)) }
            guard position < text.count else { break }
            position += trimBefore ? 3 : 2
            let (tokens, trimAfter) = try actionTokens()
            trimNext = trimAfter
            guard let first = tokens.first else { continue }  // a comment
            switch first {
            case .identifier("if"):
                stack.append(([], try pipeline(Array(tokens.dropFirst())), []))
            case .identifier("else"):
                guard !stack.isEmpty, let condition = stack[stack.count - 1].condition else { throw failure("unexpected {{else}}") }
                stack[stack.count - 1].branches.append((condition, stack[stack.count - 1].body))
                stack[stack.count - 1].body = []
                if tokens.count > 1 {
                    guard tokens[1] == .identifier("if") else { throw failure("unexpected \(describe(tokens[1])) in else") }
                    stack[stack.count - 1].condition = try pipeline(Array(tokens.dropFirst(2)))
                } else {
                    stack[stack.count - 1].condition = nil
                }
            case .identifier("end"):
                guard tokens.count == 1, let open = stack.popLast() else { throw failure("unexpected {{end}}") }
                var branches = open.branches
                var otherwise: [Node] = []
                if let condition = open.condition { branches.append((condition, open.body)) } else { otherwise = open.body }
                append(.conditional(branches: branches, otherwise: otherwise))
            case .identifier(let keyword) where ["range", "with", "define", "template", "block", "break", "continue"].contains(keyword):
                throw failure("{{\(keyword)}} is not supported in alert templates")
            default:
                if tokens.contains(.declare) { throw failure("variable declarations are not supported in alert templates") }
                append(.action(try pipeline(tokens)))
            }
        }
        guard stack.isEmpty else { throw failure("unexpected EOF") }
        return nodes
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: "template: \(line): \(message)")
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .identifier(let name), .variable(let name), .field(let name): return "<\(name)>"
        case .literal(let value): return "<\(value.printed)>"
        default: return "<\(token)>"
        }
    }

    // MARK: Tokens

    /// The tokens of the action that starts at `position` (after `{{`), up to `}}`; a comment
    /// gives none. Also whether the action ends with `-}}`.
    private mutating func actionTokens() throws(Failure) -> ([Token], trimAfter: Bool) {
        var tokens: [Token] = []
        while true {
            while position < text.count, text[position].isWhitespace {
                if text[position] == "\n" { line += 1 }
                position += 1
            }
            guard position < text.count else { throw failure("unclosed action") }
            let character = text[position]
            if character == "-" && position + 2 < text.count && text[position + 1] == "}" && text[position + 2] == "}" {
                position += 3
                return (tokens, true)
            }
            if character == "}" && position + 1 < text.count && text[position + 1] == "}" {
                position += 2
                return (tokens, false)
            }
            if character == "/" && position + 1 < text.count && text[position + 1] == "*" {
                guard let end = find("*/", from: position + 2) else { throw failure("unclosed comment") }
                position = end + 2
                continue
            }
            switch character {
            case "|":
                position += 1
                tokens.append(.pipe)
            case "(":
                position += 1
                tokens.append(.open)
            case ")":
                position += 1
                tokens.append(.close)
            case ":":
                guard position + 1 < text.count, text[position + 1] == "=" else { throw failure("expected :=") }
                position += 2
                tokens.append(.declare)
            case "=":
                position += 1
                tokens.append(.declare)
            case "\"": tokens.append(.literal(.string(try quotedString())))
            case "`":
                guard let end = find("`", from: position + 1) else { throw failure("unterminated raw quoted string") }
                tokens.append(.literal(.string(String(text[(position + 1)..<end]))))
                position = end + 1
            case "$":
                position += 1
                tokens.append(.variable(word()))
                while position < text.count, text[position] == "." {
                    position += 1
                    tokens.append(.field(word()))
                }
            case ".":
                if position + 1 < text.count, isWordCharacter(text[position + 1]) {
                    while position < text.count, text[position] == "." {
                        position += 1
                        tokens.append(.field(word()))
                    }
                } else {
                    position += 1
                    tokens.append(.dot)
                }
            case _ where character.isNumber || ((character == "-" || character == "+") && position + 1 < text.count && text[position + 1].isNumber):
                tokens.append(.literal(try number()))
            case _ where isWordCharacter(character):
                let name = word()
                switch name {
                case "true": tokens.append(.literal(.bool(true)))
                case "false": tokens.append(.literal(.bool(false)))
                default: tokens.append(.identifier(name))
                }
            default:
                throw failure("unexpected \"\(character)\" in command")
            }
        }
    }

    private func find(_ needle: String, from start: Int) -> Int? {
        let pattern = Array(needle)
        var index = start
        while index + pattern.count <= text.count {
            if Array(text[index..<(index + pattern.count)]) == pattern { return index }
            index += 1
        }
        return nil
    }

    private func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }

    private mutating func word() -> String {
        let start = position
        while position < text.count, isWordCharacter(text[position]) { position += 1 }
        return String(text[start..<position])
    }

    private mutating func quotedString() throws(Failure) -> String {
        position += 1
        var result = ""
        while position < text.count {
            let character = text[position]
            position += 1
            switch character {
            case "\"": return result
            case "\n": throw failure("unterminated quoted string")
            case "\\":
                guard position < text.count else { throw failure("unterminated quoted string") }
                let escaped = text[position]
                position += 1
                switch escaped {
                case "n": result += "\n"
                case "t": result += "\t"
                case "r": result += "\r"
                case "\\", "\"", "'": result.append(escaped)
                default: throw failure("invalid syntax in quoted string")
                }
            default: result.append(character)
            }
        }
        throw failure("unterminated quoted string")
    }

    private mutating func number() throws(Failure) -> AlertTemplate.Value {
        let start = position
        if text[position] == "-" || text[position] == "+" { position += 1 }
        while position < text.count, text[position].isNumber || text[position] == "." || text[position] == "e" || text[position] == "E"
            || ((text[position] == "-" || text[position] == "+") && (text[position - 1] == "e" || text[position - 1] == "E"))
        {
            position += 1
        }
        let literal = String(text[start..<position])
        if let integer = Int(literal) { return .integer(integer) }
        if let float = Double(literal) { return .float(float) }
        throw failure("bad number syntax: \"\(literal)\"")
    }

    // MARK: Pipelines

    private func pipeline(_ tokens: [Token]) throws(Failure) -> AlertTemplate.Pipeline {
        var index = 0
        let result = try pipeline(tokens, &index)
        guard index == tokens.count else { throw failure("unexpected \(describe(tokens[index])) in operand") }
        return result
    }

    private func pipeline(_ tokens: [Token], _ index: inout Int) throws(Failure) -> AlertTemplate.Pipeline {
        var commands: [[AlertTemplate.Operand]] = [[]]
        while index < tokens.count {
            let token = tokens[index]
            switch token {
            case .close: return try finished(commands)
            case .pipe:
                guard !commands[commands.count - 1].isEmpty else { throw failure("missing command") }
                commands.append([])
                index += 1
                continue
            default: break
            }
            commands[commands.count - 1].append(try operand(tokens, &index))
        }
        return try finished(commands)
    }

    private func finished(_ commands: [[AlertTemplate.Operand]]) throws(Failure) -> AlertTemplate.Pipeline {
        guard commands.allSatisfy({ !$0.isEmpty }) else { throw failure("missing value for command") }
        for command in commands.dropFirst() {
            guard case .function = command[0] else { throw failure("non executable command in pipeline stage 2") }
        }
        return AlertTemplate.Pipeline(commands: commands)
    }

    private func operand(_ tokens: [Token], _ index: inout Int) throws(Failure) -> AlertTemplate.Operand {
        let token = tokens[index]
        index += 1
        switch token {
        case .literal(let value): return .literal(value)
        case .dot: return .variable("", fields: [])
        case .field(let first):
            var fields = [first]
            while index < tokens.count, case .field(let name) = tokens[index] {
                fields.append(name)
                index += 1
            }
            return .variable("", fields: fields)
        case .variable(let name):
            guard ["labels", "externalLabels", "externalURL", "value"].contains(name) else {
                throw failure("undefined variable \"$\(name)\"")
            }
            var fields: [String] = []
            while index < tokens.count, case .field(let field) = tokens[index] {
                fields.append(field)
                index += 1
            }
            return .variable(name, fields: fields)
        case .identifier(let name):
            guard TemplateFunctions.names.contains(name) else {
                if Self.prometheusOnlyFunctions.contains(name) {
                    throw failure("function \"\(name)\" is not supported by Lookout's rule evaluator")
                }
                throw failure("function \"\(name)\" not defined")
            }
            return .function(name)
        case .open:
            let inner = try pipeline(tokens, &index)
            guard index < tokens.count, tokens[index] == .close else { throw failure("unclosed left paren") }
            index += 1
            return .pipeline(inner)
        default:
            throw failure("unexpected \(describe(token)) in operand")
        }
    }
}
