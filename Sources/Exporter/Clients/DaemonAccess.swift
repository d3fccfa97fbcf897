import ArgumentParser
import Curl
import LookoutSupport

/// The flags with which a client command (`summary`, `event`, `run`, `gate`) reaches a daemon
/// that `--web.config.file` secures: the CA its certificate is checked with, a client
/// certificate for mutual TLS, and basic-authentication credentials. Each has an environment
/// variable, for pipelines that set them once.
struct DaemonAccessOptions: ParsableArguments {
    @Option(name: .customLong("tls.ca-file"), help: "PEM CA bundle to check an https:// daemon's certificate with (default LOOKOUT_TLS_CA_FILE, else the system's).")
    var caFile: String?

    @Option(name: .customLong("tls.cert-file"), help: "PEM client certificate, for a daemon that asks for one (default LOOKOUT_TLS_CERT_FILE).")
    var certificateFile: String?

    @Option(name: .customLong("tls.key-file"), help: "PEM private key of --tls.cert-file (default LOOKOUT_TLS_KEY_FILE).")
    var keyFile: String?

    @Option(name: .customLong("basic-auth-file"), help: "File holding USER:PASSWORD on one line, for a daemon with basic_auth_users (default LOOKOUT_BASIC_AUTH_FILE).")
    var basicAuthFile: String?

    /// What these flags, or else the environment, give; a one-line problem otherwise.
    func resolve(_ environment: ProcessEnvironment = ProcessEnvironment()) throws(ClientProblem) -> DaemonAccess {
        let certificate = certificateFile ?? environment["LOOKOUT_TLS_CERT_FILE"]
        let key = keyFile ?? environment["LOOKOUT_TLS_KEY_FILE"]
        guard (certificate == nil) == (key == nil) else {
            throw ClientProblem("a client certificate needs its key: give both --tls.cert-file and --tls.key-file", exitCode: 64)
        }
        var authorization: String?
        if let path = basicAuthFile ?? environment["LOOKOUT_BASIC_AUTH_FILE"] {
            let credentials: String
            do {
                credentials = try SecretFile.read(path, what: "basic authentication")
            } catch {
                throw ClientProblem(error.description)
            }
            guard credentials.contains(":") else {
                throw ClientProblem("the basic authentication file \(path) must hold USER:PASSWORD")
            }
            authorization = "Authorization: Basic " + Base64.encoded(Array(credentials.utf8))
        }
        return DaemonAccess(
            tls: TLSOptions(caFile: caFile ?? environment["LOOKOUT_TLS_CA_FILE"], clientCertificateFile: certificate, clientKeyFile: key),
            authorization: authorization)
    }
}

/// A problem with a client command's flags (where the daemon is, its token, how to reach it),
/// for one line on standard error.
struct ClientProblem: Error, CustomStringConvertible {
    /// The line.
    let description: String
    /// The exit status: 64 for a flag's bad value or flags that do not go together, 1 for a
    /// file that cannot serve.
    let exitCode: Int32

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}

/// How requests to the daemon are made: TLS material and the basic-authentication header.
struct DaemonAccess: Sendable {
    /// CA and client certificate for `https://`.
    var tls = TLSOptions()
    /// The `Authorization: Basic …` header line, when credentials were given.
    var authorization: String?

    /// The headers every request carries, before its own.
    var headers: [String] { authorization.map { [$0] } ?? [] }

    /// Transfer options with `timeout` for both connecting and the whole request.
    func transfer(timeout: Duration) -> TransferOptions {
        TransferOptions(requestTimeout: timeout, connectTimeout: timeout, tls: tls)
    }

    /// What a 401 from the daemon means for the user: no credentials given, or wrong ones.
    func unauthorized(_ base: String) -> String {
        authorization == nil
            ? "the daemon at \(base) wants credentials: give --basic-auth-file (or LOOKOUT_BASIC_AUTH_FILE)"
            : "the daemon at \(base) refused the credentials of --basic-auth-file"
    }

    /// A transfer failure, with a hint when it is TLS trouble: a certificate the CA cannot check,
    /// or a handshake the daemon refused (it wants a client certificate, or not this one).
    func unreachable(_ base: String, _ error: any Error) -> String {
        let text = "cannot reach the daemon at \(base): \(error)"
        guard let transfer = error as? TransferError else { return text }
        if transfer.kind == .tls, transfer.message.contains("certificate"), !transfer.message.contains("alert") {
            return text + "; give the CA of its certificate with --tls.ca-file (or LOOKOUT_TLS_CA_FILE)"
        }
        if transfer.message.contains("alert") {
            return text + "; does it want a client certificate it accepts (--tls.cert-file, --tls.key-file)?"
        }
        return text
    }

    /// What an answer about access rather than the request means: a 401 from basic
    /// authentication, or Go's 400 to plain HTTP on a TLS port. Nil for any other answer.
    func refusal(_ response: HTTPResponse, base: String) -> String? {
        let body = String(decoding: response.body, as: UTF8.self)
        if response.status == 401, body == "Unauthorized\n" { return unauthorized(base) }
        if response.status == 400, body.hasPrefix("Client sent an HTTP request to an HTTPS server.") {
            return "the daemon at \(base) serves TLS: use an https:// URL"
        }
        return nil
    }
}
