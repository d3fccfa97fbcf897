import ArgumentParser
import MetricModel

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

    /// Loads and validates the files; exits 1 after printing the problem.
    func run() throws {
        var webConfigFile = self.webConfigFile
        if let file {
            do {
                let configuration = try ConfigurationFile.load(path: file, onto: ExporterConfiguration())
                _ = try configuration.makeCollectors()
                webConfigFile = webConfigFile ?? configuration.webConfigFile
                print("\(file): OK (collectors: \(configuration.enabledCollectors.joined(separator: ", ")))")
            } catch {
                var problem = error
                if problem.file == nil { problem.file = file }
                printError(problem.description)
                throw ExitCode.failure
            }
        }
        if let webConfigFile {
            do {
                let security = try WebSecurity(path: webConfigFile, errors: ComponentErrors())
                print("\(webConfigFile): OK (\(security.servesTLS ? "TLS" : "plain HTTP"))")
            } catch {
                printError(error.description)
                throw ExitCode.failure
            }
        }
    }
}
