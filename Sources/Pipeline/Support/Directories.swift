#if canImport(Glibc)
import Glibc
#endif

/// Directories Lookout writes into (the data directory, the event spool), made on demand.
package enum Directories {
    /// Creates `path` and each missing parent with `mode` (before the umask), as `mkdir -p`
    /// does; true when `path` itself was made now. An error names the component that could not
    /// be made.
    @discardableResult
    package static func create(_ path: String, mode: mode_t) throws(CheckpointFile.Failure) -> Bool {
        let made = try createMissing(path, mode: mode)
        return made.last.map { $0.split(separator: "/") == path.split(separator: "/") } ?? false
    }

    /// As ``create(_:mode:)``, returning the directories it made, outermost first, so that a
    /// start that fails later can take them away again.
    package static func createMissing(_ path: String, mode: mode_t) throws(CheckpointFile.Failure) -> [String] {
        var component = ""
        var made: [String] = []
        for part in path.split(separator: "/") {
            component += (component.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
            if mkdir(component, mode) == 0 {
                made.append(component)
            } else if errno != EEXIST {
                throw CheckpointFile.Failure(description: "cannot create \(component): \(String(cString: strerror(errno)))")
            }
        }
        return made
    }
}
