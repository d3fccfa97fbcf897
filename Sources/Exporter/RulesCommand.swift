import ArgumentParser
import Pipeline

/// `lookout rules`: Prometheus rule files, checked (and, as issue 6 goes on, unit-tested) the
/// way promtool does.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check Prometheus rule files as promtool does.",
        subcommands: [Check.self])

    /// `lookout rules check FILE…`: `promtool check rules`, with its output: per file
    /// `Checking FILE` and `  SUCCESS: N rules found` on standard output, or `  FAILED:` and one
    /// line per problem (`FILE: LINE:COLUMN: group "G", rule N, "NAME": could not parse
    /// expression: …`) on standard error; exit 1 when any file failed.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Check rule files: YAML schema, names, durations and every PromQL expression.")

        @Argument(help: "The rule files.")
        var files: [String]

        func run() throws {
            var failed = false
            for file in files {
                print("Checking \(file)")
                let problems = Self.problems(in: file)
                if let count = problems.rules {
                    print("  SUCCESS: \(count) rules found\n")
                } else {
                    failed = true
                    print("")
                    var standardError = StandardError()
                    print("  FAILED:", to: &standardError)
                    for line in problems.messages { print(line, to: &standardError) }
                }
            }
            if failed { throw ExitCode.failure }
        }

        /// The number of rules in `file` when it is good, else the messages saying why not.
        static func problems(in file: String) -> (rules: Int?, messages: [String]) {
            let groups: [RuleGroup]
            do {
                groups = try RuleFile.load(path: file)
            } catch {
                return (nil, ["\(error)"])
            }
            var messages: [String] = []
            var count = 0
            for group in groups {
                for (number, rule) in group.rules.enumerated() {
                    count += 1
                    do {
                        _ = try PromQLExpression.parse(rule.expression)
                    } catch {
                        let position = [rule.expressionLine, rule.expressionColumn].compactMap { $0.map(String.init) }.joined(separator: ":")
                        messages.append("\(file): \(position): group \"\(group.name)\", rule \(number + 1), \"\(rule.name)\": could not parse expression: \(error)")
                    }
                }
            }
            return messages.isEmpty ? (count, []) : (nil, messages)
        }
    }
}
