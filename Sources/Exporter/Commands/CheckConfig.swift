import ArgumentParser
import Logging
import LookoutSupport
import MetricModel
import Rules
import Shippers
import YAMLFiles
import Yams

/// `lookout check-config FILE`: validates a configuration file and names the bad key and line.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a Lookout configuration file.",
        discussion: """
            Prints "FILE: OK" and exits 0, or prints one line per problem (FILE:LINE: KEY: what is wrong) and exits 1. \
            The web configuration file (--web.config.file, or the configuration's web.config.file) is checked as \
            `lookout serve` checks it at start: its schema, bcrypt hashes, and that its certificate and key load.
            """)

    @Argument(help: "The YAML configuration file to check.")
    var file: String?

    @Option(name: .customLong("web.config.file"), help: "A web configuration file to check (TLS, basic authentication).")
    var webConfigFile: String?

    func validate() throws {
        guard file != nil || webConfigFile != nil else {
            throw ValidationError("give a configuration file, --web.config.file, or both")
        }
    }

    /// Loads and validates the files, and the files the configuration names; prints every
    /// problem, one line each, and exits 1 when there is any.
    func run() throws {
        var webConfigFile = self.webConfigFile
        var failed = false
        if let file {
            let (configuration, problems) = Self.check(file)
            for problem in problems { printError(problem.description) }
            failed = !problems.isEmpty
            webConfigFile = webConfigFile ?? configuration.webConfigFile
            if problems.isEmpty {
                print("\(file): OK (collectors: \(configuration.enabledCollectors.joined(separator: ", ")))")
            }
        }
        if let webConfigFile {
            do {
                let security = try WebSecurity(path: webConfigFile, errors: ComponentErrors())
                print("\(webConfigFile): OK (\(security.servesTLS ? "TLS" : "plain HTTP"))")
            } catch {
                printError(error.description)
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }

    /// Every problem of the configuration file at `path`: its keys and values, then the files
    /// it names (the events token, Elasticsearch's credentials and TLS material, rule files),
    /// each placed at the line of the key that names it.
    static func check(_ path: String) -> (ExporterConfiguration, [ConfigurationError]) {
        var (configuration, problems) = ConfigurationFile.check(path: path, onto: ExporterConfiguration())
        guard problems.isEmpty else { return (configuration, problems) }
        // The tree once, for the lines of the keys that name files.
        let root = ((try? TextFile.read(path)) ?? nil).flatMap { try? YAMLFile.compose($0) }
        func problem(_ key: String, _ message: String) {
            problems.append(ConfigurationError(key: key, line: ConfigurationFile.line(of: key, in: root), message: message, file: path))
        }
        do {
            _ = try configuration.makeCollectors()
        } catch {
            problem(error.key, error.message)
        }
        if let token = configuration.eventsTokenFile {
            do {
                _ = try SecretFile.read(token, what: "events token")
            } catch {
                problem("web.events-token-file", error.description)
            }
        }
        if !configuration.elasticsearch.urls.isEmpty {
            do {
                _ = try ElasticsearchShipper(settings: configuration.elasticsearch, logger: Logger(label: "check-config"),
                                             errors: ComponentErrors(), stats: ElasticsearchStats())
            } catch {
                problem("elasticsearch", error.description)
            }
        }
        if configuration.rules.evaluates {
            do {
                _ = try RuleEngine.loadGroups(defaults: configuration.rules.defaults, patterns: configuration.rules.files)
            } catch {
                problem("rules.file", error.message)
            }
        }
        return (configuration, problems)
    }
}
