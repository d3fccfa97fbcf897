#if canImport(Glibc)
import Glibc
#endif
import HummingbirdCore
import Logging
import LookoutSupport
import MetricModel
import NIOCore
import NIOSSL
import NIOTLS

/// The TLS side of a web configuration: the context each new connection's handshake uses, built
/// from `tls_server_config` and the files it names.
struct ServerTLS: Sendable {
    /// The context, with its certificate, key, versions, ciphers, curves and client verification.
    let context: NIOSSLContext
    /// Whether any client certificate is taken unverified (`RequestClientCert`,
    /// `RequireAnyClientCert`), as Go's `tls` takes it for those modes.
    let acceptsUnverifiedClients: Bool
    /// `client_allowed_sans`, checked after the handshake.
    let allowedSANs: [String]?

    /// The PEM bytes a `tls_server_config` names, from its files or inline: what a context is
    /// built from, and what tells a rotated certificate from the one in use.
    struct Material: Equatable, Sendable {
        var certificate: [UInt8]
        var key: [UInt8]
        var clientCA: [UInt8]?

        /// Reads the files of `tls` (each at most 1 MiB) or takes its inline PEM.
        static func read(_ tls: WebConfiguration.TLSServer) throws(ConfigurationError) -> Material {
            Material(
                certificate: try pem(file: tls.certificateFile, inline: tls.certificate, key: "cert_file") ?? [],
                key: try pem(file: tls.keyFile, inline: tls.key, key: "key_file") ?? [],
                clientCA: try pem(file: tls.clientCAFile, inline: tls.clientCA, key: "client_ca_file"))
        }

        private static func pem(file: String?, inline: String?, key: String) throws(ConfigurationError) -> [UInt8]? {
            guard let file else { return inline.map { Array($0.utf8) } }
            do {
                return Array(try TextFile.read(file, maximumBytes: WebConfiguration.maximumFileBytes)!.utf8)
            } catch {
                throw ConfigurationError(key: "tls_server_config.\(key)", line: nil, message: "failed to read \(key) (\(file)): \(error.reason)")
            }
        }
    }

    /// The TLS of `tls` over `material`, or the one-line reason it cannot be built.
    static func make(_ tls: WebConfiguration.TLSServer, material: Material) throws(ConfigurationError) -> ServerTLS {
        func failure(_ key: String, _ message: String) -> ConfigurationError {
            ConfigurationError(key: "tls_server_config.\(key)", line: nil, message: message)
        }
        let chain = (try? NIOSSLCertificate.fromPEMBytes(material.certificate)) ?? []
        guard !chain.isEmpty else {
            throw failure("cert_file", "failed to load X509KeyPair: no PEM certificate in the certificate input")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: material.key, format: .pem)
        } catch {
            throw failure("key_file", "failed to load X509KeyPair: no PEM private key in the key input")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = tls.minimumVersion
        configuration.maximumTLSVersion = tls.maximumVersion
        // Go applies cipher_suites to TLS 1.2 and below only; TLS 1.3's suites are not configurable.
        let olderCiphers = tls.cipherSuites.filter { $0.rawValue >> 8 != 0x13 }
        if !olderCiphers.isEmpty { configuration.cipherSuiteValues = olderCiphers }
        if !tls.curves.isEmpty { configuration.curves = tls.curves }
        configuration.applicationProtocols = ["http/1.1"]
        switch tls.clientAuth {
        case .none: configuration.certificateVerification = .none
        case .request, .verifyIfGiven: configuration.certificateVerification = .optionalVerification
        case .requireAny, .requireAndVerify: configuration.certificateVerification = .noHostnameVerification
        }
        if let clientCA = material.clientCA {
            let authorities = (try? NIOSSLCertificate.fromPEMBytes(clientCA)) ?? []
            guard !authorities.isEmpty else { throw failure("client_ca_file", "no PEM certificate in the client CA input") }
            configuration.trustRoots = .certificates(authorities)
            configuration.sendCANameList = true
        }
        do {
            return ServerTLS(
                context: try NIOSSLContext(configuration: configuration),
                acceptsUnverifiedClients: tls.clientAuth == .request || tls.clientAuth == .requireAny,
                allowedSANs: tls.clientAllowedSANs)
        } catch {
            throw failure("key_file", "failed to load X509KeyPair: the key does not fit the certificate or a setting is refused (\(error))")
        }
    }
}

