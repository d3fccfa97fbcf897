import Foundation

/// A peer that could not be started, with the reason and what to run to fix it.
public struct PeerError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// `osmem-server`, an in-memory OpenSearch-compatible server (PyPI `osmem-server`, installed by
/// `scripts/bootstrap --test`), started on a free port for one test. It exits when its stdin
/// closes, so the test keeps the pipe open until `stop()`.
public final class OsmemServer: @unchecked Sendable {
    /// The base URL the server printed.
    public let url: String
    private let process = Process()
    private let stdin = Pipe()

    /// Starts the server on `address` (default: a free port on 127.0.0.1).
    public init(address: String = "127.0.0.1:0") throws {
        let locate = Process()
        locate.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        locate.arguments = ["python3", "-c", "import osmem_server; print(osmem_server.resolve_binary())"]
        let located = Pipe()
        locate.standardOutput = located
        locate.standardError = FileHandle.nullDevice
        try locate.run()
        let binary = String(decoding: located.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        locate.waitUntilExit()
        guard locate.terminationStatus == 0, !binary.isEmpty else {
            throw PeerError("osmem-server is not installed; run scripts/bootstrap --test")
        }

        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--addr", address]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw PeerError("osmem-server exited before printing its address") }
            line += chunk
        }
        let first = line.prefix { $0 != UInt8(ascii: "\n") }
        guard let announcement = try JSONSerialization.jsonObject(with: first) as? [String: Any],
              let url = announcement["url"] as? String
        else { throw PeerError("osmem-server printed no url: \(String(decoding: first, as: UTF8.self))") }
        self.url = url
    }

    /// Closes its stdin, which makes it exit, and waits.
    public func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { stop() }
}

