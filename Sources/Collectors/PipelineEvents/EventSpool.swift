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
package struct EventSpool: Sendable {
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

    /// The content of spooled file `path`.
    package func read(_ path: String) throws(Failure) -> [UInt8] {
        do {
            return Array(try CheckpointFile(path: path).load().map { $0.utf8 } ?? "".utf8)
        } catch {
            throw Failure(description: error.description)
        }
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