/// A connection of the TLS listener: plain HTTP is answered with Go's 400, the handshake uses the
/// web configuration as it is when the connection arrives (so a replaced certificate takes effect
/// without a restart), and `client_allowed_sans` is checked once the handshake completes.
struct SecuredChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    /// The HTTP/1.1 channel this wraps.
    let base: Base
    /// The web configuration, read again for each connection.
    let security: WebSecurity

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture { () throws in
            let tls: ServerTLS
            do {
                tls = try security.serverTLS()
            } catch {
                security.reportUnusable(error, "refused a connection: the web configuration cannot serve TLS", logger: logger)
                throw error
            }
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(PlainHTTPRefusal(errors: security.errors))
            let acceptAny: NIOSSLCustomVerificationCallback? =
                tls.acceptsUnverifiedClients ? { _, promise in promise.succeed(.certificateVerified) } : nil
            try pipeline.addHandler(
                NIOSSLServerHandler(context: tls.context, customVerificationCallback: acceptAny, configuration: .init()))
            try pipeline.addHandler(HandshakeCheck(allowedSANs: tls.allowedSANs, errors: security.errors, logger: logger))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// First on a TLS connection: when the first bytes are an HTTP request rather than a TLS record,
/// answers as Go's `net/http` does ("400 Bad Request", "Client sent an HTTP request to an HTTPS
/// server.") and closes, so a client given `http://` learns why.
final class PlainHTTPRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The record starts Go recognises as HTTP (`tlsRecordHeaderLooksLikeHTTP`).
    static let httpStarts: Set<String> = ["GET /", "HEAD ", "POST ", "PUT /", "OPTIO"]
    /// Go's answer, byte for byte.
    static let answer = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

    private let errors: ComponentErrors
    private var received = ByteBuffer()

    init(errors: ComponentErrors) {
        self.errors = errors
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        // A TLS record starts with its content type, 0x16 for a handshake; anything else needs
        // five bytes to be told from HTTP.
        if received.readableBytes < 5, received.readableBytesView.first != 0x16 { return }
        let start = received.getString(at: received.readerIndex, length: min(5, received.readableBytes)) ?? ""
        if Self.httpStarts.contains(start) {
            errors.record(.http, .tls)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.answer))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.fireChannelRead(wrapInboundOut(received))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// After the TLS handler: counts failed handshakes (a refused client certificate, no shared
/// version or cipher) and checks `client_allowed_sans` against the client's certificate.
final class HandshakeCheck: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let allowedSANs: [String]?
    private let errors: ComponentErrors
    private let logger: Logger

    init(allowedSANs: [String]?, errors: ComponentErrors, logger: Logger) {
        self.allowedSANs = allowedSANs
        self.errors = errors
        self.logger = logger
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, let allowedSANs {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            let names = handler?.peerCertificate.map(Self.subjectAlternativeNames) ?? []
            guard names.contains(where: allowedSANs.contains) else {
                errors.record(.http, .tls)
                logger.debug("refused a client certificate: none of its names is in client_allowed_sans",
                             metadata: ["names": "\(names)", "peer": "\(context.remoteAddress?.description ?? "")"])
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError {
            errors.record(.http, .tls)
            logger.debug("TLS handshake failed", metadata: ["error": "\(error)", "peer": "\(context.remoteAddress?.description ?? "")"])
        }
        context.fireErrorCaught(error)
    }

    /// The certificate's DNS names, e-mail addresses, IP addresses and URIs, as Go prints them.
    static func subjectAlternativeNames(_ certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().map { name in
            let bytes = name.contents.withUnsafeBufferPointer { Array($0) }
            guard name.nameType == .ipAddress else { return String(decoding: bytes, as: UTF8.self) }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let family = bytes.count == 4 ? AF_INET : AF_INET6
            guard bytes.count == 4 || bytes.count == 16, inet_ntop(family, bytes, &text, socklen_t(text.count)) != nil else { return "" }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}
