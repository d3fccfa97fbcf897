#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LookoutSupport
import Shipping
import Synchronization

/// One document Elasticsearch refused for good, as written to the dead-letter file.
struct DeadLetter: Sendable, Equatable {
    /// When it was refused, microseconds since the Unix epoch.
    var timeMicroseconds: Int64
    /// Why.
    var error: BulkError
    /// The index it was meant for.
    var index: String
    /// The document itself.
    var document: BulkDocument

    /// The NDJSON line (with its `\n`): time, status, error type and reason, index, id, and the
    /// original document as a JSON string (so that even a malformed source keeps the line valid).
    var line: [UInt8] {
        var line = Array(#"{"@timestamp":"#.utf8)
        JSONText.appendString(CivilTime(microseconds: timeMicroseconds).rfc3339, to: &line)
        line += Array(#","status":\#(error.status),"error":{"type":"#.utf8)
        JSONText.appendString(error.type, to: &line)
        line += Array(#","reason":"#.utf8)
        JSONText.appendString(error.reason, to: &line)
        line += Array(#"},"_index":"#.utf8)
        JSONText.appendString(index, to: &line)
        line += Array(#","_id":"#.utf8)
        JSONText.appendString(document.id, to: &line)
        line += Array(#","document":"#.utf8)
        JSONText.appendString(String(decoding: document.source, as: UTF8.self), to: &line)
        line += Array("}\n".utf8)
        return line
    }
}

/// A file that writing to cannot complete, with the path and `errno` text.
struct DeadLetterFileError: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the file.
    let description: String
}

/// The append-only NDJSON file of dead letters. When an append would take it past `maxBytes`, the
/// file is first renamed to `PATH.1` (replacing an older one), so at most twice `maxBytes` stay on
/// disk. Safe to use from several tasks.
final class DeadLetterFile: Sendable {
    /// The file's path.
    let path: String
    private let maxBytes: Int
    private let descriptor = Mutex<Int32?>(nil)

    /// A dead-letter file at `path` (created on first append) rotated at `maxBytes`.
    init(path: String, maxBytes: Int) {
        self.path = path
        self.maxBytes = maxBytes
    }

    deinit {
        descriptor.withLock { if let open = $0 { close(open) } }
    }

    /// Appends one line per letter, rotating first when the file would grow past the limit.
    func append(_ letters: [DeadLetter]) throws(DeadLetterFileError) {
        let bytes = letters.flatMap(\.line)
        guard !bytes.isEmpty else { return }
        try descriptor.withLock { (descriptor: inout Int32?) -> Result<Void, DeadLetterFileError> in
            Result { () throws(DeadLetterFileError) in
                var file: Int32
                if let open = descriptor {
                    file = open
                } else {
                    file = try openFile()
                    descriptor = file
                }
                var status = stat()
                guard fstat(file, &status) == 0 else { throw failure("cannot stat") }
                if status.st_size > 0, Int(status.st_size) + bytes.count > maxBytes {
                    guard rename(path, path + ".1") == 0 else { throw failure("cannot rotate to \(path).1") }
                    close(file)
                    descriptor = nil
                    file = try openFile()
                    descriptor = file
                }
                var offset = 0
                while offset < bytes.count {
                    let written = bytes[offset...].withUnsafeBytes { write(file, $0.baseAddress!, $0.count) }
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw failure("cannot write")
                    }
                    offset += written
                }
            }
        }.get()
    }

    private func openFile() throws(DeadLetterFileError) -> Int32 {
        // 0640: the documents are log records, readable by the group that reads the logs.
        let file = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard file >= 0 else { throw failure("cannot open") }
        return file
    }

    private func failure(_ what: String) -> DeadLetterFileError {
        DeadLetterFileError(description: "\(what) the dead-letter file \(path): \(String(cString: strerror(errno)))")
    }
}
