import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Paths and processes shared by the integration tests, which drive the built `lookout` binary
/// against real peers (node_exporter, promtool, prometheus) on loopback.
enum Harness {
    /// The repository checkout, found from this file's path.
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The committed fixture tree.
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")

    /// The binary under test: `LOOKOUT_BINARY` (set by `make test`) or the debug build.
    static var lookoutBinary: String {
        ProcessInfo.processInfo.environment["LOOKOUT_BINARY"]
            ?? repositoryRoot.appendingPathComponent(".build/debug/lookout").path
    }

    /// The absolute path of a peer program, searched on PATH; a missing peer fails the test with
    /// a pointer to `scripts/bootstrap --test`, never a silent skip.
    static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/sbin"] {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw HarnessError("\(name) is not installed; run scripts/bootstrap --test")
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound else { throw HarnessError("could not bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A Prometheus on a free loopback port with `configuration` as its configuration file and
    /// its storage in `directory`; it answers `/-/ready` when this returns.
    static func prometheus(configuration: String, in directory: URL) async throws -> (ServerProcess, String) {
        let file = directory.appendingPathComponent("prometheus.yml")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let port = try freePort()
        let server = try ServerProcess(
            name: "prometheus", executable: try tool("prometheus"),
            arguments: ["--config.file=\(file.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("tsdb").path)",
                        "--web.listen-address=127.0.0.1:\(port)"])
        let url = "http://127.0.0.1:\(port)"
        try await server.waitUntilServing(url + "/-/ready", seconds: 30)
        return (server, url)
    }

    /// A real Alertmanager on a free loopback port, its configuration and storage in
    /// `directory`, with nowhere to send notifications (tests read its API); it is ready when
    /// this returns.
    static func alertmanager(in directory: URL) async throws -> (ServerProcess, String) {
        let port = try freePort()
        let configuration = directory.appendingPathComponent("alertmanager.yml")
        try "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n".write(to: configuration, atomically: true, encoding: .utf8)
        let server = try ServerProcess(
            name: "alertmanager", executable: try tool("prometheus-alertmanager"),
            arguments: ["--config.file=\(configuration.path)", "--storage.path=\(directory.appendingPathComponent("alertmanager").path)",
                        "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address="])
        let url = "http://127.0.0.1:\(port)"
        try await server.waitUntilServing(url + "/-/ready", seconds: 30)
        return (server, url)
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One fixture host in a fresh temporary directory (removed by the caller): the microVM
    /// fixture host's cgroups, tap devices, processes, store and state directory, with the node
    /// fixture tree over it (its /proc/stat has per-CPU lines). `flags` points `lookout serve` at it.
    static func fixtureHost() throws -> (directory: String, flags: [String]) {
        let host = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-host-\(UUID().uuidString)").path
        for directory in ["proc", "sys", "rootfs/nix", "rootfs/var"] {
            try FileManager.default.createDirectory(atPath: host + "/" + directory, withIntermediateDirectories: true)
        }
        for (from, to) in [("microvms/proc", "proc"), ("microvms/sys", "sys"), ("microvms/nix", "rootfs/nix"),
                           ("microvms/var", "rootfs/var"), ("proc", "proc"), ("sys", "sys"), ("rootfs", "rootfs")] {
            let copy = try run("/bin/cp", ["-a", fixtures.path + "/" + from + "/.", host + "/" + to])
            guard copy.status == 0 else { throw HarnessError("cp \(from): \(copy.stderr)") }
        }
        return (host, ["--path.procfs", host + "/proc", "--path.sysfs", host + "/sys", "--path.rootfs", host + "/rootfs",
                       "--collector.microvm.state-dir", host + "/rootfs/var/lib/microvms", "--collector.microvm.socket-timeout", "200ms"])
    }

    /// GETs `url` and returns the status and body text.
    static func get(_ url: String, headers: [String: String] = [:]) async throws -> (status: Int, body: String, headers: [String: String]) {
        try await send(URLRequest(url: URL(string: url)!), headers: headers)
    }

    /// POSTs `body` to `url` and returns the status and body text.
    static func post(_ url: String, body: String, headers: [String: String] = [:]) async throws -> (status: Int, body: String, headers: [String: String]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        return try await send(request, headers: headers)
    }

    /// Sends `request` exactly as written (no client re-encodes it) to 127.0.0.1:`port`, then
    /// reads until the server closes or 10 s pass, and returns the raw response.
    static func raw(port: Int, _ request: String) throws -> String {
        try rawExchange(port: port, request).response
    }

    /// ``rawExchange(port:_:timeoutSeconds:)`` on a dispatch thread, for async tests.
    static func runDetachedExchange(port: Int, _ request: String, timeoutSeconds: Int = 10) async throws
        -> (response: String, closedByServer: Bool)
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try rawExchange(port: port, request, timeoutSeconds: timeoutSeconds) })
            }
        }
    }

    /// A TCP connection to 127.0.0.1:`port`; the caller closes it.
    static func connect(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(descriptor)
            throw HarnessError("could not connect to port \(port)")
        }
        return descriptor
    }

    /// As ``raw(port:_:)``, also saying whether the server closed the connection (rather than
    /// `timeoutSeconds` passing).
    static func rawExchange(port: Int, _ request: String, timeoutSeconds: Int = 10) throws -> (response: String, closedByServer: Bool) {
        let descriptor = try connect(port: port)
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw HarnessError("send failed") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { return (String(decoding: response, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: response, as: UTF8.self), false) }
            response += buffer[0..<count]
        }
    }

    private static func send(_ request: URLRequest, headers: [String: String]) async throws -> (status: Int, body: String, headers: [String: String]) {
        var request = request
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)".lowercased()] = "\(value)" }
        return (http.statusCode, String(decoding: data, as: UTF8.self), fields)
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    static func waitUntil(seconds: Double, _ what: String, _ condition: () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("timed out after \(seconds)s waiting for \(what)")
    }

    /// ``run(_:_:input:in:)`` on a dispatch thread: for async tests, whose waiting must not hold
    /// one of the few cooperative threads every other test in the process shares.
    static func runDetached(_ executable: String, _ arguments: [String], in directory: String? = nil) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(executable, arguments, in: directory) })
            }
        }
    }

    /// Runs a program to completion with `input` on stdin (in `directory`, when given); returns
    /// its exit status and output.
    static func run(_ executable: String, _ arguments: [String], input: String? = nil, in directory: String? = nil) throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}

