import Dispatch

/// Blocking work — SQLite with its fsyncs, a PromQL query — on a dispatch thread, never on the
/// cooperative pool, whose few threads the scrapes and every other request need.
enum BlockingWork {
    /// The result of `work`, run on a global dispatch queue.
    static func run<Value: Sendable, Failure: Error>(_ work: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(Failure) -> Value in try work() })
            }
        }
        return try result.get()
    }
}
