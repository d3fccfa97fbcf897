// The only Swift file that imports CCurl: it owns libcurl easy handles and runs their blocking
// transfers on a dedicated dispatch queue, never on the cooperative thread pool.
import CCurl
import Dispatch
import Synchronization

/// One HTTP request as libcurl sends it.
struct HTTPRequest: Sendable {
    /// `GET`, `POST` or `PUT`.
    var method: String
    /// The full URL, query included.
    var url: String
    /// Header lines, `Name: value`; may hold credentials, so never logged.
    var headers: [String]
    /// The request body, sent as is (already compressed when `Content-Encoding` says so).
    var body: [UInt8]
}

/// The status and body of an HTTP response.
struct HTTPResponse: Sendable {
    /// The HTTP status code.
    var status: Int
    /// The (decoded) response body.
    var body: [UInt8]
}

/// Timeouts and TLS material applied to every transfer.
struct TransferOptions: Sendable {
    /// The whole transfer's limit, connection included (CURLOPT_TIMEOUT_MS).
    var requestTimeout: Duration
    /// The limit for establishing the connection (CURLOPT_CONNECTTIMEOUT_MS).
    var connectTimeout: Duration
    /// CA bundle, client certificate and key, verification switch.
    var tls: ElasticsearchSettings.TLS
}

/// A transfer libcurl could not complete, with curl's own code and message.
struct TransferError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure, coarse enough to be a metric label.
    enum Kind: Sendable {
        /// Name resolution or TCP connect failed.
        case connection
        /// The connect or request timeout passed.
        case timeout
        /// The TLS handshake or certificate verification failed.
        case tls
        /// Anything else: reset, truncated response, send or receive error.
        case transport
    }

    /// The failure's kind.
    var kind: Kind
    /// The `CURLcode`.
    var code: Int
    /// curl's error buffer (or `curl_easy_strerror` when that is empty).
    var message: String

    var description: String { "\(message) (curl error \(code))" }
}

/// A libcurl easy handle. A handle keeps its connection open between transfers (HTTP keep-alive),
/// so the shipper keeps one per node and reuses it.
///
/// Unchecked `Sendable`: a handle is used by one transfer at a time, which the shipper's handle
/// pool guarantees; libcurl allows a handle to move between threads between transfers.
final class CurlEasy: @unchecked Sendable {
    private static let globalInit: CURLcode = lookout_curl_global_init()
    private static let transfers = DispatchQueue(label: "lookout.elasticsearch.curl", attributes: .concurrent)

    private let handle: UnsafeMutableRawPointer

    /// Creates a handle, initialising libcurl the first time.
    init() throws(TransferError) {
        guard Self.globalInit == CURLE_OK, let handle = curl_easy_init() else {
            throw TransferError(kind: .transport, code: Int(Self.globalInit.rawValue), message: "libcurl could not be initialised")
        }
        self.handle = handle
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Performs `request` on the transfer queue. Cancelling the calling task aborts the transfer
    /// within about a second (libcurl calls the progress function at least once a second) and
    /// throws `CancellationError`.
    func perform(_ request: HTTPRequest, options: TransferOptions) async throws -> HTTPResponse {
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
        curl_easy_reset(handle)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, header)
        }
        defer { curl_slist_free_all(headerList) }
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
                return curl_easy_perform(handle)
            }
        }

        if code == CURLE_ABORTED_BY_CALLBACK, transfer.cancelled.load(ordering: .relaxed) {
            throw CancellationError()
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TransferError(
                kind: Self.kind(of: code), code: Int(code.rawValue),
                message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        }
        var status = 0
        _ = lookout_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: transfer.body)
    }

    private static func kind(of code: CURLcode) -> TransferError.Kind {
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

/// The state one transfer's callbacks share: the response body so far and the cancellation flag.
private final class Transfer: Sendable {
    let cancelled = Atomic<Bool>(false)
    private let received = Mutex<[UInt8]>([])

    var body: [UInt8] { received.withLock { $0 } }

    func append(_ bytes: UnsafeRawBufferPointer) {
        received.withLock { $0.append(contentsOf: bytes) }
    }
}

private func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    transfer.append(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
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
    /// Whole milliseconds, at least 1 so that a tiny test timeout never means "no timeout" to curl.
    fileprivate var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
