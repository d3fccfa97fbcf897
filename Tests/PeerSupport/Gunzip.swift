import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `gzip` program as the decoder of what Lookout compresses: `bytes` through `gzip -dc`.
public enum Gunzip {
    /// A failure of `gzip -dc`, with its exit status and what it wrote to standard error.
    public struct Failure: Error, CustomStringConvertible {
        /// `gzip`'s exit status.
        public let status: Int32
        /// What `gzip` wrote to standard error.
        public let message: String
        /// One line: the status and the message.
        public var description: String { "gzip -dc exited \(status): \(message)" }
    }

    /// `bytes` decompressed by `gzip -dc`; throws when gzip refuses them.
    public static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A gzip that stops reading early must fail the decoding, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        // Write from another thread: gzip's output fills its pipe before all input is read.
        let writer = Thread {
            try? input.fileHandleForWriting.write(contentsOf: Data(bytes))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let decompressed = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(status: process.terminationStatus, message: String(decoding: message, as: UTF8.self))
        }
        return Array(decompressed)
    }
}
