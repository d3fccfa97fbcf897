// The only Swift file that imports CCurl: it owns libcurl's easy and multi handles. CurlEasy runs
// its blocking transfers on a dedicated dispatch queue, never on the cooperative thread pool;
// UnixSocketHTTP.get blocks its caller, which is documented to be off that pool.
import CCurl
import Dispatch
import Synchronization

/// One HTTP request as libcurl sends it.
package struct HTTPRequest: Sendable {
    /// `GET`, `POST` or `PUT`.
    package var method: String
    /// The full URL, query included.
    package var url: String
    /// Header lines, `Name: value`; may hold credentials, so never logged.
    package var headers: [String]
    /// The request body, sent as is (already compressed when `Content-Encoding` says so).
    package var body: [UInt8]

    /// Creates a request; `body` must be empty for `GET` and non-empty otherwise.
    package init(method: String, url: String, headers: [String], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The status and body of an HTTP response.
package struct HTTPResponse: Sendable, Equatable {
    /// The HTTP status code.
    package var status: Int
    /// The (decoded) response body.
    package var body: [UInt8]

    /// Creates a response.
    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// TLS material for `https://` URLs. Certificate verification is on unless switched off.
package struct TLSOptions: Sendable, Equatable {
    /// A PEM CA bundle to verify the server with, instead of the system's.
    package var caFile: String?
    /// A PEM client certificate for mutual TLS.
    package var clientCertificateFile: String?
    /// The PEM private key of `clientCertificateFile`.
    package var clientKeyFile: String?
    /// Skips server certificate and host name verification. For tests only.
    package var insecureSkipVerify: Bool

    /// Creates TLS settings; the defaults verify against the system CA store.
    package init(
        caFile: String? = nil, clientCertificateFile: String? = nil, clientKeyFile: String? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// Timeouts and TLS material applied to every transfer.
package struct TransferOptions: Sendable {
    /// The whole transfer's limit, connection included (CURLOPT_TIMEOUT_MS).
    package var requestTimeout: Duration
    /// The limit for establishing the connection (CURLOPT_CONNECTTIMEOUT_MS).
    package var connectTimeout: Duration
    /// CA bundle, client certificate and key, verification switch.
    package var tls: TLSOptions

    /// Creates transfer options.
    package init(requestTimeout: Duration, connectTimeout: Duration, tls: TLSOptions = TLSOptions()) {
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.tls = tls
    }
}

/// A transfer libcurl could not complete, with curl's own code and message. The message does not
/// name the URL or socket: the caller adds what it was doing.
package struct TransferError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure, coarse enough to be a metric label.
    package enum Kind: Sendable {
        /// Name resolution or connect failed (for a unix socket: no such file, or nothing listening).
        case connection
        /// The connect or request timeout passed.
        case timeout
        /// The TLS handshake or certificate verification failed.
        case tls
        /// Anything else: reset, truncated or malformed response, a body over the size limit,
        /// send or receive error.
        case transport
    }

    /// The failure's kind.
    package var kind: Kind
    /// The `CURLcode` (or `CURLMcode`, for a failure of the multi handle itself).
    package var code: Int
    /// curl's error buffer (or `curl_easy_strerror` when that is empty), or what Lookout itself
    /// refused.
    package var message: String

    /// Creates an error.
    package init(kind: Kind, code: Int, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// The error for curl's `code`, with the error buffer's text when curl wrote any.
    fileprivate init(_ code: CURLcode, errorBuffer: UnsafePointer<CChar>) {
        let detail = String(cString: errorBuffer)
        self.init(
            kind: Self.kind(of: code), code: Int(code.rawValue),
            message: detail.isEmpty ? String(cString: lookout_curl_easy_strerror(code)) : detail)
    }

    /// The error for a failed `curl_multi_*` call.
    fileprivate init(_ code: CURLMcode) {
        self.init(kind: .transport, code: Int(code.rawValue), message: String(cString: lookout_curl_multi_strerror(code)))
    }

    /// The error for libcurl failing to load or initialise, or to create a handle.
    fileprivate static var unavailable: TransferError {
        let reason = lookout_curl_load_error().map { String(cString: $0) } ?? "libcurl could not be initialised"
        return TransferError(kind: .transport, code: Int(libcurl.rawValue), message: reason)
    }

    /// `"<message> (curl error <code>)"`.
    package var description: String { "\(message) (curl error \(code))" }

    private static func kind(of code: CURLcode) -> Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return .connection
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
            return .tls
        default:
            return .transport
        }
    }
}

/// `curl_global_init`'s result, run once before the first handle is made (curl_global_init(3)).
private let libcurl: CURLcode = lookout_curl_global_init()

/// A libcurl easy handle. A handle keeps its connection open between transfers (HTTP keep-alive),
/// so the shipper keeps one per node and reuses it.
///
/// Unchecked `Sendable`: a handle is used by one transfer at a time, which the shipper's handle
/// pool guarantees; libcurl allows a handle to move between threads between transfers.
package final class CurlEasy: @unchecked Sendable {
    private static let transfers = DispatchQueue(label: "lookout.curl", attributes: .concurrent)

    private let handle: UnsafeMutableRawPointer

    /// Creates a handle, initialising libcurl the first time.
    package init() throws(TransferError) {
        guard libcurl == CURLE_OK, let handle = lookout_curl_easy_init() else { throw .unavailable }
        self.handle = handle
    }

    deinit {
        lookout_curl_easy_cleanup(handle)
    }

    /// Performs `request` on the transfer queue. Cancelling the calling task aborts the transfer
    /// within about a second (libcurl calls the progress function at least once a second) and
    /// throws `CancellationError`.
    ///
    /// - Throws: `TransferError` when libcurl cannot complete the transfer, `CancellationError`.
    package func perform(_ request: HTTPRequest, options: TransferOptions) async throws -> HTTPResponse {
        let transfer = Transfer()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                Self.transfers.async {
                    continuation.resume(with: Result { try self.performBlocking(request, options: options, transfer: transfer) })
                }
            }
        } onCancel: {
            transfer.cancelled.store(true, ordering: .relaxed)
        }
    }

    private func performBlocking(_ request: HTTPRequest, options: TransferOptions, transfer: Transfer) throws -> HTTPResponse {
        if transfer.cancelled.load(ordering: .relaxed) { throw CancellationError() }
        // curl_easy_reset keeps the connection cache, so the next transfer reuses the connection.
        lookout_curl_easy_reset(handle)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = lookout_curl_slist_append(headerList, header)
        }
        defer { lookout_curl_slist_free_all(headerList) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let context = Unmanaged.passUnretained(transfer).toOpaque()

        let code: CURLcode = request.body.withUnsafeBytes { body in
            errorBuffer.withUnsafeMutableBufferPointer { errorBytes in
                var setup = CURLE_OK
                func set(_ result: CURLcode) { if setup == CURLE_OK { setup = result } }
                set(lookout_curl_setopt_string(handle, CURLOPT_URL, request.url))
                set(lookout_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
                set(lookout_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
                set(lookout_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, options.requestTimeout.milliseconds))
                set(lookout_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, options.connectTimeout.milliseconds))
                set(lookout_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
                set(lookout_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
                set(lookout_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBytes.baseAddress))
                set(lookout_curl_setopt_write_callback(handle, receiveBody))
                set(lookout_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
                set(lookout_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
                set(lookout_curl_setopt_xferinfo_callback(handle, checkCancellation))
                set(lookout_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context))
                if let caFile = options.tls.caFile { set(lookout_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
                if let certificate = options.tls.clientCertificateFile {
                    set(lookout_curl_setopt_string(handle, CURLOPT_SSLCERT, certificate))
                }
                if let key = options.tls.clientKeyFile { set(lookout_curl_setopt_string(handle, CURLOPT_SSLKEY, key)) }
                if options.tls.insecureSkipVerify {
                    set(lookout_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0))
                    set(lookout_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0))
                }
                switch request.method {
                case "GET":
                    set(lookout_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
                default:
                    set(lookout_curl_setopt_long(handle, CURLOPT_POST, 1))
                    if request.method != "POST" {
                        set(lookout_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
                    }
                    precondition(!body.isEmpty, "\(request.method) without a body")
                    // POSTFIELDS is not copied: `body` stays valid until curl_easy_perform returns.
                    set(lookout_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                    set(lookout_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress!)))
                }
                guard setup == CURLE_OK else { return setup }
                return lookout_curl_easy_perform(handle)
            }
        }

        if code == CURLE_ABORTED_BY_CALLBACK, transfer.cancelled.load(ordering: .relaxed) {
            throw CancellationError()
        }
        guard code == CURLE_OK else {
            throw errorBuffer.withUnsafeBufferPointer { TransferError(code, errorBuffer: $0.baseAddress!) }
        }
        var status = 0
        _ = lookout_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: transfer.body)
    }
}

/// One GET to an HTTP server listening on a unix-domain socket, such as cloud-hypervisor's or
/// Firecracker's API socket.
package struct UnixSocketRequest: Sendable, Equatable {
    /// The socket's path; shorter than 108 bytes (`sun_path`, unix(7)).
    package var socketPath: String
    /// The request target, query included: `/api/v1/vm.info`.
    package var path: String

    /// Creates a request for `path` on the server at `socketPath`.
    package init(socketPath: String, path: String) {
        self.socketPath = socketPath
        self.path = path
    }
}

/// HTTP GETs over unix-domain sockets, all sent at once on one libcurl multi handle, so that a
/// socket that never answers costs at most the timeout, whatever the number of sockets.
package enum UnixSocketHTTP {
    /// The default limit on one response body: 4 MiB.
    package static let defaultMaxBodyBytes = 4 * 1024 * 1024

    /// Sends every request at once and waits for all of them, each bounded by `timeout`
    /// (connection included). No proxy is used, whatever the environment says.
    ///
    /// Blocking, for about the slowest request's time and at most `timeout`: call it off the
    /// cooperative thread pool.
    ///
    /// - Returns: One result per request, in order: the response whatever its status, or the
    ///   `TransferError` (`.connection` for a missing socket or one nothing listens on, `.timeout`,
    ///   `.transport` for a malformed response or a body over `maxBodyBytes`).
    package static func get(
        _ requests: [UnixSocketRequest], timeout: Duration, maxBodyBytes: Int = defaultMaxBodyBytes
    ) -> [Result<HTTPResponse, TransferError>] {
        guard !requests.isEmpty else { return [] }
        guard libcurl == CURLE_OK, let multi = CurlMulti() else {
            return requests.map { _ in .failure(.unavailable) }
        }
        var results = [Result<HTTPResponse, TransferError>?](repeating: nil, count: requests.count)
        for (index, request) in requests.enumerated() {
            do throws(TransferError) {
                try multi.add(UnixSocketTransfer(request, index: index, timeout: timeout, maxBodyBytes: maxBodyBytes))
            } catch {
                results[index] = .failure(error)
            }
        }
        let failure: TransferError?
        do throws(TransferError) {
            try multi.performAll { transfer, code in results[transfer.index] = transfer.result(code) }
            failure = nil
        } catch {
            failure = error
        }
        // Every transfer ends with a CURLMSG_DONE message; only a failing multi handle leaves any.
        let unfinished = failure ?? TransferError(kind: .transport, code: -1, message: "libcurl did not finish the transfer")
        return results.map { $0 ?? .failure(unfinished) }
    }
}

/// A libcurl multi handle and the transfers added to it; `deinit` removes and frees them all.
private final class CurlMulti {
    private let handle: UnsafeMutableRawPointer
    private var transfers: [UnixSocketTransfer] = []

    init?() {
        guard let handle = lookout_curl_multi_init() else { return nil }
        self.handle = handle
    }

    deinit {
        // curl_multi_cleanup(3): remove the easy handles first; they are freed after this, by
        // each transfer's deinit.
        for transfer in transfers { lookout_curl_multi_remove_handle(handle, transfer.handle) }
        lookout_curl_multi_cleanup(handle)
    }

    /// Adds `transfer`; it starts at the next `performAll`.
    func add(_ transfer: UnixSocketTransfer) throws(TransferError) {
        let code = lookout_curl_multi_add_handle(handle, transfer.handle)
        guard code == CURLM_OK else { throw TransferError(code) }
        transfers.append(transfer)
    }

    /// Runs every added transfer to its end, calling `finished` once for each, as it ends, with
    /// its `CURLcode`. Each transfer's own CURLOPT_TIMEOUT_MS bounds the whole.
    ///
    /// - Throws: `TransferError` when the multi handle itself fails.
    func performAll(_ finished: (UnixSocketTransfer, CURLcode) -> Void) throws(TransferError) {
        var running: Int32 = 0
        while true {
            var code = lookout_curl_multi_perform(handle, &running)
            guard code == CURLM_OK else { throw TransferError(code) }
            var queued: Int32 = 0
            while let message = lookout_curl_multi_info_read(handle, &queued) {
                guard message.pointee.msg == CURLMSG_DONE,
                      let transfer = transfers.first(where: { $0.handle == message.pointee.easy_handle })
                else { continue }
                finished(transfer, message.pointee.data.result)
            }
            if running == 0 { return }
            // curl_multi_poll(3) returns when a socket is ready or curl's next timeout is due, if
            // sooner than this.
            code = lookout_curl_multi_poll(handle, nil, 0, 1000, nil)
            guard code == CURLM_OK else { throw TransferError(code) }
        }
    }
}

/// One GET over a unix socket: its easy handle, error buffer and received body. `deinit` frees them.
private final class UnixSocketTransfer {
    /// The request's position in the caller's list.
    let index: Int
    let handle: UnsafeMutableRawPointer
    private let received: Transfer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Sets up the transfer for `request`.
    ///
    /// - Throws: `TransferError` when libcurl cannot make the handle or refuses an option.
    init(_ request: UnixSocketRequest, index: Int, timeout: Duration, maxBodyBytes: Int) throws(TransferError) {
        guard let handle = lookout_curl_easy_init() else { throw .unavailable }
        self.index = index
        self.handle = handle
        received = Transfer(maxBodyBytes: maxBodyBytes)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        var setup = CURLE_OK
        func set(_ result: CURLcode) { if setup == CURLE_OK { setup = result } }
        // libcurl copies string options (curl_easy_setopt(3)), so Swift's temporary C strings do.
        set(lookout_curl_setopt_string(handle, CURLOPT_URL, "http://localhost" + request.path))
        set(lookout_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, request.socketPath))
        set(lookout_curl_setopt_string(handle, CURLOPT_NOPROXY, "*"))
        set(lookout_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        set(lookout_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(lookout_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.milliseconds))
        set(lookout_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeout.milliseconds))
        // Refuses a declared Content-Length over the limit before reading the body; receiveBody
        // enforces it for bodies without one (CURLOPT_MAXFILESIZE_LARGE(3), before curl 8.4).
        set(lookout_curl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(maxBodyBytes)))
        set(lookout_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set(lookout_curl_setopt_write_callback(handle, receiveBody))
        set(lookout_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(received).toOpaque()))
        guard setup == CURLE_OK else { throw TransferError(setup, errorBuffer: errorBuffer) }
    }

    deinit {
        lookout_curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// The response, or the error, for the transfer's final `code`.
    func result(_ code: CURLcode) -> Result<HTTPResponse, TransferError> {
        if code == CURLE_FILESIZE_EXCEEDED || (code == CURLE_WRITE_ERROR && received.overflowed) {
            return .failure(TransferError(
                kind: .transport, code: Int(code.rawValue),
                message: "the response body is larger than \(received.maxBodyBytes) bytes"))
        }
        guard code == CURLE_OK else { return .failure(TransferError(code, errorBuffer: errorBuffer)) }
        var status = 0
        _ = lookout_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, body: received.body))
    }
}

