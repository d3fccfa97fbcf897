/// Why a PromQL expression was refused and where: the line and column within the expression
/// (from 1; columns count characters), and a message worded as Prometheus words it, so that
/// ``description`` reads like Prometheus' own `1:6: parse error: unexpected end of input`. A rule
/// file loader adds the file and the line of the `expr:` key in front.
package struct PromQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line of the problem within the expression, from 1.
    package var line: Int
    /// The column of the problem, from 1.
    package var column: Int
    /// What is wrong, e.g. `unexpected end of input`.
    package var message: String

    /// An error at `line` and `column`.
    package init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line:column: parse error: message`, as Prometheus prints a parse error.
    package var description: String { "\(line):\(column): parse error: \(message)" }
}
