#if canImport(Glibc)
import Glibc
#endif
import CGlibcExtras
import Logging
import ServiceLifecycle

/// Gives the heap memory a burst has freed back to the kernel, while the daemon ships: glibc's
/// allocator keeps what a backlog of bulk batches (megabytes each, a few in flight) freed, so a
/// daemon that once caught up with a large journal would hold that memory for good (bench/RESULTS.md:
/// 40 MiB anonymous after a 20,000-entry backlog, 11–15 MiB with trimming). Every `interval`, when
/// the heap holds more than `threshold` free bytes, `malloc_trim(3)` returns them.
struct HeapTrimming: Service {
    /// How often the heap is looked at.
    let interval: Duration
    /// Free bytes the heap may keep before they are returned.
    let threshold: Int
    let logger: Logger

    /// Every ten seconds, above 8 MiB free.
    init(interval: Duration = .seconds(10), threshold: Int = 8 << 20, logger: Logger) {
        self.interval = interval
        self.threshold = threshold
        self.logger = logger
    }

    func run() async throws {
        let interval = interval
        while !Task.isShuttingDownGracefully {
            // The sleep is cancelled by shutdown or cancellation, which ends the service at once.
            guard (try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }) != nil else { return }
            // Off the cooperative pool: trimming walks every arena under its lock.
            let threshold = threshold
            let returned = await BlockingWork.run { () -> Int? in Self.trim(above: threshold) }
            if let returned {
                logger.debug("returned free heap memory to the kernel", metadata: ["free_bytes_before": "\(returned)"])
            }
        }
    }

    /// Trims the heap when it holds more than `threshold` free bytes; returns how many it held, or
    /// nil when it held fewer and was left alone.
    static func trim(above threshold: Int) -> Int? {
        let free = Int(mallinfo2().fordblks)
        guard free > threshold else { return nil }
        malloc_trim(0)
        return free
    }
}