/// The state one transfer's callbacks share: the response body so far, its limit, and the
/// cancellation flag.
private final class Transfer: Sendable {
    let cancelled = Atomic<Bool>(false)
    /// The largest body accepted; a longer one ends the transfer.
    let maxBodyBytes: Int
    private let received = Mutex<[UInt8]>([])
    private let overflow = Atomic<Bool>(false)

    init(maxBodyBytes: Int = .max) {
        self.maxBodyBytes = maxBodyBytes
    }

    var body: [UInt8] { received.withLock { $0 } }
    /// Whether the body went over `maxBodyBytes`.
    var overflowed: Bool { overflow.load(ordering: .relaxed) }

    /// Appends `bytes` to the body; false, keeping nothing, when that would exceed `maxBodyBytes`.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let appended = received.withLock { body in
            guard bytes.count <= maxBodyBytes - body.count else { return false }
            body.append(contentsOf: bytes)
            return true
        }
        if !appended { overflow.store(true, ordering: .relaxed) }
        return appended
    }
}

// Returning less than it was given ends the transfer with CURLE_WRITE_ERROR (CURLOPT_WRITEFUNCTION(3)).
private func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.append(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
}

// Returning non-zero aborts the transfer with CURLE_ABORTED_BY_CALLBACK (CURLOPT_XFERINFOFUNCTION(3)).
private func checkCancellation(
    _ context: UnsafeMutableRawPointer?, _ downloadTotal: curl_off_t, _ downloaded: curl_off_t,
    _ uploadTotal: curl_off_t, _ uploaded: curl_off_t
) -> Int32 {
    guard let context else { return 0 }
    return Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue().cancelled.load(ordering: .relaxed) ? 1 : 0
}

extension Duration {
    /// Whole milliseconds, at least 1 so that a tiny timeout never means "no timeout" to curl.
    fileprivate var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
