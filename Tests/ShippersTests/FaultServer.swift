import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A scripted HTTP/1.1 `_bulk` server on 127.0.0.1 for the faults no real peer produces on demand
/// (429 storms, 503s, 413, resets, truncated and slow answers). By default it behaves like
/// Elasticsearch with `create`: 201 for a new `_id`, 409 for one it already holds; its
/// bookkeeping tells which documents it holds and how many times each was created.
final class FaultServer: @unchecked Sendable {
    /// How to answer one `_bulk` request.
    enum Reply: Sendable {
        /// Elasticsearch's `create` semantics for every item.
        case normal
        /// This whole-request status and body.
        case status(Int, String)
        /// One status per item; `nil` means normal. A scripted 409 first records the document, as
        /// if an earlier attempt had created it.
        case items([Int?])
        /// Headers and part of the body, then a TCP reset.
        case resetMidResponse
        /// A complete HTTP response whose JSON body is cut short.
        case truncatedBody
        /// No answer until the client gives up.
        case stall
    }

    /// A bulk request as the server received it.
    struct Bulk: Sendable {
        /// `(index, id)` of each item, in order.
        var items: [(index: String, id: String)]
        /// The body size in bytes.
        var bodyBytes: Int
        /// Request headers, names lowercased.
        var headers: [String: String]
        /// The request target, query included.
        var target: String
    }

    private struct State {
        var created: [String: Int] = [:]
        var requests: [Bulk] = []
        var otherRequests: [String] = []
        /// Connections accepted, in all.
        var connections = 0
        /// Descriptors of the connections still open.
        var openClients: Set<Int32> = []
    }

    /// The base URL.
    let url: String
    private let listener: Int32
    private let script: @Sendable (_ number: Int, _ bulk: Bulk) -> Reply
    private let state = Mutex(State())

    private let otherStatus: Int

    /// Starts a server answering the n-th bulk request (from 0) as `script` says, and any other
    /// request (index template installation) with `otherStatus`.
    init(otherStatus: Int = 200, script: @escaping @Sendable (_ number: Int, _ bulk: Bulk) -> Reply = { _, _ in .normal }) throws {
        self.script = script
        self.otherStatus = otherStatus
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SetupError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound, listen(descriptor, 16) == 0 else {
            close(descriptor)
            throw SetupError("cannot listen on 127.0.0.1")
        }
        listener = descriptor
        url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting and drops every open connection.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        // Under the lock: a connection's descriptor is closed (and its number free for another
        // test's socket) only once it has left `openClients`, which also happens under the lock.
        state.withLock { state in
            for client in state.openClients { shutdown(client, Int32(SHUT_RDWR)) }
        }
    }

    deinit {
        stop()
        close(listener)
    }

    /// Ids the server holds.
    var heldIDs: Set<String> { state.withLock { Set($0.created.keys) } }
    /// How many times each held id was created (1 for all, unless something went wrong).
    var creations: [String: Int] { state.withLock { $0.created } }
    /// Every bulk request received, in order.
    var requests: [Bulk] { state.withLock { $0.requests } }
    /// How many TCP connections clients opened.
    var connectionCount: Int { state.withLock { $0.connections } }
    /// Every other request, as `METHOD target body`.
    var otherRequests: [String] { state.withLock { $0.otherRequests } }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            state.withLock { state in
                state.connections += 1
                state.openClients.insert(client)
            }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        var buffer: [UInt8] = []
        defer {
            state.withLock { state in
                state.openClients.remove(client)
                close(client)
            }
        }
        while true {
            guard let headerEnd = readUntilHeaderEnd(client, &buffer) else { return }
            let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
            buffer.removeFirst(headerEnd + 4)
            let lines = head.components(separatedBy: "\r\n")
            let requestLine = lines[0].split(separator: " ")
            guard requestLine.count >= 2 else { return }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length {
                guard readMore(client, &buffer) else { return }
            }
            let body = Array(buffer.prefix(length))
            buffer.removeFirst(length)
            let target = String(requestLine[1])
            guard target.hasPrefix("/_bulk") else {
                let request = "\(requestLine[0]) \(target) \(String(decoding: body, as: UTF8.self))"
                state.withLock { $0.otherRequests.append(request) }
                respond(
                    client, otherStatus,
                    otherStatus == 200
                        ? #"{"acknowledged":true}"#
                        : #"{"error":{"type":"security_exception","reason":"action [indices:admin/index_template/put] is unauthorized for user [lookout]"},"status":\#(otherStatus)}"#)
                continue
            }
            guard handleBulk(client, target: target, headers: headers, body: body) else { return }
        }
    }

