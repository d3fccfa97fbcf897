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
        var component = ""
        var createdLast = false
        for part in path.split(separator: "/") {
            component += (component.isEmpty && !path.hasPrefix("/") ? "" : "/") + part
            createdLast = mkdir(component, mode) == 0
            if !createdLast && errno != EEXIST {
                throw CheckpointFile.Failure(description: "cannot create \(component): \(String(cString: strerror(errno)))")
            }
        }
        return createdLast
    }
}
