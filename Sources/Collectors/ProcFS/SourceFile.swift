#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LookoutSupport
import MetricModel

/// Reads the files of /proc and /sys for the collectors (through ``HeldFiles``, which keeps the
/// kernel's pseudo-files open between scrapes), with their failures as ``CollectorError``s.
package enum SourceFile {
    /// The whole file as UTF-8 text (invalid bytes repaired). Throws `CollectorError.unreadable`
    /// naming the path and the system's reason.
    package static func read(_ path: String) throws(CollectorError) -> String {
        try read(path, missingIsNil: false)!
    }

    /// The file's text, or nil when it does not exist (ENOENT); other failures, and a file longer
    /// than `maximumBytes` when given, still throw.
    static func readIfPresent(_ path: String, maximumBytes: Int? = nil) throws(CollectorError) -> String? {
        try read(path, missingIsNil: true, maximumBytes: maximumBytes)
    }

    private static func read(_ path: String, missingIsNil: Bool, maximumBytes: Int? = nil) throws(CollectorError) -> String? {
        do {
            return try HeldFiles.shared.read(path, missingIsNil: missingIsNil, maximumBytes: maximumBytes)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
    }

    /// Whether a file or directory exists at `path`.
    package static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Where the symbolic link at `path` points, as written in the link; nil when `path` is not a
    /// link (or does not exist). A relative `path` is taken in the directory open as `directory`.
    static func linkTarget(_ path: String, inDirectory directory: Int32 = AT_FDCWD) -> String? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(PATH_MAX)) { buffer in
            let count = buffer.withMemoryRebound(to: CChar.self) { readlinkat(directory, path, $0.baseAddress!, $0.count) }
            guard count > 0 else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// The entry names of a directory (without `.` and `..`), sorted. Throws when it is unreadable.
    package static func list(_ path: String) throws(CollectorError) -> [String] {
        guard let directory = opendir(path) else { throw .unreadable(path: path, reason: TextFile.errnoText(errno)) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// A directory held open (`O_DIRECTORY`) so that its files are opened relative to it with openat(2):
/// the kernel walks the directory's path once rather than once per file, which matters for the
/// deep cgroup and sysfs directories the microVM collector reads a dozen files from per VM. Its
/// files are regular files or kernfs attributes, read with one read(2) when they fit (see
/// ``TextFile/readToEnd(_:path:maximumBytes:shortReadIsEnd:fromStart:)``); never a
/// /proc directory of record-by-record files. The kernfs ones are held open between scrapes by
/// ``HeldFiles``, under their full paths: on cgroupfs an openat, read and close took 6.6–7.6 µs a
/// file against 1.5–2.1 µs for a pread of a held one (bench/cgroup_reads.c), with sixteen files a VM.
final class SourceDirectory {
    /// The directory's path, for errors.
    let path: String
    private let descriptor: Int32
    /// Whether the directory is on sysfs or cgroupfs, whose files ``HeldFiles`` holds; asked once
    /// for all its files, so that a regular directory's files cost no lookup each.
    private let isKernelPseudoDirectory: Bool

    /// Opens `path`; nil when it does not exist or is not a directory.
    init?(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        self.path = path
        self.descriptor = descriptor
        isKernelPseudoDirectory = HeldFiles.isKernelPseudoFile(descriptor)
    }

    deinit { close(descriptor) }

    /// The text of the file `name` in the directory, or nil when it does not exist; other
    /// failures, and a file longer than `maximumBytes` when given, throw
    /// `CollectorError.unreadable` naming the file's path.
    func readIfPresent(_ name: String, maximumBytes: Int? = nil) throws(CollectorError) -> String? {
        do {
            return try HeldFiles.shared.read(name, inDirectory: descriptor, path: path + "/" + name, holdable: isKernelPseudoDirectory,
                                             missingIsNil: true, maximumBytes: maximumBytes, shortReadIsEnd: true)
        } catch {
            throw .unreadable(path: error.path, reason: error.reason)
        }
    }

    /// The file `name` read and parsed by `parse` (given the text and the name), or nil when it
    /// does not exist. A parse error names the file's full path, which is made only then: the
    /// microVM collector parses some twenty files a VM on every scrape.
    func parseIfPresent<Value>(_ name: String, _ parse: (String, String) throws(CollectorError) -> Value)
        throws(CollectorError) -> Value?
    {
        guard let text = try readIfPresent(name) else { return nil }
        do {
            return try parse(text, name)
        } catch .malformed(_, let reason) {
            throw .malformed(path: path + "/" + name, reason: reason)
        }
    }

    /// Where the symbolic link `name` in the directory points; nil when it is not a link.
    func linkTarget(_ name: String) -> String? {
        SourceFile.linkTarget(name, inDirectory: descriptor)
    }

    /// Whether the directory has an entry `name`, a dangling link included (fstatat(2) without
    /// following links).
    func hasEntry(_ name: String) -> Bool {
        var status = stat()
        return fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0
    }
}