    /// Answers one bulk request; false when the connection is finished.
    private func handleBulk(_ client: Int32, target: String, headers: [String: String], body: [UInt8]) -> Bool {
        let lines = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var items: [(index: String, id: String)] = []
        var index = 0
        while index + 1 < lines.count {
            let action = (try? JSONSerialization.jsonObject(with: Data(lines[index]))) as? [String: [String: String]]
            guard let create = action?["create"], let id = create["_id"], let name = create["_index"] else {
                respond(client, 400, #"{"error":{"type":"illegal_argument_exception","reason":"malformed action line"},"status":400}"#)
                return true
            }
            items.append((name, id))
            index += 2
        }
        let bulk = Bulk(items: items, bodyBytes: body.count, headers: headers, target: target)
        let number = state.withLock { state in
            state.requests.append(bulk)
            return state.requests.count - 1
        }
        switch script(number, bulk) {
        case .normal:
            respond(client, 200, itemsBody(items.map { _ in nil }, ids: items.map(\.id)))
        case .items(let statuses):
            respond(client, 200, itemsBody(items.indices.map { $0 < statuses.count ? statuses[$0] : nil }, ids: items.map(\.id)))
        case .status(let status, let text):
            respond(client, status, text)
        case .truncatedBody:
            respond(client, 200, #"{"errors":false,"items":[{"create":{"sta"#)
        case .resetMidResponse:
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{\"errors\":false,\"items\":["
            _ = head.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
            return false
        case .stall:
            var scratch = [UInt8](repeating: 0, count: 1024)
            while recv(client, &scratch, scratch.count, 0) > 0 {}
            return false
        }
        return true
    }

    private func itemsBody(_ statuses: [Int?], ids: [String]) -> String {
        var errors = false
        let items = zip(statuses, ids).map { scripted, id -> String in
            let status: Int = state.withLock { state in
                switch scripted {
                case nil, 201?:
                    if state.created[id] != nil { return 409 }
                    state.created[id] = 1
                    return 201
                case 409?:
                    if state.created[id] == nil { state.created[id] = 1 }
                    return 409
                case let other?:
                    return other
                }
            }
            if status == 201 { return #"{"create":{"status":201}}"# }
            errors = true
            let type = switch status {
            case 409: "version_conflict_engine_exception"
            case 429: "es_rejected_execution_exception"
            case 400: "mapper_parsing_exception"
            default: "unavailable_shards_exception"
            }
            return #"{"create":{"status":\#(status),"error":{"type":"\#(type)","reason":"scripted \#(status) for \#(id)"}}}"#
        }
        return #"{"errors":\#(errors),"items":[\#(items.joined(separator: ","))]}"#
    }

    private func respond(_ client: Int32, _ status: Int, _ body: String) {
        let bytes = Array("HTTP/1.1 \(status) Scripted\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    private func readUntilHeaderEnd(_ client: Int32, _ buffer: inout [UInt8]) -> Int? {
        let marker: [UInt8] = [13, 10, 13, 10]
        while true {
            if buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == marker }) {
                return end
            }
            guard readMore(client, &buffer) else { return nil }
        }
    }

    private func readMore(_ client: Int32, _ buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(client, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer += chunk[..<count]
        return true
    }
}
