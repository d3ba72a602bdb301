import Dispatch
import Foundation
import Logging
import MedleyProtocol
import MedleySystem

/// Group commit: runs an ``EventLogWriter`` on a dedicated thread and takes batches from any
/// number of producers.
///
/// The log thread takes everything queued, appends it with one write, syncs once as the
/// policy says, and then completes every batch of the group. A write or sync that fails
/// fails the whole group (nothing of it is acknowledged) and the writer rolls back to the
/// last acknowledged record before it takes the next group.
///
/// Three ways to submit, all thread-safe:
/// - ``append(_:receivedAtMs:)`` from async code;
/// - ``submit(_:completion:)`` with a callback, which runs on the log thread and must be
///   quick and must not call back into the appender's ``close()``;
/// - ``submit(_:token:to:)`` for a poll loop: the completion goes to an
///   ``EventLogCompletionMailbox`` whose descriptor wakes the loop.
public final class EventLogAppender: Sendable {
    /// The outcome of one submitted batch: its positions in order, or why nothing was logged.
    public typealias Result = Swift.Result<[Medley_V1_LogPosition], EventLogError>
    /// Called on the log thread once a batch is acknowledged or has failed.
    public typealias Completion = @Sendable (Result) -> Void

    /// What opening the log found and repaired.
    public let recoveryReport: RecoveryReport
    public let configuration: EventLogConfiguration
    private let queue: SubmissionQueue
    private let thread: OwnedThread

    /// Opens the log on a new log thread and waits until recovery is done.
    ///
    /// The writer is created on the log thread and never leaves it. Recovery reads the
    /// last segment, so this blocks the calling thread for that long: call it at start-up.
    public init(
        directory: String,
        configuration: EventLogConfiguration = EventLogConfiguration(),
        logger: Logger = Logger(label: "medley.eventlog")
    ) throws(EventLogError) {
        let queue = SubmissionQueue()
        let opened = OpenResult()
        thread = OwnedThread(name: "medley-eventlog") {
            let writer: EventLogWriter
            do throws(EventLogError) {
                writer = try EventLogWriter(directory: directory, configuration: configuration, logger: logger)
            } catch {
                opened.finish(.failure(error))
                queue.markFinished()
                return
            }
            opened.finish(.success(writer.recoveryReport))
            LogThread(writer: writer, queue: queue, logger: logger).run()
        }
        self.recoveryReport = try opened.wait().get()
        self.configuration = configuration
        self.queue = queue
    }

    deinit {
        // Does not wait: the log thread drains what is queued, closes the writer and ends.
        queue.requestClose()
    }

    /// Queues a batch; `completion` runs on the log thread with its positions once they are
    /// durable under the sync policy, or with the error that failed its group.
    public func submit(_ batch: EventLogBatch, completion: @escaping Completion) {
        if !queue.enqueue(Submission(batch: batch, complete: { result, _ in completion(result) })) {
            completion(.failure(.closed))
        }
    }

    /// Queues a batch; its completion is posted to `mailbox` with `token`.
    public func submit<Token: Sendable>(_ batch: EventLogBatch, token: Token, to mailbox: EventLogCompletionMailbox<Token>) {
        let submission = Submission(batch: batch) { result, records in mailbox.post(.init(token: token, result: result, records: records)) }
        if !queue.enqueue(submission) {
            mailbox.post(.init(token: token, result: .failure(.closed), records: WrittenRecords()))
        }
    }

    /// Appends `events` and returns their positions once they are durable under the sync
    /// policy.
    public func append(_ events: [Medley_V1_SessionEvent], receivedAtMs: Int64) async throws(EventLogError) -> [Medley_V1_LogPosition] {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
            submit(EventLogBatch(events: events, receivedAtMs: receivedAtMs)) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// The writer's counters after the last completed group.
    public var statistics: EventLogWriter.Statistics { queue.statistics }

    /// The sequence number of the last record acknowledged as durable; 0 if none.
    public var lastSyncedSequence: UInt64 { queue.lastSyncedSequence }

    /// Stops taking batches (later ones fail with ``EventLogError/closed``), completes
    /// everything already queued, closes the writer and waits for the log thread to end.
    /// Throws the error of the writer's final sync, if any. Must not be called from a
    /// completion callback.
    public func close() throws(EventLogError) {
        queue.requestClose()
        defer { thread.join() }
        try queue.waitUntilFinished()
    }
}

/// A batch and what to do when it is done.
struct Submission: Sendable {
    var batch: EventLogBatch
    /// With the batch's records as written (none on failure).
    var complete: @Sendable (EventLogAppender.Result, _ records: WrittenRecords) -> Void
}

/// The result of opening the writer, handed from the log thread to the initialiser.
private final class OpenResult: @unchecked Sendable {
    // Written once by the log thread before `done` is signalled, read after the wait.
    private var result: Result<RecoveryReport, EventLogError>?
    private let done = DispatchSemaphore(value: 0)

    func finish(_ result: Result<RecoveryReport, EventLogError>) {
        self.result = result
        done.signal()
    }

    func wait() -> Result<RecoveryReport, EventLogError> {
        done.wait()
        return result!
    }
}
