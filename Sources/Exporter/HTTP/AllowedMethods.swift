import HTTPTypes
import Hummingbird
import MetricModel
import NIOCore

/// A path's methods: every other common method gets `405 Method Not Allowed` with an `Allow`
/// header listing the ones it takes (RFC 9110 §15.5.6), as Prometheus' router answers, instead of
/// a 404 that says the path does not exist. Each refusal is counted.
struct AllowedMethods {
    /// The methods a 405 is given for when a path does not take them.
    static let common: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    /// The methods the path takes.
    let allowed: [HTTPRequest.Method]

    /// Registers the 405 answers for `path` on `router`.
    func refuseOthers(at path: RouterPath, on router: Router<BasicRequestContext>, errors: ComponentErrors) {
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        for method in Self.common where !allowed.contains(method) {
            router.on(path, method: method) { request, _ in
                errors.record(.http, .methodNotAllowed)
                let text = method == .head ? "" : "Method \(request.method.rawValue) is not allowed here; allowed: \(allow).\n"
                return Response(status: .methodNotAllowed, headers: [.allow: allow, .contentType: "text/plain; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
        }
    }
}
