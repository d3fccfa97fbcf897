import Logging
import MetricModel
import NIOCore
import NIOPosix

/// First in the listening socket's pipeline: a failed `accept` (out of file descriptors, `EMFILE`
/// or `ENFILE`, or of memory) is counted as `lookout_component_errors_total{component="http",
/// error_type="accept"}` and logged, at most once every 10 s, instead of passing in silence.
/// NIO then pauses accepting for a second and tries again, so the endpoint comes back by itself
/// once descriptors are free.
final class AcceptFailures: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let errors: ComponentErrors
    private let logger: Logger
    private var lastLogged: ContinuousClock.Instant?
    private var unloggedSinceLast = 0

    init(errors: ComponentErrors, logger: Logger) {
        self.errors = errors
        self.logger = logger
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.record(.http, .accept)
        let now = ContinuousClock.now
        if let lastLogged, now - lastLogged < .seconds(10) {
            unloggedSinceLast += 1
        } else {
            logger.error(
                "cannot accept connections; new ones wait until this clears (is --web.max-connections above the file descriptor limit?)",
                metadata: ["error": "\(error)", "failures_since_last_message": "\(unloggedSinceLast)"])
            lastLogged = now
            unloggedSinceLast = 0
        }
        context.fireErrorCaught(error)
    }
}
