import ArgumentParser
import Pipeline

/// `lookout rules`: Prometheus rule files, checked and unit-tested the way promtool does.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check and unit-test Prometheus rule files as promtool does.",
        subcommands: [Check.self, Test.self])

    /// `lookout rules test FILE…`: `promtool test rules`, with its output: per file
    /// `Unit Testing:  FILE`, then `  SUCCESS` on standard output, or `  FAILED:` and each failure
    /// on standard error; exit 1 when any file failed.
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test", abstract: "Run promtool rule unit-test files against Lookout's rule evaluator.")

        @Argument(help: "The unit-test files.")
        var files: [String]

        func run() throws {
            var failed = false
            var standardError = StandardError()
            for file in files {
                print("Unit Testing:  \(file)")
                let outcome = RuleTestRunner.run(path: file)
                if outcome.passed {
                    print("  SUCCESS")
                } else {
                    failed = true
                    print("  FAILED:", to: &standardError)
                    for failure in outcome.failures {
                        print(failure, to: &standardError)
                        print("")
                    }
                }
                print("")
            }
            if failed { throw ExitCode.failure }
        }
    }

    /// `lookout rules check FILE…`: `promtool check rules`, with its output: per file
    /// `Checking FILE` and `  SUCCESS: N rules found` on standard output, or `  FAILED:` and one
    /// line per problem (`FILE: LINE:COLUMN: group "G", rule N, "NAME": could not parse
    /// expression: …`) on standard error; exit 1 when any file failed.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check", abstract: "Check rule files: YAML schema, names, durations, every PromQL expression and template.")

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
                    var templates = rule.labels.map { ("label", $0.key, $0.value) }
                    if case .alert(_, _, _, let annotations) = rule.kind { templates += annotations.map { ("annotation", $0.key, $0.value) } }
                    for (kind, name, text) in templates.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
                        do {
                            _ = try AlertTemplate(text)
                        } catch {
                            messages.append("\(file): group \"\(group.name)\", rule \(number + 1), \"\(rule.name)\": \(kind) \"\(name)\": \(error.message)")
                        }
                    }
                }
            }
            return messages.isEmpty ? (count, []) : (nil, messages)
        }
    }
}
