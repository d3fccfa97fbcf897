import ArgumentParser
import Collectors
import Foundation
import Hummingbird
import Logging
import LookoutSupport
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `lookout serve`: runs the exporter until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve host metrics on the Prometheus endpoint.",
        discussion: """
            Settings come from the embedded defaults, then --config.file, then these flags. \
            Every flag has a YAML key: its name split at the dots (--web.max-requests is web: {max-requests: N}).
            """)

    @OptionGroup var flags: ServeFlags

    func run() async throws {
        let configuration: ExporterConfiguration
        // Directories this start made; a start that fails takes them away again.
        var made: [String] = []
        do {
            configuration = try flags.resolve()
            try Self.checkReadable(configuration)
            made = try Self.prepareDataDirectory(configuration)
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }

        let logger = {
            var logger = Logger(label: "lookout")
            logger.logLevel = configuration.logLevel
            return logger
        }()
        let started = Atomic<Bool>(false)
        do {
            let services = try Daemon.build(configuration, logger: logger) { channel in
                started.store(true, ordering: .releasing)
                logger.info(
                    "listening",
                    metadata: ["address": "\(channel.localAddress?.description ?? configuration.listenAddress)",
                               "telemetry_path": "\(configuration.telemetryPath)",
                               "collectors": "\(configuration.enabledCollectors.joined(separator: ","))"])
            }
            try await Self.run(services + [ShutdownDeadline(gracePeriod: configuration.shutdownGracePeriod, logger: logger)], logger: logger)
        } catch let error as ConfigurationError {
            Self.remove(made)
            printError(error.description)
            throw ExitCode.failure
        } catch {
            if !started.load(ordering: .acquiring) {
                Self.remove(made)
                printError("cannot listen on \(configuration.listenAddress): \(Self.describeListenError(error))")
            } else {
                printError("server stopped: \(error)")
            }
            throw ExitCode.failure
        }
    }

    /// Runs the application in a service group that shuts down gracefully on SIGTERM and SIGINT.
    private static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Fails early, with one line, when procfs cannot be read by the collectors that need it.
    static func checkReadable(_ configuration: ExporterConfiguration) throws(ConfigurationError) {
        guard configuration.enabledSpecs.contains(where: \.readsProcfs) else { return }
        let procfs = configuration.host.paths.procfs
        do {
            _ = try SourceFile.list(procfs)
        } catch {
            let reason = if case .unreadable(_, let reason) = error { reason } else { "\(error)" }
            throw ConfigurationError(
                key: "path.procfs", line: nil, message: "cannot read \(procfs): \(reason); is --path.procfs right?")
        }
    }

    /// Creates the data directory when shipping (checkpoints, dead letters) or the events API
    /// (the event store) needs it; returns the directories it made.
    static func prepareDataDirectory(_ configuration: ExporterConfiguration) throws(ConfigurationError) -> [String] {
        var made: [String] = []
        let ships = !configuration.elasticsearch.urls.isEmpty
        let files = (ships ? [configuration.journalCursorFile, configuration.deadLetterFile] : [])
            + (configuration.eventsTokenFile != nil ? [configuration.dataDirectory + "/pipeline-events.sqlite"] : [])
        for file in files {
            guard let slash = file.lastIndex(of: "/"), slash != file.startIndex else { continue }
            let directory = String(file[..<slash])
            do {
                made += try Directories.createMissing(directory, mode: 0o750)
            } catch {
                remove(made)
                throw ConfigurationError(key: "data.dir", line: nil, message: error.description)
            }
            guard access(directory, W_OK) == 0 else {
                remove(made)
                throw ConfigurationError(key: "data.dir", line: nil, message: "cannot write to \(directory)")
            }
        }
        return made
    }

    /// Removes directories this start made, with what it put in them (an event store opened
    /// before a later check failed), innermost first. Only directories made by this very start
    /// are given, so nothing that was there before is touched.
    static func remove(_ made: [String]) {
        for directory in made.reversed() {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// NIO reports a taken port as an `IOError` whose text ends in the errno description.
    private static func describeListenError(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("Address already in use") { return "address already in use" }
        if text.contains("Permission denied") { return "permission denied" }
        if text.contains("Cannot assign requested address") { return "address not available on this host" }
        return text
    }
}

/// The flags of `lookout serve`, named as node_exporter names them. Every flag is optional so
/// that only the ones given override the configuration file.
struct ServeFlags: ParsableArguments {
    @Option(name: .customLong("config.file"), help: "YAML configuration file (see `lookout check-config`).")
    var configFile: String?

    @Option(name: .customLong("web.listen-address"), help: "Address to listen on (default \(ExporterConfiguration.defaultListenAddress)).")
    var listenAddress: String?

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics (default /metrics).")
    var telemetryPath: String?

    @Option(name: .customLong("web.max-requests"), help: "Maximum scrapes served at once; more get 503. 0 disables the limit (default 40).")
    var maxRequests: Int?

    @Option(name: .customLong("web.read-timeout"), help: "Close a connection that sends nothing this long, mid-headers or between requests (default 5m).")
    var readTimeout: String?

    @Option(name: .customLong("web.max-connections"), help: "Connections open at once; more wait to be accepted (default 512).")
    var maxConnections: String?

    @Flag(name: .customLong("web.disable-exporter-metrics"),
          help: "Leave out the exporter's own process_* metrics, as node_exporter's flag does.")
    var disableExporterMetrics = false

    @Option(name: .customLong("web.config.file"),
            help: "exporter-toolkit web configuration: TLS, basic authentication, headers, rate limit (README, Security).")
    var webConfigFile: String?

    @Option(name: .customLong("web.events-token-file"), help: "File holding the bearer token POST /api/v1/events requires; the events API is off without it.")
    var eventsTokenFile: String?

    @Option(name: .customLong("web.events-max-body-bytes"), help: "Largest POST /api/v1/events body in bytes; larger gets 413 (default 1048576).")
    var eventsMaxBodyBytes: String?

    @Option(name: .customLong("events.spool-dir"), help: "Where lookout run/event spool events the daemon could not take; imported every few seconds (default DATA_DIR/spool).")
    var eventsSpoolDirectory: String?

    @Option(name: .customLong("events.retention"), help: "Delete events received longer ago than this, once shipped, e.g. 30d or 12h; 0 keeps them (default 90d).")
    var eventsRetention: String?

    @Option(name: .customLong("scrape.timeout"), help: "Longest a scrape waits for collectors, e.g. 10s or 500ms (default 10s).")
    var scrapeTimeout: String?

    @Option(name: .customLong("log.level"), help: "Log level: \(LogLevelText.choices) (default info).")
    var logLevel: String?

    @Option(name: .customLong("path.procfs"), help: "procfs mountpoint (default /proc).")
    var procfs: String?

    @Option(name: .customLong("path.sysfs"), help: "sysfs mountpoint (default /sys).")
    var sysfs: String?

    @Option(name: .customLong("path.rootfs"), help: "rootfs mountpoint (default /).")
    var rootfs: String?

    @Option(name: .customLong("path.udev.data"), help: "udev data path, for node_disk_info (default /run/udev/data).")
    var udevData: String?

    @Flag(name: .customLong("collector.disable-defaults"), help: "Run only the collectors enabled with --collector.NAME.")
    var disableDefaults = false

    @Flag(name: .customLong("collector.cpu"), inversion: .prefixedNo, help: collectorSwitchHelp("cpu"))
    var cpu: Bool?
    @Flag(name: .customLong("collector.diskstats"), inversion: .prefixedNo, help: collectorSwitchHelp("diskstats"))
    var diskstats: Bool?
    @Flag(name: .customLong("collector.filefd"), inversion: .prefixedNo, help: collectorSwitchHelp("filefd"))
    var filefd: Bool?
    @Flag(name: .customLong("collector.filesystem"), inversion: .prefixedNo, help: collectorSwitchHelp("filesystem"))
    var filesystem: Bool?
    @Flag(name: .customLong("collector.loadavg"), inversion: .prefixedNo, help: collectorSwitchHelp("loadavg"))
    var loadavg: Bool?
    @Flag(name: .customLong("collector.meminfo"), inversion: .prefixedNo, help: collectorSwitchHelp("meminfo"))
    var meminfo: Bool?
    @Flag(name: .customLong("collector.microvm"), inversion: .prefixedNo, help: collectorSwitchHelp("microvm"))
    var microvm: Bool?
    @Flag(name: .customLong("collector.netdev"), inversion: .prefixedNo, help: collectorSwitchHelp("netdev"))
    var netdev: Bool?
    @Flag(name: .customLong("collector.os"), inversion: .prefixedNo, help: collectorSwitchHelp("os"))
    var os: Bool?
    @Flag(name: .customLong("collector.pressure"), inversion: .prefixedNo, help: collectorSwitchHelp("pressure"))
    var pressure: Bool?
    @Flag(name: .customLong("collector.stat"), inversion: .prefixedNo, help: collectorSwitchHelp("stat"))
    var stat: Bool?
    @Flag(name: .customLong("collector.textfile"), inversion: .prefixedNo, help: collectorSwitchHelp("textfile"))
    var textfile: Bool?
    @Flag(name: .customLong("collector.time"), inversion: .prefixedNo, help: collectorSwitchHelp("time"))
    var time: Bool?
    @Flag(name: .customLong("collector.uname"), inversion: .prefixedNo, help: collectorSwitchHelp("uname"))
    var uname: Bool?

    @Flag(name: .customLong("collector.cpu.guest"), inversion: .prefixedNo, help: collectorOptionHelp("cpu", "guest"))
    var cpuGuest: Bool?

    @Option(name: .customLong("collector.textfile.directory"), help: collectorOptionHelp("textfile", "directory"))
    var textfileDirectories: [String] = []

    @Option(name: .customLong("collector.filesystem.mount-points-exclude"), help: collectorOptionHelp("filesystem", "mount-points-exclude"))
    var mountPointsExclude: String?

    @Option(name: .customLong("collector.filesystem.fs-types-exclude"), help: collectorOptionHelp("filesystem", "fs-types-exclude"))
    var fsTypesExclude: String?

    @Option(name: .customLong("collector.diskstats.device-exclude"), help: collectorOptionHelp("diskstats", "device-exclude"))
    var diskDeviceExclude: String?

    @Option(name: .customLong("collector.microvm.state-dir"), help: collectorOptionHelp("microvm", "state-dir"))
    var microvmStateDirectory: String?

    @Option(name: .customLong("collector.microvm.socket-timeout"), help: collectorOptionHelp("microvm", "socket-timeout"))
    var microvmSocketTimeout: String?

    @Flag(name: .customLong("collector.microvm.netlink"), inversion: .prefixedNo, help: collectorOptionHelp("microvm", "netlink"))
    var microvmNetlink: Bool?

    @Option(name: .customLong("collector.netdev.device-include"), help: collectorOptionHelp("netdev", "device-include"))
    var netDeviceInclude: String?

    @Option(name: .customLong("collector.netdev.device-exclude"), help: collectorOptionHelp("netdev", "device-exclude"))
    var netDeviceExclude: String?

    @OptionGroup var logShipping: LogShippingFlags

    @OptionGroup var ruleFlags: RuleFlags

    /// The per-collector switches given on the command line, by collector name. ArgumentParser
    /// needs each flag spelled out above (their help comes from the catalog);
    /// CollectorFlagsTests holds them to the catalog.
    var collectorChoices: [String: Bool?] {
        ["cpu": cpu, "diskstats": diskstats, "filefd": filefd, "filesystem": filesystem, "loadavg": loadavg,
         "meminfo": meminfo, "microvm": microvm, "netdev": netdev, "os": os, "pressure": pressure, "stat": stat,
         "textfile": textfile, "time": time, "uname": uname]
    }

    /// The collector options given on the command line, as (collector, option, value); each is
    /// stored through its catalog entry (``CollectorOption/set``), which declares what it sets.
    func collectorOptions() throws(ConfigurationError) -> [(collector: String, option: String, value: CollectorOption.Value)] {
        var options: [(collector: String, option: String, value: CollectorOption.Value)] = []
        func add(_ collector: String, _ option: String, _ value: CollectorOption.Value?) {
            if let value { options.append((collector, option, value)) }
        }
        add("cpu", "guest", cpuGuest.map { .boolean($0) })
        add("textfile", "directory", textfileDirectories.isEmpty ? nil : .texts(textfileDirectories))
        add("filesystem", "mount-points-exclude", mountPointsExclude.map { .text($0) })
        add("filesystem", "fs-types-exclude", fsTypesExclude.map { .text($0) })
        add("diskstats", "device-exclude", diskDeviceExclude.map { .text($0) })
        add("microvm", "state-dir", microvmStateDirectory.map { .text($0) })
        if let microvmSocketTimeout {
            add("microvm", "socket-timeout", .duration(try SettingValue.checked(
                microvmSocketTimeout, flag: "--collector.microvm.socket-timeout", SettingValue.duration)))
        }
        add("microvm", "netlink", microvmNetlink.map { .boolean($0) })
        add("netdev", "device-include", netDeviceInclude.map { .text($0) })
        add("netdev", "device-exclude", netDeviceExclude.map { .text($0) })
        return options
    }

    /// Defaults, then the configuration file, then these flags.
    func resolve() throws(ConfigurationError) -> ExporterConfiguration {
        var configuration = ExporterConfiguration()
        if let configFile {
            configuration = try ConfigurationFile.load(path: configFile, onto: configuration)
        }
        if let listenAddress {
            configuration.listenAddress = try SettingValue.checked(listenAddress, flag: "--web.listen-address", SettingValue.listenAddress)
        }
        if let telemetryPath {
            configuration.telemetryPath = try SettingValue.checked(telemetryPath, flag: "--web.telemetry-path", SettingValue.telemetryPath)
        }
        if let maxRequests {
            configuration.maxRequests = try SettingValue.checked(String(maxRequests), flag: "--web.max-requests", SettingValue.maxRequests)
        }
        if let readTimeout { configuration.readTimeout = try SettingValue.checked(readTimeout, flag: "--web.read-timeout", SettingValue.duration) }
        if let maxConnections {
            configuration.maxConnections = try SettingValue.checked(maxConnections, flag: "--web.max-connections", SettingValue.maxConnections)
        }
        if let webConfigFile { configuration.webConfigFile = webConfigFile }
        if disableExporterMetrics { configuration.exporterMetrics = false }
        if let eventsTokenFile { configuration.eventsTokenFile = eventsTokenFile }
        if let eventsMaxBodyBytes {
            configuration.eventsMaxBodyBytes = try SettingValue.checked(
                eventsMaxBodyBytes, flag: "--web.events-max-body-bytes", SettingValue.bodyBytes)
        }
        if let eventsSpoolDirectory { configuration.eventsSpoolDirectory = eventsSpoolDirectory }
        if let eventsRetention {
            configuration.eventsRetention = try SettingValue.checked(eventsRetention, flag: "--events.retention", SettingValue.retention)
        }
        if let scrapeTimeout {
            configuration.scrapeTimeout = try SettingValue.checked(scrapeTimeout, flag: "--scrape.timeout", SettingValue.scrapeTimeout)
        }
        if let logLevel {
            configuration.logLevel = try SettingValue.checked(logLevel, flag: "--log.level", SettingValue.logLevel)
        }
        if let procfs { configuration.host.paths.procfs = procfs }
        if let sysfs { configuration.host.paths.sysfs = sysfs }
        if let rootfs { configuration.host.paths.rootfs = rootfs }
        if let udevData { configuration.host.udevData = udevData }
        if disableDefaults { configuration.disableDefaults = true }
        for (name, choice) in collectorChoices {
            if let choice { configuration.collectorChoices[name] = choice }
        }
        for (collector, option, value) in try collectorOptions() {
            HostCollectors.spec(named: collector)?.option(named: option)?.set(&configuration.host, value)
        }
        try configuration.checkNetdevDevices()
        try configuration.checkMicroVMSocketTimeout()
        try logShipping.apply(to: &configuration)
        try ruleFlags.apply(to: &configuration.rules)
        return configuration
    }
}

/// The help of `--collector.NAME`, from the collector's catalog entry.
private func collectorSwitchHelp(_ name: String) -> ArgumentHelp {
    let enabled = HostCollectors.spec(named: name)?.enabledByDefault ?? false
    return ArgumentHelp("Enable the \(name) collector (default: \(enabled ? "enabled" : "disabled")).")
}

/// The help of `--collector.NAME.OPTION`, from where the option is declared, beside its collector.
private func collectorOptionHelp(_ collector: String, _ option: String) -> ArgumentHelp {
    ArgumentHelp(HostCollectors.spec(named: collector)?.option(named: option)?.help ?? "")
}
