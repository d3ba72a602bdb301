import Foundation

/// The hand-over between producers and the log thread: submissions wait here until the log
/// thread takes them all at once, which is what makes a group.
///
/// `@unchecked Sendable`: every stored property is read and written only with `condition`
/// locked.
final class SubmissionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Submission] = []
    private var closing = false
    private var finished = false
    private var closeError: EventLogError?
    private var publishedStatistics = EventLogWriter.Statistics()
    private var publishedLastSyncedSequence: UInt64 = 0

    /// Adds a submission; false once closing has begun.
    func enqueue(_ submission: Submission) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closing else { return false }
        pending.append(submission)
        condition.signal()
        return true
    }

    /// Log thread: waits for submissions and takes all of them; nil when closing has begun
    /// and nothing is left.
    func takeAll() -> [Submission]? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !closing { condition.wait() }
        if pending.isEmpty { return nil }
        return takeLocked()
    }

    /// Log thread: takes the submissions that arrive before `deadline`, waiting for the first
    /// of them; nil at the deadline, or at once when closing has begun, so shutdown is not
    /// delayed.
    func takeMore(until deadline: ContinuousClock.Instant) -> [Submission]? {
        condition.lock()
        defer { condition.unlock() }
        let clock = ContinuousClock()
        while pending.isEmpty && !closing {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return nil }
            let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) * 1e-18
            _ = condition.wait(until: Date(timeIntervalSinceNow: seconds))
        }
        if pending.isEmpty { return nil }
        return takeLocked()
    }

    private func takeLocked() -> [Submission] {
        let taken = pending
        pending = []
        return taken
    }

    /// Stops taking submissions; the log thread finishes what is queued.
    func requestClose() {
        condition.lock()
        closing = true
        condition.broadcast()
        condition.unlock()
    }

    /// Log thread: the writer's counters after a group, for ``EventLogAppender/statistics``.
    func publish(statistics: EventLogWriter.Statistics, lastSyncedSequence: UInt64) {
        condition.lock()
        publishedStatistics = statistics
        publishedLastSyncedSequence = lastSyncedSequence
        condition.unlock()
    }

    var statistics: EventLogWriter.Statistics {
        condition.lock()
        defer { condition.unlock() }
        return publishedStatistics
    }

    var lastSyncedSequence: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return publishedLastSyncedSequence
    }

    /// Log thread: the writer is closed (or never opened) and the thread is ending.
    func markFinished(closeError: EventLogError? = nil) {
        condition.lock()
        closing = true
        finished = true
        self.closeError = closeError
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for ``markFinished(closeError:)``; throws the writer's close error.
    func waitUntilFinished() throws(EventLogError) {
        condition.lock()
        while !finished { condition.wait() }
        let error = closeError
        condition.unlock()
        if let error { throw error }
    }
}
