import Logging

/// The loop of the appender's log thread: take a group, write it, sync it, complete it.
///
/// It owns the writer; nothing else touches it.
struct LogThread {
    let writer: EventLogWriter
    let queue: SubmissionQueue
    let logger: Logger

    func run() {
        let clock = ContinuousClock()
        // The last sync's end; a quiet log syncs a new group at once.
        var lastSync = clock.now - .seconds(3600)
        while let first = queue.takeAll() {
            var group = Group()
            group.write(first, to: writer)
            if case .interval(let milliseconds) = writer.configuration.syncPolicy {
                // Under load, gather what arrives until the interval since the last sync is up.
                let deadline = lastSync + .milliseconds(milliseconds)
                while group.error == nil, let more = queue.takeMore(until: deadline) {
                    group.write(more, to: writer)
                }
            }
            if group.error == nil, writer.configuration.syncPolicy != .never, group.hasSuccess {
                do throws(EventLogError) {
                    try writer.sync()
                } catch {
                    group.error = error
                }
                lastSync = clock.now
            }
            queue.publish(statistics: writer.statistics, lastSyncedSequence: writer.lastSyncedSequence)
            group.complete()
        }
        var closeError: EventLogError?
        do throws(EventLogError) {
            try writer.close()
        } catch {
            logger.error("closing the event log failed", metadata: ["error": "\(error)"])
            closeError = error
        }
        queue.publish(statistics: writer.statistics, lastSyncedSequence: writer.lastSyncedSequence)
        queue.markFinished(closeError: closeError)
    }

    /// The submissions written since the last sync, which one sync acknowledges together.
    private struct Group {
        var submissions: [Submission] = []
        var results: [Result<EventLogWriter.AppendedBatch, EventLogError>] = []
        /// A write or sync failure: the writer rolled back everything of the group.
        var error: EventLogError?

        var hasSuccess: Bool {
            results.contains { if case .success = $0 { true } else { false } }
        }

        mutating func write(_ chunk: [Submission], to writer: EventLogWriter) {
            let failuresBefore = writer.statistics.failures
            let chunkResults = writer.appendGroupKeepingRecords(chunk.map(\.batch))
            submissions += chunk
            results += chunkResults
            if writer.statistics.failures > failuresBefore, error == nil {
                for case .failure(let failure) in chunkResults {
                    error = failure
                    break
                }
            }
        }

        /// Runs every completion: a group error turns the group's successes into failures,
        /// because the writer rolled them back; an event that could not be encoded keeps its
        /// own error.
        func complete() {
            for (submission, result) in zip(submissions, results) {
                switch result {
                case .success where error != nil: submission.complete(.failure(error!), WrittenRecords())
                case .success(let appended): submission.complete(.success(appended.positions), appended.records)
                case .failure(let failure): submission.complete(.failure(failure), WrittenRecords())
                }
            }
        }
    }
}
