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

        /// A failure to read `path`, for `reason`.
        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }

        /// `cannot read PATH: REASON`.
        package var description: String { "cannot read \(path): \(reason)" }
    }

    /// The whole file as UTF-8 text (invalid bytes repaired), or nil when it does not exist and
    /// `missingIsNil`. A file longer than `maximumBytes`, when given, is an error.
    package static func read(_ path: String, missingIsNil: Bool = false, maximumBytes: Int? = nil) throws(ReadError) -> String? {
        try read(opened: open(path, O_RDONLY | O_CLOEXEC), path: path, missingIsNil: missingIsNil, maximumBytes: maximumBytes)
    }

    /// Reads the whole file open(2) or openat(2) returned as `descriptor`, then closes it; a
    /// failed open (a negative descriptor, errno as the call left it) is the error, or nil for a
    /// missing file when `missingIsNil`. `shortReadIsEnd` as for ``readToEnd(_:path:maximumBytes:shortReadIsEnd:fromStart:)``.
    package static func read(opened descriptor: Int32, path: @autoclosure () -> String, missingIsNil: Bool, maximumBytes: Int?,
                             shortReadIsEnd: Bool = false) throws(ReadError) -> String?
    {
        guard descriptor >= 0 else {
            let code = errno
            if missingIsNil, code == ENOENT { return nil }
            throw ReadError(path: path(), reason: errnoText(code))
        }
        defer { close(descriptor) }
        return try readToEnd(descriptor, path: path(), maximumBytes: maximumBytes, shortReadIsEnd: shortReadIsEnd, fromStart: false)
    }

    /// The whole text of the file open as `descriptor`, which is left open: read with read(2) from
    /// the file position, or, `fromStart`, with pread(2) from offset 0. A /proc, sysfs or cgroupfs
    /// file makes its text anew on a read from offset 0 (seq_file and kernfs start over there), so
    /// a descriptor held open and read `fromStart` reads what a fresh open would. `path` names the
    /// file in errors. With `shortReadIsEnd`, a read that returns less than asked ends the file
    /// without another read to see end-of-file: true of a regular file and of a sysfs or cgroupfs
    /// attribute (kernfs shows one whole, and a read gets all of it that fits), not of /proc's
    /// record-by-record files.
    package static func readToEnd(_ descriptor: Int32, path: @autoclosure () -> String, maximumBytes: Int? = nil,
                                  shortReadIsEnd: Bool = false, fromStart: Bool) throws(ReadError) -> String
    {
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
                let count = fromStart
                    ? pread(descriptor, buffer.baseAddress! + filled, buffer.count - filled, off_t(filled))
                    : Glibc.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
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
