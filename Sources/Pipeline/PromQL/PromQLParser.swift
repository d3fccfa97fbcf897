import LookoutSupport

/// The parser behind ``PromQLExpression/parse(_:)``: precedence climbing over
/// prometheus `promql/parser/generated_parser.y`, with its checks (`parse.go` `checkAST`).
///
/// As in Prometheus, syntax errors win over type errors: each node carries the first type error
/// of its subtree, in the order `checkAST` would find it, and that is thrown only once the whole
/// input has parsed, so `rate(x) +` reports the missing operand.
///
/// Hostile input is bounded: the tree may be at most ``PromQLExpression/maximumDepth`` levels
/// high (however it grows: nesting, or a long chain like `1+1+…+1`) and hold at most
/// ``PromQLExpression/maximumNodes`` nodes, so that every later walk over it (type, hashing,
/// printing, evaluation) recurses a bounded depth; and parsing is linear in the input, each node
/// carrying its type, height and size instead of recomputing them from its subtree.
struct PromQLParser {
    private let bytes: [UInt8]
    private var lexer: PromQLLexer
    private var lookahead: [PromQLToken] = []
    private var depth = 0

    /// A type error found while parsing; its line and column are worked out only if it is
    /// thrown.
    private struct TypeProblem {
        var message: String
        var offset: Int
    }

    /// An expression with the offset of its first byte, where errors about it point, the first
    /// type error within it, and its type, height and node count.
    private struct Node {
        let expression: PromQLExpression
        let start: Int
        let typeError: TypeProblem?
        let type: PromQLValueType
        let height: Int
        let size: Int

        /// A node over `children` (the operands or arguments it was built from, in order).
        init(expression: PromQLExpression, start: Int, typeError: TypeProblem? = nil, children: [Node] = []) {
            self.expression = expression
            self.start = start
            self.typeError = typeError
            height = 1 + (children.map(\.height).max() ?? 0)
            size = children.reduce(1) { $0 + $1.size }
            switch expression {
            case .binary: type = children[0].type == .scalar && children[1].type == .scalar ? .scalar : .instantVector
            case .unary, .parenthesized: type = children[0].type
            // The other kinds' types do not depend on their subtrees.
            default: type = expression.valueType
            }
        }
    }

    init(text: String) {
        bytes = Array(text.utf8)
        lexer = PromQLLexer(bytes: bytes)
    }

    mutating func parseWholeInput() throws(PromQLError) -> PromQLExpression {
        if peek().kind == .end { throw error("no expression found in input", at: 0) }
        let node = try expression(minimumPrecedence: 1)
        let next = peek()
        if next.kind != .end { throw unexpected(next) }
        if let typeError = node.typeError { throw error(typeError.message, at: typeError.offset) }
        return node.expression
    }

    // MARK: Tokens and errors

    private mutating func peek(_ ahead: Int = 0) -> PromQLToken {
        while lookahead.count <= ahead { lookahead.append(lexer.next()) }
        return lookahead[ahead]
    }

    @discardableResult
    private mutating func advance() -> PromQLToken {
        let token = peek()
        lookahead.removeFirst()
        return token
    }

    private func isKeyword(_ token: PromQLToken, _ words: String...) -> Bool {
        token.kind == .keyword && words.contains(token.text.lowercased())
    }

    private func error(_ message: String, at offset: Int) -> PromQLError {
        let (line, column) = lineAndColumn(of: offset, in: bytes)
        return PromQLError(line: line, column: column, message: message)
    }

    /// Prometheus' `unexpected <token> in <context>, expected <what>`; a lexer error as itself.
    private func unexpected(_ token: PromQLToken, in context: String? = nil, expected: String? = nil) -> PromQLError {
        if case .error(let message) = token.kind { return error(message, at: token.offset) }
        var message = "unexpected " + token.promQLDescription
        if let context { message += " in " + context }
        if let expected { message += ", expected " + expected }
        return error(message, at: token.offset)
    }

    // MARK: Operators

    private mutating func expression(minimumPrecedence: Int) throws(PromQLError) -> Node {
        // Every recursion passes through here; bound it so that hostile input cannot exhaust the stack.
        depth += 1
        defer { depth -= 1 }
        if depth > PromQLExpression.maximumDepth {
            throw error("expression nested too deeply (more than \(PromQLExpression.maximumDepth) levels)", at: peek().offset)
        }
        var left = try bounded(try unary())
        while case .binaryOperator(let op) = peek().kind, op.precedence >= minimumPrecedence {
            let operatorOffset = advance().offset
            let matching = try binaryModifiers()
            // `^` is right-associative; all others are left-associative.
            let right = try expression(minimumPrecedence: op == .power ? op.precedence : op.precedence + 1)
            left = try bounded(binary(op, left, right, matching, operatorOffset: operatorOffset))
        }
        return left
    }

