#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Shell-style file name patterns (`rules/*.yml`), expanded by glob(3) as Go's `filepath.Glob`
/// expands them for promtool's `rule_files` and node_exporter's textfile directories.
package enum Glob {
    /// The existing paths `pattern` matches, sorted; a pattern without wildcards gives itself
    /// when the file exists. Empty when nothing matches or the pattern is malformed.
    package static func paths(matching pattern: String) -> [String] {
        var found = glob_t()
        defer { globfree(&found) }
        guard glob(pattern, 0, nil, &found) == 0 else { return [] }
        return (0..<Int(found.gl_pathc)).compactMap { index in found.gl_pathv[index].map { String(cString: $0) } }
    }
}
