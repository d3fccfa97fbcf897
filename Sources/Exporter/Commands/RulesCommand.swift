import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Rules

/// `lookout rules`: Prometheus rule files, checked and unit-tested the way promtool does.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check and unit-test Prometheus rule files as promtool does.",
        subcommands: [Check.self, Test.self, PrintDefaults.self])

    /// `lookout rules print-defaults`: the default rules compiled into the binary, the file
    /// rules/lookout.rules.yml, to read, check with promtool, or start a rule file from.
    struct PrintDefaults: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print-defaults", abstract: "Print the default alert rules the daemon evaluates.")

        func run() {
            print(DefaultRules.text, terminator: "")
        }
    }

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
                for warning in outcome.warnings { print(warning, to: &standardError) }
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
                let problems = RuleFile.checked(path: file)
                if let groups = problems.groups {
                    print("  SUCCESS: \(groups.reduce(0) { $0 + $1.rules.count }) rules found\n")
                } else {
                    failed = true
                    // Standard output is buffered and standard error is not: flush first, so
                    // that the two interleave as promtool writes them.
                    fflush(nil)
                    var standardError = StandardError()
                    print("  FAILED:", to: &standardError)
                    for line in problems.messages { print(line, to: &standardError) }
                    print("")
                }
            }
            if failed { throw ExitCode.failure }
        }
    }
}
