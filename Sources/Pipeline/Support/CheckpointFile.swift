#if canImport(Glibc)
import Glibc
#endif

/// A position saved so that it survives a crash at any instant: written to a temporary file in
/// the same directory, fsynced, renamed over the old one, and the directory fsynced, so a reader
/// finds either the old position or the new one, never a torn or empty file.
package struct CheckpointFile: Sendable {
    /// Why a checkpoint could not be read or written, with the path and the system's reason.
    package struct Failure: Error, CustomStringConvertible {
        /// One line naming the file and the problem.
        package var description: String
    }

    /// Where the checkpoint lives.
    package let path: String
    /// The permission bits a saved file gets (before the umask).
    package let mode: mode_t

    /// A checkpoint at `path`, saved with permissions `mode` (default owner-only); nothing is
    /// read or written until asked.
    package init(path: String, mode: mode_t = 0o600) {
        self.path = path
        self.mode = mode
    }

    /// The saved position, or nil when none was ever saved. An empty file counts as none.
    package func load() throws(Failure) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw Failure(description: "cannot read checkpoint \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot read checkpoint \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Replaces the saved position with `position`, durably.
    package func save(_ position: String) throws(Failure) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("create", temporary) }
        var bytes = Array((position + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                close(descriptor)
                throw error
            }
            written += count
        }
        bytes.removeAll()
        if fsync(descriptor) != 0 {
            let error = failure("fsync", temporary)
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw failure("rename onto", path) }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private func failure(_ operation: String, _ file: String) -> Failure {
        Failure(description: "cannot \(operation) checkpoint \(file): \(String(cString: strerror(errno)))")
    }
}