    /// The node, if the tree it tops is within the limits on height and size.
    private func bounded(_ node: Node) throws(PromQLError) -> Node {
        if node.height > PromQLExpression.maximumDepth {
            throw error("expression nested too deeply (more than \(PromQLExpression.maximumDepth) levels)", at: node.start)
        }
        if node.size > PromQLExpression.maximumNodes {
            throw error("expression too large (more than \(PromQLExpression.maximumNodes) nodes)", at: node.start)
        }
        return node
    }

    /// A sign binds like `*` (`generated_parser.y`: `unary_op expr %prec MUL`), so `-a ^ b` is
    /// `-(a ^ b)` and `-a * b` is `(-a) * b`; on a number literal it becomes the number's sign.
    private mutating func unary() throws(PromQLError) -> Node {
        guard case .binaryOperator(let op) = peek().kind, op == .add || op == .subtract else {
            return try postfix(primary())
        }
        let start = advance().offset
        let operand = try expression(minimumPrecedence: PromQLBinaryOperator.power.precedence)
        if case .number(let value) = operand.expression {
            return Node(expression: .number(op == .subtract ? -value : value), start: start)
        }
        var typeError = operand.typeError
        if typeError == nil && operand.type != .scalar && operand.type != .instantVector {
            typeError = TypeProblem(message: "unary expression only allowed on expressions of type scalar or instant vector, got \"\(operand.type.rawValue)\"", offset: start)
        }
        return Node(expression: .unary(negated: op == .subtract, operand.expression), start: start, typeError: typeError, children: [operand])
    }

    private mutating func binaryModifiers() throws(PromQLError) -> PromQLVectorMatching {
        var matching = PromQLVectorMatching.none
        if isKeyword(peek(), "bool") {
            advance()
            matching.returnsBool = true
        }
        guard isKeyword(peek(), "on", "ignoring") else { return matching }
        matching.on = advance().text.lowercased() == "on"
        matching.matchingLabels = try groupingLabels()
        guard isKeyword(peek(), "group_left", "group_right") else { return matching }
        let left = advance().text.lowercased() == "group_left"
        let include = peek().kind == .leftParen ? try groupingLabels() : []
        matching.cardinality = left ? .manyToOne(include: include) : .oneToMany(include: include)
        return matching
    }

    private func binary(
        _ op: PromQLBinaryOperator, _ left: Node, _ right: Node, _ matching: PromQLVectorMatching, operatorOffset: Int
    ) -> Node {
        let start = left.start
        // In `checkAST` order: the operands, then this operation.
        var typeErrors = [left.typeError, right.typeError].compactMap { $0 }
        func typeError(_ message: String, at offset: Int) { typeErrors.append(TypeProblem(message: message, offset: offset)) }
        if matching.returnsBool && !op.isComparison {
            typeError("bool modifier can only be used on comparison operators", at: operatorOffset)
        }
        if op.isComparison && !matching.returnsBool && left.type == .scalar && right.type == .scalar {
            typeError("comparisons between scalars must use BOOL modifier", at: operatorOffset)
        }
        if matching.on {
            let include: [String]
            switch matching.cardinality {
            case .oneToOne: include = []
            case .manyToOne(let labels), .oneToMany(let labels): include = labels
            }
            for label in matching.matchingLabels where include.contains(label) {
                typeError("label \(quotedPromQLString(label)) must not occur in ON and GROUP clause at once", at: operatorOffset)
            }
        }
        for side in [left, right] where side.type != .scalar && side.type != .instantVector {
            typeError("binary expression must contain only scalar and instant vector types", at: side.start)
        }
        if left.type != .instantVector || right.type != .instantVector {
            if !matching.matchingLabels.isEmpty { typeError("vector matching only allowed between instant vectors", at: start) }
        } else if op.isSetOperator && matching.cardinality != .oneToOne {
            typeError("no grouping allowed for \"\(op.rawValue)\" operation", at: start)
        }
        if (left.type == .scalar || right.type == .scalar) && op.isSetOperator {
            typeError("set operator \"\(op.rawValue)\" not allowed in binary scalar expression", at: start)
        }
        return Node(expression: .binary(op, left.expression, right.expression, matching), start: start, typeError: typeErrors.first,
                    children: [left, right])
    }