/// A failure of the test set-up itself, with the reason.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A long-running peer or the exporter, started for one test and stopped (SIGTERM, then SIGKILL)
/// when the test is done. Its output goes to a log file that failures print.
final class ServerProcess: @unchecked Sendable {
    let name: String
    private let process = Process()
    let logFile: URL

    init(name: String, executable: String, arguments: [String]) throws {
        self.name = name
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Whether the process is still running.
    var isRunning: Bool { process.isRunning }

    /// What the process has written so far.
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Waits until `url` answers 200, failing with the process log if it never does.
    func waitUntilServing(_ url: String, seconds: Double = 60) async throws {
        do {
            try await Harness.waitUntil(seconds: seconds, "\(name) at \(url)") {
                guard process.isRunning else { return false }
                return (try? await Harness.get(url).status) == 200
            }
        } catch {
            throw HarnessError("\(name) did not start: \(error)\n\(log)")
        }
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits (up to 30 s) for the process to exit; returns its exit status.
    func terminate() -> Int32 {
        process.terminate()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The process's resident set size in KiB (VmRSS), 0 when it cannot be read.
    func residentKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// The file names (without directories) of the shared libraries the process has mapped, from
    /// /proc/PID/maps; empty when it cannot be read.
    func mappedLibraries() -> Set<String> {
        // Read to the end: /proc files report size 0, and a read sized from that stops early.
        guard let file = FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps") else { return [] }
        defer { try? file.close() }
        let maps = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        var names: Set<String> = []
        for line in maps.split(separator: "\n") {
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).first,
                  path.hasPrefix("/"), path.contains(".so") else { continue }
            names.insert(String(path.split(separator: "/").last!))
        }
        return names
    }

    /// Stops the process and waits for it to exit.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: logFile)
    }
}

/// `lookout serve` with the events API on (and no collector unless `serveArguments` say), over a
/// scratch data directory holding the token file; `restart()` starts it again on the same
/// directory and port (after `kill()`, as after a crash), `stop()` stops the daemon and removes
/// the directory.
final class EventsDaemon: @unchecked Sendable {
    /// The scratch data directory.
    let data: String
    /// The token file, holding `token`.
    var tokenFile: String { data + "/token" }
    /// The daemon's base URL.
    let url: String
    private let arguments: [String]
    private var server: ServerProcess

    /// Starts the daemon with `serveArguments` added and waits until it serves.
    init(token: String, serveArguments: [String] = ["--collector.disable-defaults"]) async throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("lookout-events-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: false)
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: data + "/token"))
        let port = try Harness.freePort()
        url = "http://127.0.0.1:\(port)"
        arguments = ["serve", "--web.listen-address", "127.0.0.1:\(port)", "--data.dir", data,
                     "--web.events-token-file", data + "/token"] + serveArguments
        server = try ServerProcess(name: "lookout", executable: Harness.lookoutBinary, arguments: arguments)
        try await server.waitUntilServing(url + "/metrics")
    }

    /// What the daemon has logged so far.
    var log: String { server.log }

    /// Kills the daemon with SIGKILL, as a crash would.
    func kill() { server.kill() }

    /// Stops the daemon (SIGTERM) and returns its exit status.
    func terminate() -> Int32 { server.terminate() }

    /// Starts the daemon again on the same data directory and port, and waits until it serves.
    func restart() async throws {
        server.stop()
        server = try ServerProcess(name: "lookout", executable: Harness.lookoutBinary, arguments: arguments)
        try await server.waitUntilServing(url + "/metrics")
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: data)
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers: the stalled peer (an
/// Elasticsearch that hangs) no real server can be made to be on demand.
final class SilentListener: @unchecked Sendable {
    /// Its port.
    let port: Int
    private let descriptor: Int32
    private let accepted = NSLock()
    private var connections: [Int32] = []

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard bound, listen(descriptor, 64) == 0 else { throw HarnessError("could not listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else { return }
                accepted.lock()
                connections.append(connection)
                accepted.unlock()
            }
        }
    }

    /// Connections accepted so far.
    var connectionCount: Int {
        accepted.lock()
        defer { accepted.unlock() }
        return connections.count
    }

    deinit {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        accepted.lock()
        for connection in connections { close(connection) }
        accepted.unlock()
    }
}
