import Curl
import Foundation
import PeerSupport
import Testing

/// GETs over unix sockets against scripted servers: exact responses, statuses passed through,
/// all requests at once, and every fault ending in its own result without holding up the others.
@Suite(.timeLimit(.minutes(1))) final class UnixSocketHTTPTests {
    /// A `vm.info` answer shaped like cloud-hypervisor's (`/api/v1/vm.info`), trimmed to a few fields.
    static let vmInfo = Array(
        #"{"config":{"cpus":{"boot_vcpus":2,"max_vcpus":2},"memory":{"size":1073741824}},"state":"Running","memory_actual_size":1073741824}"#.utf8)

    let directory: SocketDirectory

    init() throws {
        directory = try SocketDirectory()
    }

    deinit {
        directory.remove()
    }

    private func request(_ server: UnixSocketServer, _ path: String = "/api/v1/vm.info") -> UnixSocketRequest {
        UnixSocketRequest(socketPath: server.path, path: path)
    }

    @Test func noRequestsGiveNoResults() {
        #expect(UnixSocketHTTP.get([], timeout: .seconds(1)).isEmpty)
    }

    @Test func aJSONBodyIsReturnedExactly() throws {
        let server = try UnixSocketServer(path: directory.socket("ch.sock"), reply: .http(status: 200, body: Self.vmInfo))

        let results = UnixSocketHTTP.get([request(server)], timeout: .seconds(5))

        #expect(results == [.success(HTTPResponse(status: 200, body: Self.vmInfo))])
        #expect(server.requestHeads == ["GET /api/v1/vm.info HTTP/1.1\r\nHost: localhost\r\nAccept: */*"])
    }

    @Test func aStatusOtherThan200IsPassedThrough() throws {
        let body = Array(#"{"fault_message":"Invalid request method and/or path: GET /machine-config."}"#.utf8)
        let server = try UnixSocketServer(path: directory.socket("fc.sock"), reply: .http(status: 404, body: body))

        let results = UnixSocketHTTP.get([request(server, "/machine-config")], timeout: .seconds(5))

        #expect(results == [.success(HTTPResponse(status: 404, body: body))])
    }

    @Test func requestsAreSentAllAtOnce() throws {
        let count = 8
        // Sent one at a time, the first request would sit at the rendezvous past its timeout.
        let rendezvous = Rendezvous(count: count, limit: .seconds(10))
        let servers = try (0..<count).map { number in
            try UnixSocketServer(path: directory.socket("vm\(number).sock"), reply: .http(status: 200, body: Array(#"{"vm":\#(number)}"#.utf8))) {
                rendezvous.arriveAndWait()
                Thread.sleep(forTimeInterval: 0.3)
            }
        }

        let results = UnixSocketHTTP.get(servers.map { request($0) }, timeout: .seconds(3))

        #expect(results == (0..<count).map { .success(HTTPResponse(status: 200, body: Array(#"{"vm":\#($0)}"#.utf8))) })
    }

    @Test func fiftyVMsInOneCallComeBackInOrder() throws {
        let servers = try (0..<50).map { number in
            try UnixSocketServer(path: directory.socket("vm\(number).sock"), reply: .http(status: 200, body: Array(#"{"vm":\#(number)}"#.utf8)))
        }

        let results = UnixSocketHTTP.get(servers.map { request($0) }, timeout: .seconds(10))

        #expect(results == (0..<50).map { .success(HTTPResponse(status: 200, body: Array(#"{"vm":\#($0)}"#.utf8))) })
    }

    @Test func aSilentSocketTimesOutWhileAnotherAnswers() throws {
        let hung = try UnixSocketServer(path: directory.socket("hung.sock"), reply: .silence)
        let good = try UnixSocketServer(path: directory.socket("good.sock"), reply: .http(status: 200, body: Self.vmInfo))

        let results = UnixSocketHTTP.get([request(hung), request(good)], timeout: .seconds(1))

        #expect(results[0].failureKind == .timeout)
        #expect(results[1] == .success(HTTPResponse(status: 200, body: Self.vmInfo)))
    }

    @Test func aSocketNothingListensOnIsAConnectionError() throws {
        let stale = directory.socket("stale.sock")
        try UnixSocketServer.stale(path: stale)
        let requests = [
            UnixSocketRequest(socketPath: directory.socket("missing.sock"), path: "/api/v1/vm.info"),
            UnixSocketRequest(socketPath: stale, path: "/api/v1/vm.info"),
        ]

        let results = UnixSocketHTTP.get(requests, timeout: .seconds(5))

        #expect(results.map(\.failureKind) == [.connection, .connection])
    }

    @Test func bytesThatAreNotHTTPAreATransportError() throws {
        let banner = try UnixSocketServer(path: directory.socket("banner.sock"), reply: .raw(Array("SSH-2.0-OpenSSH_9.2p1\r\n".utf8)))
        let binary = try UnixSocketServer(path: directory.socket("binary.sock"), reply: .raw([0x00, 0xFF, 0x13, 0x37, 0x0D, 0x0A, 0x0D, 0x0A]))

        let results = UnixSocketHTTP.get([request(banner), request(binary)], timeout: .seconds(5))

        #expect(results.map(\.failureKind) == [.transport, .transport])
    }

    @Test func aBodyOverTheLimitIsAnError() throws {
        let limit = UnixSocketHTTP.defaultMaxBodyBytes
        let declared = try UnixSocketServer(
            path: directory.socket("declared.sock"), reply: .http(status: 200, body: [UInt8](repeating: 0x61, count: limit + 1)))
        let undeclared = try UnixSocketServer(
            path: directory.socket("undeclared.sock"),
            reply: .http(status: 200, body: [UInt8](repeating: 0x61, count: limit + 1), declaresLength: false))
        let atLimit = try UnixSocketServer(
            path: directory.socket("at-limit.sock"),
            reply: .http(status: 200, body: [UInt8](repeating: 0x61, count: limit), declaresLength: false))

        let results = UnixSocketHTTP.get([request(declared), request(undeclared), request(atLimit)], timeout: .seconds(10))

        let message = "the response body is larger than 4194304 bytes"
        #expect(results == [
            // CURLE_FILESIZE_EXCEEDED from the Content-Length, before any of the body is read.
            .failure(TransferError(kind: .transport, code: 63, message: message)),
            // CURLE_WRITE_ERROR, from the body callback refusing the byte past the limit.
            .failure(TransferError(kind: .transport, code: 23, message: message)),
            .success(HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: limit))),
        ])
    }
}

extension Result where Failure == TransferError {
    /// The error's kind; nil for a response.
    fileprivate var failureKind: TransferError.Kind? {
        if case .failure(let error) = self { error.kind } else { nil }
    }
}