    // MARK: Operands

    private mutating func primary() throws(PromQLError) -> Node {
        let token = peek()
        switch token.kind {
        case .number:
            advance()
            return Node(expression: .number(try number(token)), start: token.offset)
        case .string:
            advance()
            return Node(expression: .string(unquote(token.text)), start: token.offset)
        case .leftParen:
            advance()
            let inner = try expression(minimumPrecedence: 1)
            let close = advance()
            guard close.kind == .rightParen else { throw unexpected(close) }
            return Node(expression: .parenthesized(inner.expression), start: token.offset, typeError: inner.typeError, children: [inner])
        case .leftBrace:
            return try selector(named: nil, start: token.offset)
        case .identifier:
            advance()
            if peek().kind == .leftParen { return try call(token) }
            return try selector(named: token.text, start: token.offset)
        case .aggregator:
            advance()
            if peek().kind == .leftParen || isKeyword(peek(), "by", "without") { return try aggregation(token) }
            return try selector(named: token.text, start: token.offset)
        // `generated_parser.y` `metric_identifier`: these keywords may also name a metric.
        case .keyword where isKeyword(token, "by", "without", "offset"):
            advance()
            return try selector(named: token.text, start: token.offset)
        case .metricIdentifier, .binaryOperator(.and), .binaryOperator(.or), .binaryOperator(.unless):
            advance()
            return try selector(named: token.text, start: token.offset)
        default:
            throw unexpected(token)
        }
    }

    /// Range brackets, `offset` and `@` after an operand; they bind tighter than any operator.
    private mutating func postfix(_ operand: Node) throws(PromQLError) -> Node {
        var node = operand
        while true {
            let token = peek()
            if token.kind == .leftBracket {
                advance()
                let durationToken = advance()
                guard durationToken.kind == .duration else { throw unexpected(durationToken, in: "subquery selector", expected: "duration") }
                let range = try duration(durationToken)
                let close = advance()
                if close.kind == .colon { throw error("subqueries are not supported", at: token.offset) }
                guard close.kind == .rightBracket else { throw unexpected(close, in: "subquery or range", expected: "\":\" or \"]\"") }
                guard case .vectorSelector(let selector) = node.expression else {
                    throw error("ranges only allowed for vector selectors", at: token.offset)
                }
                if selector.offset != .zero { throw error("no offset modifiers allowed before range", at: token.offset) }
                node = Node(expression: .rangeSelector(selector, range: range), start: node.start, typeError: node.typeError)
            } else if isKeyword(token, "offset") {
                advance()
                let negative = peek().kind == .binaryOperator(.subtract)
                if negative { advance() }
                let durationToken = advance()
                guard durationToken.kind == .duration else { throw unexpected(durationToken, in: "offset", expected: "duration") }
                var offset = try duration(durationToken)
                if negative { offset.milliseconds = -offset.milliseconds }
                node = Node(expression: try shifted(node, by: offset), start: node.start, typeError: node.typeError)
            } else if token.kind == .at {
                throw error("@ modifier is not supported", at: token.offset)
            } else {
                return node
            }
        }
    }

    private func shifted(_ node: Node, by offset: PromQLDuration) throws(PromQLError) -> PromQLExpression {
        switch node.expression {
        case .vectorSelector(var selector), .rangeSelector(var selector, _):
            if selector.offset != .zero { throw error("offset may not be set multiple times", at: node.start) }
            selector.offset = offset
            if case .rangeSelector(_, let range) = node.expression { return .rangeSelector(selector, range: range) }
            return .vectorSelector(selector)
        default:
            throw error("offset modifier must be preceded by an instant vector selector or range vector selector or a subquery", at: node.start)
        }
    }

