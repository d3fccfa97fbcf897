#if canImport(Glibc)
import Glibc
#endif

/// Secrets (Elasticsearch credentials, the events API token) come from files: one line, trailing
/// line breaks trimmed. A secret is never logged nor put into an error message, and a presented
/// one is compared in constant time.
package enum SecretFile {
    /// Largest secret file read; a credential is a line, not a document.
    package static let maximumBytes = 65_536

    /// The secret in the file at `path`; `what` names it in errors (`bearer token`). Throws when
    /// the file cannot be read, is empty, or holds more than one line (a line break inside would
    /// let the file inject HTTP headers).
    package static func read(_ path: String, what: String) throws(SecretFileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SecretFileError("the \(what) file \(path) cannot be read: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= maximumBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw SecretFileError("the \(what) file \(path) cannot be read: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        guard bytes.count <= maximumBytes else { throw SecretFileError("the \(what) file \(path) is larger than \(maximumBytes) bytes") }
        while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw SecretFileError("the \(what) file \(path) is empty") }
        guard !bytes.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
            throw SecretFileError("the \(what) file \(path) holds more than one line")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `presented` equals `secret`, taking the same time wherever they differ (the time
    /// depends only on the lengths), so that a client cannot find the secret byte by byte.
    package static func matches<Presented: Collection<UInt8>>(_ presented: Presented, secret: String) -> Bool {
        let expected = Array(secret.utf8)
        var difference = UInt8(presented.count == expected.count ? 0 : 1)
        var index = 0
        for byte in presented {
            difference |= byte ^ expected[index % max(expected.count, 1)]
            index += 1
        }
        return difference == 0 && !expected.isEmpty
    }
}

/// A secret file that cannot serve: one line naming the file, never its content.
package struct SecretFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message.
    package var description: String

    /// Creates the error.
    package init(_ description: String) { self.description = description }
}
