import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A fresh directory under /tmp for socket files (`sun_path` holds 108 bytes, so not under the
/// build tree); `remove()` deletes it and everything in it.
public struct SocketDirectory {
    /// The directory's path, `/tmp/lookout-sock-XXXXXX`.
    public let path: String

    /// Makes the directory.
    public init() throws {
        var template = Array("/tmp/lookout-sock-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw PeerError("mkdtemp failed: errno \(errno)") }
        path = String(cString: made)
    }

    /// `name` inside the directory.
    public func socket(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A scripted server on a unix-domain socket, standing in for cloud-hypervisor's and
/// Firecracker's API sockets (neither is installable here) and for the faults no real peer shows
/// on demand: a hung VMM, a socket that speaks no HTTP, an endless body, a QMP socket that greets
/// with garbage. Each connection gets the same reply.
public final class UnixSocketServer: @unchecked Sendable {
    /// How to answer each connection.
    public enum Reply: Sendable {
        /// This status and body, with `Content-Length` when `declaresLength` (otherwise the body
        /// ends when the connection closes).
        case http(status: Int, body: [UInt8], declaresLength: Bool = true)
        /// These bytes as they are, then close.
        case raw([UInt8])
        /// Per request path, this status and JSON body (with `Content-Length`); 404 for others.
        case routes([String: Route])
        /// Read the request and say nothing until the client hangs up.
        case silence
        /// Send these bytes at once, before any request (as a QMP server greets), then say
        /// nothing more until the client hangs up.
        case greeting([UInt8])
        /// Send `greeting`, then answer each line the client sends with the pieces `answer`
        /// gives, written apart (10 ms between them), so replies arrive split across reads.
        case conversation(greeting: [UInt8], answer: @Sendable (String) -> [[UInt8]])
    }

    /// One route's answer.
    public struct Route: Sendable {
        /// The HTTP status.
        public var status: Int
        /// The body.
        public var body: String

        /// Creates the answer.
        public init(_ status: Int, _ body: String) {
            self.status = status
            self.body = body
        }
    }

    /// The socket's path.
    public let path: String
    private let listener: Int32
    private let reply: Reply
    private let beforeReplying: @Sendable () -> Void
    private let heads = Mutex<[String]>([])

    /// Listens on `path`, answering each request with `reply` after calling `beforeReplying`.
    public init(path: String, reply: Reply, beforeReplying: @escaping @Sendable () -> Void = {}) throws {
        self.path = path
        self.reply = reply
        self.beforeReplying = beforeReplying
        listener = try Self.bind(path)
        guard listen(listener, 64) == 0 else {
            close(listener)
            throw PeerError("cannot listen on \(path)")
        }
        Thread { [self] in acceptLoop() }.start()
    }

    /// A socket file nothing listens on, as a VMM that died leaves behind: connecting is refused.
    public static func stale(path: String) throws {
        close(try bind(path))
    }

    /// Each request's head (request line and headers, without the blank line), in arrival order.
    public var requestHeads: [String] { heads.withLock { $0 } }

    /// Stops accepting; connections in progress finish.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit {
        stop()
        close(listener)
    }

    private static func bind(_ path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PeerError("socket() failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw PeerError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw PeerError("cannot bind \(path): errno \(errno)")
        }
        return descriptor
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        switch reply {
        case .greeting(let bytes):
            send(client, bytes)
            drain(client)
            return
        case .conversation(let greeting, let answer):
            send(client, greeting)
            converse(client, answer)
            return
        default:
            break
        }
        guard let head = readHead(client) else { return }
        heads.withLock { $0.append(head) }
        beforeReplying()
        switch reply {
        case .http(let status, let body, let declaresLength):
            var head = "HTTP/1.1 \(status) Scripted\r\nContent-Type: application/json\r\n"
            head += declaresLength ? "Content-Length: \(body.count)\r\n\r\n" : "Connection: close\r\n\r\n"
            send(client, Array(head.utf8) + body)
        case .raw(let bytes):
            send(client, bytes)
        case .routes(let routes):
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            let route = routes[path] ?? Route(404, "")
            send(client, Array(("HTTP/1.1 \(route.status) Scripted\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(route.body.utf8.count)\r\n\r\n" + route.body).utf8))
        case .silence, .greeting, .conversation:
            drain(client)
        }
    }

    /// Answers each line the client sends until it hangs up.
    private func converse(_ client: Int32, _ answer: @Sendable (String) -> [[UInt8]]) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeFirst(newline + 1)
                for piece in answer(line) {
                    send(client, piece)
                    usleep(10_000)
                }
            }
            let count = recv(client, &chunk, chunk.count, 0)
            guard count > 0 else { return }
            buffer += chunk[..<count]
        }
    }

    /// Reads and drops whatever the client sends until it hangs up (or the server stops).
    private func drain(_ client: Int32) {
        var scratch = [UInt8](repeating: 0, count: 1024)
        while recv(client, &scratch, scratch.count, 0) > 0 {}
    }

    /// Reads up to the blank line that ends a GET's head; nil if the client hangs up first.
    private func readHead(_ client: Int32) -> String? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = String(decoding: buffer, as: UTF8.self).range(of: "\r\n\r\n") {
                return String(String(decoding: buffer, as: UTF8.self)[..<end.lowerBound])
            }
            let count = recv(client, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            buffer += chunk[..<count]
        }
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }
}

/// Holds every arriving request until `count` have arrived (or `limit` passes), so a test can
/// tell that a client sent them all at once: one at a time, the first would wait out the limit.
public final class Rendezvous: Sendable {
    private let count: Int
    private let limit: Duration
    private let arrived = Mutex(0)

    /// Waits for `count` arrivals, at most `limit` each.
    public init(count: Int, limit: Duration) {
        self.count = count
        self.limit = limit
    }

    /// Counts this arrival and waits for the others.
    public func arriveAndWait() {
        arrived.withLock { $0 += 1 }
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while arrived.withLock({ $0 }) < count, clock.now < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}