    private mutating func selector(named name: String?, start: Int) throws(PromQLError) -> Node {
        var matchers: [PromQLMatcher] = []
        if peek().kind == .leftBrace {
            advance()
            while true {
                let label = advance()
                if label.kind == .rightBrace { break }
                guard label.kind == .identifier else { throw unexpected(label, in: "label matching", expected: "identifier or \"}\"") }
                let op = advance()
                guard case .matchOperator(let operation) = op.kind else {
                    throw unexpected(op, in: "label matching", expected: "label matching operator")
                }
                let value = advance()
                guard value.kind == .string else { throw unexpected(value, in: "label matching", expected: "string") }
                let matcher = PromQLMatcher(label.text, operation, unquote(value.text))
                if operation == .matchesRegex || operation == .doesNotMatchRegex {
                    // Prometheus compiles a matcher's expression while parsing; a bad one is a
                    // parse error at the label.
                    do {
                        _ = try RE2Regex.anchored(matcher.value)
                    } catch {
                        throw self.error(error.description, at: label.offset)
                    }
                }
                matchers.append(matcher)
                let separator = advance()
                if separator.kind == .rightBrace { break }
                guard separator.kind == .comma else { throw unexpected(separator, in: "label matching", expected: "\",\" or \"}\"") }
            }
        }
        var typeError: TypeProblem?
        if let name {
            if let named = matchers.first(where: { $0.label == "__name__" }) {
                typeError = TypeProblem(message: "metric name must not be set twice: \(quotedPromQLString(name)) or \(quotedPromQLString(named.value))", offset: start)
            }
        } else if matchers.allSatisfy(\.matchesEmptyValue) {
            typeError = TypeProblem(message: "vector selector must contain at least one non-empty matcher", offset: start)
        }
        return Node(expression: .vectorSelector(PromQLSelector(metricName: name, matchers: matchers)), start: start, typeError: typeError)
    }

    /// The arguments of a call or aggregation, from its `(` to its `)`.
    private mutating func arguments() throws(PromQLError) -> [Node] {
        let open = advance()
        guard open.kind == .leftParen else { throw unexpected(open, in: "aggregation") }
        var nodes: [Node] = []
        if peek().kind == .rightParen {
            advance()
            return nodes
        }
        while true {
            nodes.append(try expression(minimumPrecedence: 1))
            let separator = advance()
            if separator.kind == .rightParen { return nodes }
            guard separator.kind == .comma else { throw unexpected(separator) }
            if peek().kind == .rightParen { throw error("trailing commas not allowed in function call args", at: separator.offset) }
        }
    }

    private mutating func call(_ nameToken: PromQLToken) throws(PromQLError) -> Node {
        let arguments = try arguments()
        let name = nameToken.text
        guard let function = PromQLFunction.named(name) else {
            if PromQLFunction.unsupportedPrometheusNames.contains(name) {
                throw error("function \(quotedPromQLString(name)) is not supported", at: nameToken.offset)
            }
            throw error("unknown function with name \(quotedPromQLString(name))", at: nameToken.offset)
        }
        let required = function.argumentTypes.count - function.optionalArgumentCount
        let quotedName = quotedPromQLString(name)
        // In `checkAST` order: the argument count, then each argument and its type.
        var typeErrors: [TypeProblem] = []
        func typeError(_ message: String, at offset: Int) { typeErrors.append(TypeProblem(message: message, offset: offset)) }
        if function.optionalArgumentCount == 0 {
            if arguments.count != required {
                typeError("expected \(required) argument(s) in call to \(quotedName), got \(arguments.count)", at: nameToken.offset)
            }
        } else if arguments.count < required {
            typeError("expected at least \(required) argument(s) in call to \(quotedName), got \(arguments.count)", at: nameToken.offset)
        } else if arguments.count > function.argumentTypes.count {
            typeError("expected at most \(function.argumentTypes.count) argument(s) in call to \(quotedName), got \(arguments.count)", at: nameToken.offset)
        }
        for (argument, expected) in zip(arguments, function.argumentTypes) {
            typeErrors += [argument.typeError].compactMap { $0 }
            if argument.type != expected {
                typeError("expected type \(expected.rawValue) in call to function \(quotedName), got \(argument.type.rawValue)", at: argument.start)
            }
        }
        return Node(expression: .call(function, arguments.map(\.expression)), start: nameToken.offset, typeError: typeErrors.first,
                    children: arguments)
    }

