import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// The `lookout` command: a metrics and log exporter for microVM hosts.
@main
struct Lookout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookout",
        abstract: "Metrics and log exporter for hosts that run microVMs.",
        discussion: """
            `lookout serve` exposes node_exporter-compatible host metrics for Prometheus. \
            `lookout event TYPE …` and `lookout run … -- CMD` report pipeline events to it, `lookout summary` \
            shows what it sees. \
            `lookout check-config FILE` validates a configuration file.
            """,
        version: LookoutVersion.current,
        subcommands: [Serve.self, JournalCommand.self, EventCommand.self, RunCommand.self, SummaryCommand.self, RulesCommand.self, GateCommand.self, CheckConfig.self])

    /// Runs the command line like ArgumentParser's own `main`, except that a usage error is one
    /// line on standard error (`lookout: error: …`) instead of a message plus the usage text.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version: their usual output
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty { printError("\(message) (see lookout --help)") }
            Glibc.exit(code.rawValue)
        }
    }
}
