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
        try readOpened(open(path, O_RDONLY | O_CLOEXEC), path: path, missingIsNil: missingIsNil, maximumBytes: maximumBytes)
    }

    /// The file `name` of the directory open as `directory` (openat(2)), read as ``read(_:missingIsNil:maximumBytes:)``
    /// reads a path; `path` names it in errors, and is made only for one. The kernel walks the
    /// directory's path once for all the files read in it. With `shortReadIsEnd`, a read(2) that
    /// returns less than asked ends the file without a second read to see end-of-file: true of a
    /// regular file and of a sysfs or cgroupfs attribute (kernfs shows one whole, and a read
    /// gets all of it that fits), not of /proc's record-by-record files.
    package static func read(_ name: String, inDirectory directory: Int32, path: @autoclosure () -> String, missingIsNil: Bool = false,
                             maximumBytes: Int? = nil, shortReadIsEnd: Bool = false) throws(ReadError) -> String? {
        try readOpened(openat(directory, name, O_RDONLY | O_CLOEXEC), path: path(), missingIsNil: missingIsNil, maximumBytes: maximumBytes,
                       shortReadIsEnd: shortReadIsEnd)
    }

    /// Reads the whole file `open` returned, then closes it; a failed open is the error (or nil).
    private static func readOpened(_ descriptor: Int32, path: @autoclosure () -> String, missingIsNil: Bool, maximumBytes: Int?,
                                   shortReadIsEnd: Bool = false) throws(ReadError) -> String?
    {
        guard descriptor >= 0 else {
            let code = errno
            if missingIsNil, code == ENOENT { return nil }
            throw ReadError(path: path(), reason: errnoText(code))
        }
        defer { close(descriptor) }
        // Most files the collectors read are a few bytes to a few hundred, read a dozen or more
        // per scrape: they go into a buffer on the stack. A larger file moves to one heap buffer,
        // doubled when full, decoded once (a heap buffer for every file, and the fastbin
        // consolidation glibc does for each large allocation, showed in profiles).
        var stack = InlineArray<4096, UInt8>(repeating: 0)
        var stackSpan = stack.mutableSpan
        return try stackSpan.withUnsafeMutableBytes { (stackBuffer: UnsafeMutableRawBufferPointer) throws(ReadError) -> String in
            var buffer = stackBuffer
            defer { if buffer.baseAddress != stackBuffer.baseAddress { buffer.deallocate() } }
            var filled = 0
            while true {
                if filled == buffer.count {
                    let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(16_384, buffer.count * 2), alignment: 1)
                    larger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                    if buffer.baseAddress != stackBuffer.baseAddress { buffer.deallocate() }
                    buffer = larger
                }
                let count = Glibc.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
                if count < 0 {
                    let code = errno
                    if code == EINTR { continue }
                    throw ReadError(path: path(), reason: errnoText(code))
                }
                if count == 0 { break }
                let asked = buffer.count - filled
                filled += count
                if let maximumBytes, filled > maximumBytes {
                    throw ReadError(path: path(), reason: "larger than \(maximumBytes) bytes")
                }
                if shortReadIsEnd, count < asked { break }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<filled]), as: UTF8.self)
        }
    }

    /// The system's text for an errno value, e.g. `No such file or directory`.
    package static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