    private mutating func aggregation(_ opToken: PromQLToken) throws(PromQLError) -> Node {
        let op = PromQLAggregation.Operator(rawValue: opToken.text.lowercased())!
        var grouping = try aggregationGrouping()
        let arguments = try arguments()
        if grouping == nil { grouping = try aggregationGrouping() }
        if arguments.isEmpty { throw error("no arguments for aggregate expression provided", at: opToken.offset) }
        let expected = op.parameterType == nil ? 1 : 2
        if arguments.count != expected {
            throw error("wrong number of arguments for aggregate expression provided, expected \(expected), got \(arguments.count)", at: opToken.offset)
        }
        let vector = arguments[expected - 1]
        // In `checkAST` order: the vector and its type, then the parameter and its type.
        var typeErrors = [vector.typeError].compactMap { $0 }
        if vector.type != .instantVector {
            typeErrors.append(TypeProblem(message: "expected type instant vector in aggregation expression, got \(vector.type.rawValue)", offset: vector.start))
        }
        if let parameterType = op.parameterType {
            typeErrors += [arguments[0].typeError].compactMap { $0 }
            if arguments[0].type != parameterType {
                typeErrors.append(TypeProblem(message: "expected type \(parameterType.rawValue) in aggregation parameter, got \(arguments[0].type.rawValue)", offset: arguments[0].start))
            }
        }
        let aggregation = PromQLAggregation(
            op, grouping: grouping ?? .by([]), parameter: expected == 2 ? arguments[0].expression : nil, vector.expression)
        return Node(expression: .aggregation(aggregation), start: opToken.offset, typeError: typeErrors.first, children: arguments)
    }

    /// `by (…)` or `without (…)` if one comes next.
    private mutating func aggregationGrouping() throws(PromQLError) -> PromQLAggregation.Grouping? {
        guard isKeyword(peek(), "by", "without") else { return nil }
        let by = advance().text.lowercased() == "by"
        let labels = try groupingLabels()
        return by ? .by(labels) : .without(labels)
    }

    /// `(label, …)` after `by`, `without`, `on`, `ignoring`, `group_left` or `group_right`; a
    /// trailing comma is allowed, and keywords are label names here.
    private mutating func groupingLabels() throws(PromQLError) -> [String] {
        let open = advance()
        guard open.kind == .leftParen else { throw unexpected(open, in: "grouping opts", expected: "\"(\"") }
        var labels: [String] = []
        while true {
            let label = advance()
            if label.kind == .rightParen { return labels }
            switch label.kind {
            case .identifier, .keyword, .aggregator, .binaryOperator(.and), .binaryOperator(.or), .binaryOperator(.unless), .binaryOperator(.atan2):
                labels.append(label.text)
            default:
                throw unexpected(label, in: "grouping opts", expected: "label")
            }
            let separator = advance()
            if separator.kind == .rightParen { return labels }
            guard separator.kind == .comma else { throw unexpected(separator, in: "grouping opts", expected: "\",\" or \")\"") }
        }
    }

    // MARK: Literals

    /// A number as Prometheus reads it: Go's `strconv.ParseInt(s, 0, 64)` first (so `0x1F` is
    /// hexadecimal and `010` octal), then `strconv.ParseFloat`.
    private func number(_ token: PromQLToken) throws(PromQLError) -> Double {
        switch token.text.lowercased() {
        case "inf": return .infinity
        case "nan": return .nan
        default: break
        }
        let digits = token.text.filter { $0 != "_" }
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            if let value = Int64(digits.dropFirst(2), radix: 16) { return Double(value) }
            throw error("error parsing number: strconv.ParseFloat: parsing \(quotedPromQLString(token.text)): invalid syntax", at: token.offset)
        }
        if digits.count > 1, digits.hasPrefix("0"), let value = Int64(digits, radix: 8) { return Double(value) }
        if let value = Int64(digits) { return Double(value) }
        guard let value = Double(digits), value.isFinite else {
            throw error("error parsing number: strconv.ParseFloat: parsing \(quotedPromQLString(token.text)): value out of range", at: token.offset)
        }
        return value
    }

    /// A duration as prometheus/common `model.ParseDuration` reads it (`PrometheusDuration`).
    private func duration(_ token: PromQLToken) throws(PromQLError) -> PromQLDuration {
        do {
            return PromQLDuration(milliseconds: try PrometheusDuration.parse(token.text))
        } catch .outOfRange {
            throw self.error("duration out of range", at: token.offset)
        } catch {
            throw self.error("not a valid duration string: \(quotedPromQLString(token.text))", at: token.offset)
        }
    }
}

extension PromQLMatcher {
    /// Whether a series without the label (an empty value) matches. The parser has refused
    /// expressions that do not compile before it asks.
    var matchesEmptyValue: Bool {
        switch operation {
        case .equal: return value.isEmpty
        case .notEqual: return !value.isEmpty
        case .matchesRegex, .doesNotMatchRegex:
            guard let regex = try? RE2Regex.anchored(value) else { return operation == .doesNotMatchRegex }
            let matches = regex.matches("")
            return operation == .matchesRegex ? matches : !matches
        }
    }
}
