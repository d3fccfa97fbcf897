import Collectors
import Logging
import LookoutSupport
import Shippers
import YAMLFiles
import Yams

/// Reads the YAML configuration file. Every flag has a key: the flag's name split at its dots
/// (`--web.listen-address` is `web: {listen-address: …}`); a collector's switch may be written
/// `collector: {cpu: false}` or, beside its options, `collector: {cpu: {enabled: false, guest: true}}`.
/// Unknown keys and wrongly typed values are errors naming the key and its line.
enum ConfigurationFile {
    /// Applies the file at `path` on top of `configuration`; throws its first problem.
    static func load(path: String, onto configuration: ExporterConfiguration) throws(ConfigurationError)
        -> ExporterConfiguration
    {
        let (loaded, problems) = check(path: path, onto: configuration)
        if let first = problems.first { throw first }
        return loaded
    }

    /// The file at `path` applied on top of `configuration` as far as it can be, and every
    /// problem found in it (for `check-config`), each placed in the file.
    static func check(path: String, onto configuration: ExporterConfiguration) -> (ExporterConfiguration, [ConfigurationError]) {
        let text: String
        do {
            text = try TextFile.read(path)!
        } catch {
            return (configuration, [ConfigurationError(key: "", line: nil, message: "cannot read: \(error.reason)", file: path)])
        }
        let (applied, problems) = check(yaml: text, onto: configuration)
        return (applied, problems.map { problem in
            var problem = problem
            problem.file = path
            return problem
        })
    }

    /// Applies YAML text on top of `configuration`; throws its first problem.
    static func apply(yaml text: String, onto configuration: ExporterConfiguration) throws(ConfigurationError)
        -> ExporterConfiguration
    {
        let (applied, problems) = check(yaml: text, onto: configuration)
        if let first = problems.first { throw first }
        return applied
    }

    /// The line of the dotted `key` (`web.events-token-file`) in the YAML tree `root`, when it
    /// is written there; the section's line when only the section is.
    static func line(of key: String, in root: Node?) -> Int? {
        guard var node = root else { return nil }
        var line: Int?
        for part in key.split(separator: ".") {
            guard let pairs = try? YAMLFile.pairs(node), let (_, value) = pairs.first(where: { $0.key == part }) else { break }
            line = YAMLFile.line(value)
            node = value
        }
        return line
    }

    /// YAML text applied on top of `configuration` as far as it can be, and every problem: the
    /// reader goes on past a bad key, so that one run names them all.
    static func check(yaml text: String, onto configuration: ExporterConfiguration) -> (ExporterConfiguration, [ConfigurationError]) {
        let root: Node?
        do {
            root = try YAMLFile.compose(text)
        } catch {
            return (configuration, [ConfigurationError(key: "", line: error.line, message: "invalid YAML: \(error.problem)")])
        }
        guard let root else { return (configuration, []) }  // an empty file changes nothing
        let reader = ConfigurationReader(configuration: configuration)
        reader.collect { () throws(ConfigurationError) in try reader.readRoot(root) }
        return (reader.configuration, reader.problems)
    }
}

/// Walks the YAML tree, checking every key against the known schema.
private final class ConfigurationReader: SettingNodeReader {
    var configuration: ExporterConfiguration
    /// Every problem found; reading goes on past each one, so that all are reported at once.
    var problems: [ConfigurationError] = []

    init(configuration: ExporterConfiguration) {
        self.configuration = configuration
    }

    /// Runs `body`, noting its problem instead of stopping.
    func collect(_ body: () throws(ConfigurationError) -> Void) {
        do {
            try body()
        } catch {
            problems.append(error)
        }
    }

    /// Where the `collector.netdev` block starts, for the include/exclude check.
    var netdevLine: Int? = nil

