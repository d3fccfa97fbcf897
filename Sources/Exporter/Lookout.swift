import ArgumentParser

/// The `lookout` command: a metrics and log exporter for microVM hosts.
@main
struct Lookout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookout",
        abstract: "Metrics and log exporter for hosts that run microVMs.",
        discussion: """
            `lookout serve` exposes node_exporter-compatible host metrics for Prometheus. \
            `lookout check-config FILE` validates a configuration file.
            """,
        version: LookoutVersion.current,
        subcommands: [Serve.self, CheckConfig.self])
}
