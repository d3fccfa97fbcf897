#if canImport(Glibc)
import Glibc
#endif
import LookoutSupport

/// Where pipeline events wait when the daemon cannot take them: one file per event, written by
/// `lookout run` and `lookout event` and imported (then removed) by the daemon.
///
/// Each file is written to a temporary name, fsynced and renamed, so the daemon sees whole
/// events or nothing. Files are named `<microseconds>-<random>.json`, so importing them in name
/// order keeps the order they were written in. A file the daemon cannot accept is moved to
/// `rejected/` beside them, never deleted. Anyone who may write the directory may submit events,
/// as anyone holding the events token may: the daemon creates it with mode 2770 (its group).
///
/// The directory is a trust boundary: the daemon reads it with its own rights. A file is read
/// only if it is a regular file (opened without following a symbolic link, and without blocking,
/// so a FIFO or a device cannot stall the import), belongs to the daemon's user or to the
/// directory's group (what a writer in the group leaves there), and is no larger than the
/// events API's body limit; anything else is refused unread and set aside.
package struct EventSpool: Sendable {
    /// A spooled file's bytes, or why it was refused unread (a reason that names no content).
    package enum Entry: Sendable, Equatable {
        /// The file's bytes.
        case content([UInt8])
        /// Why the file is not read: not a regular file, owner, size.
        case refused(String)
    }

    /// Why the spool could not be written or read: the path and the system's reason.
    package struct Failure: Error, Sendable, CustomStringConvertible {
        /// One line naming the file and the problem.
        package var description: String
    }

    /// The directory.
    package let directory: String

    /// The spool in `directory`; nothing is touched until asked.
    package init(directory: String) {
        self.directory = directory
    }

    /// Creates the directory (and its parents) when missing, group-writable and set-group-ID, so
    /// that pipeline users in the daemon's group can spool and the daemon can read what they spool.
    package func create() throws(Failure) {
        let createdLast: Bool
        do {
            createdLast = try Directories.create(directory, mode: 0o755)
        } catch {
            throw Failure(description: error.description)
        }
        // chmod, not mkdir's mode: the umask would take the group's write bit.
        if createdLast, chmod(directory, 0o2770) != 0 { throw failure("set the mode of", directory) }
        var status = stat()
        guard stat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { throw failure("use", directory) }
    }

    /// Writes `event` (one JSON object) durably; returns the file's path.
    package func write(_ event: [UInt8], now: Int64 = CivilTime.nowMicroseconds()) throws(Failure) -> String {
        var generator = SystemRandomNumberGenerator()
        let stamp = String(max(0, now))
        let name = String(repeating: "0", count: max(0, 20 - stamp.count)) + stamp + "-"
            + String(generator.next() as UInt64, radix: 16) + ".json"
        let file = CheckpointFile(path: directory + "/" + name, mode: 0o640)
        do {
            try file.save(String(decoding: event, as: UTF8.self))
        } catch {
            throw Failure(description: "cannot spool the event in \(directory): \(error)")
        }
        return file.path
    }

    /// The spooled files, oldest first; `.tmp` files being written are not among them.
    package func pending() throws(Failure) -> [String] {
        guard let stream = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw failure("list", directory)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json"), !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().map { directory + "/" + $0 }
    }

    /// The content of spooled file `path`, at most `maximumBytes` of it, or why it is refused
    /// unread; throws only when the file cannot be opened or read at all.
    package func read(_ path: String, maximumBytes: Int) throws(Failure) -> Entry {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            if errno == ELOOP { return .refused("a symbolic link, not a regular file") }
            // Gone since listed: the next round lists again.
            if errno == ENOENT { throw failure("open", path) }
            return .refused("cannot be opened: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("inspect", path) }
        guard status.st_mode & S_IFMT == S_IFREG else { return .refused("not a regular file") }
        var directoryStatus = stat()
        let directoryGroup = stat(directory, &directoryStatus) == 0 ? directoryStatus.st_gid : getegid()
        guard status.st_uid == geteuid() || status.st_gid == directoryGroup else {
            return .refused("owned by user \(status.st_uid) and group \(status.st_gid), neither the daemon's user nor the spool's group")
        }
        guard status.st_size <= maximumBytes else { return .refused("\(status.st_size) bytes, more than \(maximumBytes)") }
        // Read in chunks, so that a small file costs its size, up to one byte past the limit.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size) + 1)
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count <= maximumBytes {
            let wanted = min(chunk.count, maximumBytes + 1 - bytes.count)
            let read = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, wanted) }
            if read < 0 {
                if errno == EINTR { continue }
                throw failure("read", path)
            }
            if read == 0 { break }
            bytes += chunk[0..<read]
        }
        // A file that grew while read is refused like one that was too large.
        guard bytes.count <= maximumBytes else { return .refused("more than \(maximumBytes) bytes") }
        return .content(bytes)
    }

    /// Removes `path` once its event is stored.
    package func remove(_ path: String) throws(Failure) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("remove", path) }
    }

    /// Moves `path` to `rejected/`, where it stays for a person to look at; returns the new path.
    package func reject(_ path: String) throws(Failure) -> String {
        let rejected = directory + "/rejected"
        if mkdir(rejected, 0o2770) != 0, errno != EEXIST { throw failure("create", rejected) }
        let target = rejected + "/" + (path.split(separator: "/").last.map(String.init) ?? path)
        guard rename(path, target) == 0 else { throw failure("move to \(rejected)", path) }
        return target
    }

    private func failure(_ operation: String, _ path: String) -> Failure {
        Failure(description: "cannot \(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
