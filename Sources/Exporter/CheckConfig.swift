import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

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

/// Writes one line to standard error, prefixed like every Lookout user-facing error.
func printError(_ line: String) {
    var standardError = StandardError()
    print("lookout: error: \(line)", to: &standardError)
}

/// Prints `lookout: warning: LINE` on standard error.
func printWarning(_ line: String) {
    var standardError = StandardError()
    print("lookout: warning: \(line)", to: &standardError)
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    /// Writes `string` to file descriptor 2, unbuffered.
    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
