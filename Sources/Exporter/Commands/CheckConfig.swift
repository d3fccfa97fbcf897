import ArgumentParser

/// `lookout check-config FILE`: validates a configuration file and names the bad key and line.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a Lookout configuration file.",
        discussion: "Prints \"FILE: OK\" and exits 0, or prints one line per problem (FILE:LINE: KEY: what is wrong) and exits 1.")

    @Argument(help: "The YAML configuration file to check.")
    var file: String

    /// Loads and validates the file; exits 1 after printing the problem.
    func run() throws {
        do {
            let configuration = try ConfigurationFile.load(path: file, onto: ExporterConfiguration())
            _ = try configuration.makeCollectors()
            print("\(file): OK (collectors: \(configuration.enabledCollectors.joined(separator: ", ")))")
        } catch {
            var problem = error
            if problem.file == nil { problem.file = file }
            printError(problem.description)
            throw ExitCode.failure
        }
    }
}
