import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The timers of scrape rounds (when to bring in helper threads, when the deadline passes), kept
/// by one thread of its own that sleeps until the earliest of them.
///
/// A round's timers almost never fire: a scrape's collectors finish in well under the first one,
/// and the round cancels it. A dispatch timer source cost three thread wake-ups a scrape for
/// that — dispatch's manager thread to arm it and again to disarm it, a worker to deliver the
/// cancellation — and 6–8 % of a small scrape's CPU (bench/RESULTS.md, sixth pass). Here arming wakes
/// the watchdog only when the new time is earlier than the one it sleeps until, and cancelling
/// never wakes it: it wakes at the time it chose, finds nothing due, and sleeps again.
final class ScrapeWatchdog: Sendable {
    /// A timer that has been armed, for ``cancel(_:)``.
    struct Timer: Sendable {
        fileprivate let id: UInt64
    }

    private struct Entry {
        var id: UInt64
        var due: DispatchTime
        var action: @Sendable () -> DispatchTime?
    }

    private struct State {
        var entries: [Entry] = []
        var nextID: UInt64 = 0
        /// When the watchdog will next look at its entries on its own; nil while it sleeps until woken.
        var sleepingUntil: DispatchTime?
        /// Whether the thread has been started (on the first timer).
        var started = false
    }

    /// The one watchdog of the process.
    static let shared = ScrapeWatchdog()

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    private init() {}

    /// Runs `action` on the watchdog's thread at `due`, unless cancelled first, and again at the
    /// time it returns, if any, under the same timer. The action must not block: it holds up
    /// every other timer.
    func arm(at due: DispatchTime, _ action: @escaping @Sendable () -> DispatchTime?) -> Timer {
        let (timer, mustWake, mustStart) = state.withLock { state -> (Timer, Bool, Bool) in
            state.nextID &+= 1
            state.entries.append(Entry(id: state.nextID, due: due, action: action))
            let mustStart = !state.started
            state.started = true
            let mustWake = state.sleepingUntil.map { due < $0 } ?? true
            if mustWake { state.sleepingUntil = due }
            return (Timer(id: state.nextID), mustWake, mustStart)
        }
        if mustStart {
            startThread()
        } else if mustWake {
            wake.signal()
        }
        return timer
    }

    /// Forgets `timer`; its action will not run if it has not started. An action running at that
    /// moment is not stopped, and the time it returns still counts.
    func cancel(_ timer: Timer) {
        state.withLock { state in
            if let index = state.entries.firstIndex(where: { $0.id == timer.id }) { state.entries.remove(at: index) }
        }
    }

    /// The thread's loop: run what is due, then sleep until the earliest entry or a wake-up.
    private func watch() {
        while true {
            let now = DispatchTime.now()
            let (due, next) = state.withLock { state -> ([Entry], DispatchTime?) in
                var due: [Entry] = []
                state.entries.removeAll { entry in
                    guard entry.due <= now else { return false }
                    due.append(entry)
                    return true
                }
                let next = state.entries.min { $0.due < $1.due }?.due
                state.sleepingUntil = next
                return (due, next)
            }
            // Several are due at once when the thread woke late: they run in the order they fell due.
            let again = due.sorted { $0.due < $1.due }.compactMap { entry in
                entry.action().map { Entry(id: entry.id, due: $0, action: entry.action) }
            }
            state.withLock { $0.entries.append(contentsOf: again) }
            // The actions may have armed new timers; a wake-up signalled meanwhile is kept by the
            // semaphore and ends the wait at once.
            if !due.isEmpty { continue }
            _ = wake.wait(timeout: next ?? .distantFuture)
        }
    }

    private func startThread() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            let watchdog = Unmanaged<ScrapeWatchdog>.fromOpaque(context!).takeRetainedValue()
            ScrapeWatchdog.nameThisThread()
            watchdog.watch()
            return nil
        }, context)
        // Without a thread of its own (the process is out of threads), the loop takes one of
        // dispatch's for good; the scrapes keep their deadlines either way.
        guard created == 0 else {
            Unmanaged<ScrapeWatchdog>.fromOpaque(context).release()
            DispatchQueue.global().async { self.watch() }
            return
        }
        pthread_detach(thread)
    }

    /// Names the calling thread `lookout-watch` for ps, top and perf; it would otherwise show
    /// the name of the dispatch thread that started it. Swift's Glibc module does not import
    /// `pthread_setname_np` (a GNU extension), so the name goes through the thread's `comm` file.
    private static func nameThisThread() {
        let file = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard file >= 0 else { return }
        defer { close(file) }
        let name = "lookout-watch"
        _ = name.withCString { write(file, $0, strlen($0)) }
    }
}
