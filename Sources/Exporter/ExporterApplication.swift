import Collectors
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import NIOCore
import Pipeline
import ServiceLifecycle

/// The version `lookout --version` prints and `lookout_build_info` reports.
enum LookoutVersion {
    /// Semantic version of this build.
    static let current = "0.1.0"
}

/// Builds the whole exporter from a configuration: the collectors, the registry and the HTTP
/// application. `lookout serve` runs what this returns; tests call it too.
enum ExporterApplication {
    /// The HTTP application; it is itself a `Service`, ready to go into the service group.
    static func build(
        _ configuration: ExporterConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws(ConfigurationError) -> some ApplicationProtocol {
        let errors = ComponentErrors()
        let collectors = try configuration.makeCollectors(errors: errors) + [BuildInfoCollector()]
        let registry = CollectorRegistry(
            collectors: collectors, parallelism: sysconf(Int32(_SC_NPROCESSORS_ONLN)), errors: errors, logger: logger)
        return try build(configuration, registry: registry, logger: logger, onServerRunning: onServerRunning)
    }

    /// The HTTP application over a given registry; tests pass registries of scripted collectors.
    static func build(
        _ configuration: ExporterConfiguration, registry: CollectorRegistry, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) throws(ConfigurationError) -> some ApplicationProtocol {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: configuration.listenAddress)
        } catch {
            throw ConfigurationError(key: "web.listen-address", line: nil, message: error.message)
        }
        let endpoint = MetricsEndpoint(registry: registry, configuration: configuration, logger: logger)
        return Application(
            router: endpoint.router(),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "lookout"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}

/// Reports `lookout_build_info{version}`, the exporter's own identity, as node_exporter reports
/// `node_exporter_build_info`.
struct BuildInfoCollector: MetricCollector {
    let name = "exporter"

    func collect() -> [MetricFamily] {
        var swiftVersion = "unknown"
        #if compiler(>=6.3)
        swiftVersion = "6.3"
        #elseif compiler(>=6.0)
        swiftVersion = "6"
        #endif
        return [
            MetricFamily(
                name: "lookout_build_info",
                help: "A metric with a constant '1' value labeled by version and the Swift compiler that built lookout.",
                type: .gauge,
                samples: [Sample(labels: [Label("swiftversion", swiftVersion), Label("version", LookoutVersion.current)], value: 1)])
        ]
    }
}