    func readRoot(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "") {
            collect { () throws(ConfigurationError) in
                switch key {
                case "web": try readWeb(value)
                case "path": try readPath(value)
                case "scrape": try readScrape(value)
                case "log": try readLog(value)
                case "collector": try readCollectors(value)
                case "data": try readData(value)
                case "events": try readEvents(value)
                case "journal": try readJournal(value)
                case "elasticsearch": try readElasticsearch(value)
                case "shutdown": try readShutdown(value)
                case "rules": try readRules(value)
                case "alertmanager": try readAlertmanager(value)
                case "query": try readQuery(value)
                default: throw unknown(key, at: value)
                }
            }
        }
        collect { () throws(ConfigurationError) in try configuration.checkNetdevDevices(line: netdevLine) }
        collect { () throws(ConfigurationError) in try configuration.checkMicroVMSocketTimeout() }
    }

    private func readWeb(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "web") {
            collect { () throws(ConfigurationError) in
                switch key {
                case "listen-address":
                    configuration.listenAddress = try checked(value, key: "web.listen-address", SettingValue.listenAddress)
                case "telemetry-path":
                    configuration.telemetryPath = try checked(value, key: "web.telemetry-path", SettingValue.telemetryPath)
                case "max-requests":
                    configuration.maxRequests = try checked(value, key: "web.max-requests", SettingValue.maxRequests)
                case "read-timeout":
                    configuration.readTimeout = try checked(value, key: "web.read-timeout", SettingValue.duration)
                case "max-connections":
                    configuration.maxConnections = try checked(value, key: "web.max-connections", SettingValue.maxConnections)
                case "disable-exporter-metrics":
                    configuration.exporterMetrics = !(try bool(value, key: "web.disable-exporter-metrics"))
                case "config":
                    for (configKey, configValue) in try mapping(value, key: "web.config") {
                        guard configKey == "file" else { throw unknown("web.config.\(configKey)", at: configValue) }
                        configuration.webConfigFile = try string(configValue, key: "web.config.file")
                    }
                case "events-token-file":
                    configuration.eventsTokenFile = try string(value, key: "web.events-token-file")
                case "events-max-body-bytes":
                    configuration.eventsMaxBodyBytes = try checked(value, key: "web.events-max-body-bytes", SettingValue.bodyBytes)
                case "external-url":
                    configuration.rules.externalURL = try string(value, key: "web.external-url")
                default: throw unknown("web.\(key)", at: value)
                }
            }
        }
    }

    private func readPath(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "path") {
            collect { () throws(ConfigurationError) in
                if key == "udev" {
                    for (udevKey, udevValue) in try mapping(value, key: "path.udev") {
                        guard udevKey == "data" else { throw unknown("path.udev.\(udevKey)", at: udevValue) }
                        configuration.host.udevData = try string(udevValue, key: "path.udev.data")
                    }
                    return
                }
                let path = try string(value, key: "path.\(key)")
                switch key {
                case "procfs": configuration.host.paths.procfs = path
                case "sysfs": configuration.host.paths.sysfs = path
                case "rootfs": configuration.host.paths.rootfs = path
                default: throw unknown("path.\(key)", at: value)
                }
            }
        }
    }

    private func readScrape(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "scrape") {
            collect { () throws(ConfigurationError) in
                switch key {
                case "timeout":
                    configuration.scrapeTimeout = try checked(value, key: "scrape.timeout", SettingValue.scrapeTimeout)
                default: throw unknown("scrape.\(key)", at: value)
                }
            }
        }
    }

    private func readLog(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "log") {
            collect { () throws(ConfigurationError) in
                switch key {
                case "level":
                    configuration.logLevel = try checked(value, key: "log.level", SettingValue.logLevel)
                default: throw unknown("log.\(key)", at: value)
                }
            }
        }
    }

    private func readCollectors(_ node: Node) throws(ConfigurationError) {
        for (name, value) in try mapping(node, key: "collector") {
            collect { () throws(ConfigurationError) in
                if name == "netdev" { netdevLine = YAMLFile.line(value) }
                if name == "disable-defaults" {
                    configuration.disableDefaults = try bool(value, key: "collector.disable-defaults")
                    return
                }
                guard let spec = HostCollectors.spec(named: name) else {
                    throw ConfigurationError(
                        key: "collector.\(name)", line: YAMLFile.line(value),
                        message: "unknown collector; known: \(HostCollectors.names.joined(separator: ", "))")
                }
                if case .scalar = value {
                    configuration.collectorChoices[name] = try bool(value, key: "collector.\(name)")
                    return
                }
                for (optionName, optionValue) in try mapping(value, key: "collector.\(name)") {
                    let key = "collector.\(name).\(optionName)"
                    if optionName == "enabled" {
                        configuration.collectorChoices[name] = try bool(optionValue, key: key)
                        continue
                    }
                    guard let option = spec.option(named: optionName) else { throw unknown(key, at: optionValue) }
                    let read: CollectorOption.Value = switch option.kind {
                    case .boolean: .boolean(try bool(optionValue, key: key))
                    case .text: .text(try string(optionValue, key: key))
                    case .texts: .texts(try strings(optionValue, key: key))
                    case .pattern: .text(try pattern(optionValue, key: key))
                    case .duration: .duration(try checked(optionValue, key: key, SettingValue.duration))
                    }
                    option.set(&configuration.host, read)
                }
            }
        }
    }

    private func readData(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "data") {
            collect { () throws(ConfigurationError) in
                guard key == "dir" else { throw unknown("data.\(key)", at: value) }
                configuration.dataDirectory = try string(value, key: "data.dir")
            }
        }
    }

    private func readEvents(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "events") {
            collect { () throws(ConfigurationError) in
                switch key {
                case "spool-dir": configuration.eventsSpoolDirectory = try string(value, key: "events.spool-dir")
                case "retention": configuration.eventsRetention = try checked(value, key: "events.retention", SettingValue.retention)
                default: throw unknown("events.\(key)", at: value)
                }
            }
        }
    }

    private func readJournal(_ node: Node) throws(ConfigurationError) {
        var directories: [String] = []
        var files: [String] = []
        for (key, value) in try mapping(node, key: "journal") {
            collect { () throws(ConfigurationError) in
                let name = "journal.\(key)"
                switch key {
                case "enabled": configuration.journal.enabled = try bool(value, key: name)
                case "directory": directories = try strings(value, key: name)
                case "file": files = try strings(value, key: name)
                case "match":
                    let terms = try strings(value, key: name)
                    for term in terms { _ = try checked(term, key: name, at: value, SettingValue.journalMatch) }
                    configuration.journal.selection.matches = terms
                case "unit": configuration.journal.selection.units = try strings(value, key: name)
                case "priority":
                    configuration.journal.selection.maximumPriority = try checked(value, key: name, SettingValue.journalPriority)
                case "start":
                    configuration.journal.start = try checked(value, key: name, SettingValue.journalStart)
                case "cursor-file": configuration.journal.cursorFile = try string(value, key: name)
                case "max-units": configuration.journal.maximumUnits = try positive(value, key: name)
                default: throw unknown(name, at: value)
                }
            }
        }
        if !directories.isEmpty && !files.isEmpty {
            throw ConfigurationError(key: "journal.file", line: YAMLFile.line(node), message: "cannot be combined with journal.directory")
        }
        if !directories.isEmpty { configuration.journal.selection.source = .directories(directories) }
        if !files.isEmpty { configuration.journal.selection.source = .files(files) }
    }

    private func readElasticsearch(_ node: Node) throws(ConfigurationError) {
        var settings = configuration.elasticsearch
        var credentialKeys: [String] = []
        for (key, value) in try mapping(node, key: "elasticsearch") {
            collect { () throws(ConfigurationError) in
                let name = "elasticsearch.\(key)"
                switch key {
                case "url": settings.urls = try strings(value, key: name)
                case "index": settings.target = .indexPattern(try string(value, key: name))
                case "data-stream": settings.target = .dataStream(try string(value, key: name))
                case "events-index": configuration.eventsIndex = try string(value, key: name)
                case "basic-auth-file", "api-key-file", "bearer-token-file":
                    let path = try string(value, key: name)
                    settings.credentials = key == "basic-auth-file" ? .basicAuthFile(path)
                        : key == "api-key-file" ? .apiKeyFile(path) : .bearerTokenFile(path)
                    credentialKeys.append(key)
                case "ca-file": settings.tls.caFile = try string(value, key: name)
                case "cert-file": settings.tls.clientCertificateFile = try string(value, key: name)
                case "key-file": settings.tls.clientKeyFile = try string(value, key: name)
                case "insecure-skip-verify": settings.tls.insecureSkipVerify = try bool(value, key: name)
                case "gzip": settings.gzip = try bool(value, key: name)
                case "install-template": settings.installTemplate = try bool(value, key: name)
                case "timeout": settings.requestTimeout = try checked(value, key: name, SettingValue.duration)
                case "dead-letter-file": settings.deadLetterPath = try string(value, key: name)
                case "backoff-initial": settings.backoffInitial = try checked(value, key: name, SettingValue.duration)
                case "backoff-max": settings.backoffMax = try checked(value, key: name, SettingValue.duration)
                case "batch-size": configuration.batchLimits.maximumDocuments = try positive(value, key: name)
                case "batch-bytes": configuration.batchLimits.maximumBytes = try positive(value, key: name)
                case "flush-interval": configuration.batchLimits.flushInterval = try checked(value, key: name, SettingValue.duration)
                case "concurrency": configuration.deliveryConcurrency = try positive(value, key: name)
                default: throw unknown(name, at: value)
                }
            }
        }
        if credentialKeys.count > 1 {
            throw ConfigurationError(key: "elasticsearch", line: YAMLFile.line(node),
                                     message: "give one of \(credentialKeys.joined(separator: ", ")), not several")
        }
        configuration.elasticsearch = settings
    }

    private func readShutdown(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "shutdown") {
            collect { () throws(ConfigurationError) in
                guard key == "grace-period" else { throw unknown("shutdown.\(key)", at: value) }
                configuration.shutdownGracePeriod = try checked(value, key: "shutdown.grace-period", SettingValue.duration)
            }
        }
    }

    private func readRules(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "rules") {
            collect { () throws(ConfigurationError) in
                let name = "rules.\(key)"
                switch key {
                case "file": configuration.rules.files = try strings(value, key: name)
                case "defaults": configuration.rules.defaults = try bool(value, key: name)
                case "evaluation-interval": configuration.rules.evaluationInterval = try checked(value, key: name, SettingValue.duration)
                case "history-retention": configuration.rules.historyRetention = try checked(value, key: name, SettingValue.duration)
                default: throw unknown(name, at: value)
                }
            }
        }
        try configuration.rules.check(line: YAMLFile.line(node))
    }

    private func readQuery(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "query") {
            collect { () throws(ConfigurationError) in
                let name = "query.\(key)"
                switch key {
                case "timeout": configuration.rules.queryTimeout = try checked(value, key: name, SettingValue.duration)
                case "max-concurrency": configuration.rules.queryMaxConcurrency = try checked(value, key: name, SettingValue.queryConcurrency)
                case "max-samples": configuration.rules.queryMaxSamples = try checked(value, key: name, SettingValue.querySamples)
                default: throw unknown(name, at: value)
                }
            }
        }
    }

    private func readAlertmanager(_ node: Node) throws(ConfigurationError) {
        for (key, value) in try mapping(node, key: "alertmanager") {
            collect { () throws(ConfigurationError) in
                let name = "alertmanager.\(key)"
                switch key {
                case "url": configuration.rules.alertmanagerURLs = try strings(value, key: name)
                case "resend-delay": configuration.rules.resendDelay = try checked(value, key: name, SettingValue.duration)
                case "timeout": configuration.rules.alertmanagerTimeout = try checked(value, key: name, SettingValue.duration)
                default: throw unknown(name, at: value)
                }
            }
        }
        try configuration.rules.check(line: YAMLFile.line(node))
    }

    // MARK: Typed values

    private func positive(_ node: Node, key: String) throws(ConfigurationError) -> Int {
        let text = try string(node, key: key)
        guard let value = Int(text), value > 0 else {
            throw ConfigurationError(key: key, line: YAMLFile.line(node), message: "expected a whole number of at least 1, got \"\(text)\"")
        }
        return value
    }

    private func pattern(_ node: Node, key: String) throws(ConfigurationError) -> String {
        let text = try string(node, key: key)
        do {
            _ = try RE2Regex(text)
        } catch {
            throw ConfigurationError(key: key, line: YAMLFile.line(node), message: error.description)
        }
        return text
    }
}
