/// A configuration problem, reported as one line naming the key and, for a file, its line:
/// `lookout.yml:7: web.max-requests: expected a non-negative integer, got "many"`.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The exit status for this problem: 64 (`EX_USAGE`, as ArgumentParser exits for a command
    /// line it cannot parse) when a flag's value is wrong, 1 for a file's or a setting's.
    var exitCode: Int32 { key.hasPrefix("--") ? 64 : 1 }

    /// The dotted key the problem is about, e.g. `collector.textfile.directory`.
    var key: String
    /// The 1-based line in the YAML file, when the setting came from one.
    var line: Int?
    /// What is wrong.
    var message: String
    /// The file the setting came from, if any.
    var file: String? = nil

    /// `FILE:LINE: KEY: message`, leaving out the parts that are unknown.
    var description: String {
        var location = ""
        if let file { location += file + ":" }
        if let line { location += "\(line):" }
        if !location.isEmpty { location += " " }
        return key.isEmpty ? "\(location)\(message)" : "\(location)\(key): \(message)"
    }
}
