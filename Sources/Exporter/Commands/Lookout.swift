import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The process's entry point: runs the command line on the concurrency pool (detached: `main` is
/// on the main actor, which this thread, waiting, never serves) while the main thread waits, then
/// exits. An `async` main would end the main thread in dispatch_main(3), whose
/// pthread_exit(3) unwinds its stack through the binary's unwind tables: 700 KiB of them stayed
/// in the daemon's RSS for one lookup at start-up.
@main
enum Entry {
    static func main() {
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await Lookout.main()
            finished.signal()
        }
        // Signals go to the threads that wait for them (ServiceLifecycle's handlers); the kernel
        // would otherwise pick this thread first.
        var signals = sigset_t()
        sigfillset(&signals)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        finished.wait()
        exit(0)
    }
}

/// The `lookout` command: a metrics and log exporter for microVM hosts.
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
