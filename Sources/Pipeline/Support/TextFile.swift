#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole text file with plain `open`/`read`: the small files of /proc and /sys (several
/// times cheaper than Foundation for files the kernel rewrites on every read) and Lookout's own
/// configuration, rule and policy files.
package enum TextFile {
    /// A file that could not be read: its path and the system's reason.
    package struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path as given.
        package var path: String
        /// The system's words for the failure, e.g. `No such file or directory`.
        package var reason: String

        /// `cannot read PATH: REASON`.
        package var description: String { "cannot read \(path): \(reason)" }
    }

    /// The whole file as UTF-8 text (invalid bytes repaired), or nil when it does not exist and
    /// `missingIsNil`. A file longer than `maximumBytes`, when given, is an error.
    package static func read(_ path: String, missingIsNil: Bool = false, maximumBytes: Int? = nil) throws(ReadError) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if missingIsNil, code == ENOENT { return nil }
            throw ReadError(path: path, reason: errnoText(code))
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw ReadError(path: path, reason: errnoText(code))
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if let maximumBytes, bytes.count > maximumBytes {
                throw ReadError(path: path, reason: "larger than \(maximumBytes) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The system's text for an errno value, e.g. `No such file or directory`.
    package static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
