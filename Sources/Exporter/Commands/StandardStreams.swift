#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to standard error, prefixed like every Lookout user-facing error.
func printError(_ line: String) {
    var standardError = StandardError()
    print("lookout: error: \(line)", to: &standardError)
}

/// Prints `lookout: warning: LINE` on standard error.
func printWarning(_ line: String) {
    var standardError = StandardError()
    print("lookout: warning: \(line)", to: &standardError)
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
    /// Writes `string` to file descriptor 2, unbuffered.
    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Standard output written whole, bypassing stdio's buffering: large blocks of documents
/// (`lookout journal`) and whole frames, so that one reaches the terminal at once (`lookout summary`).
enum StandardOutput {
    /// Standard output could not be written (closed pipe, full disk).
    struct Closed: Error {}

    /// Writes and empties `buffer`.
    static func write(_ buffer: inout [UInt8]) throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes all of `text`; a closed pipe is ignored, since nothing more can be shown there.
    static func show(_ text: String) {
        var text = text
        text.withUTF8 { bytes in try? writeAll(UnsafeRawBufferPointer(bytes)) }
    }

    /// Writes every byte of `bytes` to file descriptor 1, again after an interruption.
    private static func writeAll(_ bytes: UnsafeRawBufferPointer) throws(Closed) {
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(1, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                throw Closed()
            }
            written += result
        }
    }
}
