import Dispatch
import Synchronization

/// Documents read from a source, with the position to save once every one is delivered.
package struct SourceBatch: Sendable {
    /// The documents, in source order.
    package var documents: [BulkDocument]
    /// The source position of the last document (a journal cursor): saved after delivery.
    package var checkpoint: String
    /// When the source received the newest document (µs since the epoch), for lag metrics.
    package var newestReceived: UInt64

    /// Creates a batch.
    package init(documents: [BulkDocument], checkpoint: String, newestReceived: UInt64) {
        self.documents = documents
        self.checkpoint = checkpoint
        self.newestReceived = newestReceived
    }
}

/// The bounded hand-off from a reading thread to the shipping task. A full channel blocks the
/// reader, so while the store is down the source simply stops being read and memory stays flat;
/// the journal itself is the buffer.
package final class BatchChannel: Sendable {
    private struct State {
        var batches: [SourceBatch] = []
        var waiting: CheckedContinuation<SourceBatch?, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    private let space: DispatchSemaphore

    /// A channel holding at most `capacity` batches.
    package init(capacity: Int) {
        precondition(capacity > 0, "a channel needs room for one batch")
        // Start at zero and add the room: libdispatch traps when a semaphore is freed holding
        // less than its initial value, which a close() during a full channel would cause.
        space = DispatchSemaphore(value: 0)
        for _ in 0..<capacity { space.signal() }
    }

    /// Hands over `batch`, blocking the calling thread while the channel is full. Returns false
    /// (and drops nothing the caller will not resend) when the channel was closed.
    @discardableResult
    package func send(_ batch: SourceBatch) -> Bool {
        space.wait()
        let waiter: CheckedContinuation<SourceBatch?, Never>?? = state.withLock { state in
            guard !state.closed else { return .none }
            if let waiting = state.waiting {
                state.waiting = nil
                return .some(waiting)
            }
            state.batches.append(batch)
            return .some(nil)
        }
        switch waiter {
        case .none:
            space.signal()
            return false
        case .some(.some(let continuation)):
            space.signal()
            continuation.resume(returning: batch)
            return true
        case .some(.none):
            return true
        }
    }

    /// The next batch; nil once the channel is closed and empty, or when the task is cancelled.
    package func receive() async -> SourceBatch? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<SourceBatch?, Never>) in
                let ready: SourceBatch?? = state.withLock { state in
                    if !state.batches.isEmpty { return .some(state.batches.removeFirst()) }
                    if state.closed || Task.isCancelled { return .some(nil) }
                    state.waiting = continuation
                    return .none
                }
                if case .some(let batch) = ready {
                    if batch != nil { space.signal() }
                    continuation.resume(returning: batch)
                }
            }
        } onCancel: {
            let waiting = state.withLock { state in
                defer { state.waiting = nil }
                return state.waiting
            }
            waiting?.resume(returning: nil)
        }
    }

    /// What ``poll()`` found.
    package enum Poll: Sendable {
        /// The next batch.
        case batch(SourceBatch)
        /// Nothing queued yet.
        case empty
        /// Closed and drained: nothing will come.
        case closed
    }

    /// The next batch if one is queued, without waiting.
    package func poll() -> Poll {
        let result: Poll = state.withLock { state in
            if !state.batches.isEmpty { return .batch(state.batches.removeFirst()) }
            return state.closed ? .closed : .empty
        }
        if case .batch = result { space.signal() }
        return result
    }

    /// Ends the stream: a blocked or later `send` returns false, `receive` drains what is queued
    /// and then returns nil.
    package func close() {
        let waiting = state.withLock { state in
            state.closed = true
            defer { state.waiting = nil }
            return state.batches.isEmpty ? state.waiting : nil
        }
        waiting?.resume(returning: nil)
        space.signal()  // wake a sender blocked on a full channel; it sees `closed`
    }
}
