import MedleyProtocol
import MedleySystem
import Synchronization

/// Where ``EventLogAppender`` leaves completions for a thread that runs a poll loop, such as
/// the broker's ZeroMQ loop, together with a file descriptor that becomes readable when there
/// is something to collect.
///
/// Register ``fileDescriptor`` with the loop's poller (`Poller.register(fileDescriptor:)`);
/// when it is readable, call ``drain()``. The descriptor is the read end of a non-blocking
/// pipe that holds one byte while completions wait, so it wakes `zmq_poll` without a ZeroMQ
/// socket crossing threads. Any thread may post; one thread should drain.
public final class EventLogCompletionMailbox<Token: Sendable>: Sendable {
    /// One finished submission.
    public struct Completion: Sendable {
        /// What the submitter passed to ``EventLogAppender/submit(_:token:to:)``.
        public var token: Token
        /// The positions of the events, in order, or why none of them was logged.
        public var result: Result<[Medley_V1_LogPosition], EventLogError>
        /// The records as the log wrote them (`EventLogRecord` protobuf), in order; empty when
        /// nothing was logged. Forwarding these is forwarding exactly what the log holds.
        public var records: WrittenRecords
    }

    private struct State: ~Copyable {
        var completions: [Completion] = []
        /// The pipe holds its byte exactly when this is true; both change under the lock, so a
        /// wake-up is never lost between a drain and a post.
        var signalled = false
    }

    /// The descriptor to poll for readability.
    public var fileDescriptor: CInt { wakeUp.fileDescriptor }
    private let wakeUp: WakeUpPipe
    private let state = Mutex(State())

    public init() throws(EventLogError) {
        do {
            wakeUp = try WakeUpPipe()
        } catch {
            throw .system(error)
        }
    }

    /// Leaves a completion and wakes the polling thread if it was not already woken.
    func post(_ completion: Completion) {
        state.withLock { state in
            state.completions.append(completion)
            guard !state.signalled else { return }
            state.signalled = true
            wakeUp.signal()
        }
    }

    /// Takes every waiting completion, in the order they were posted, and clears the
    /// descriptor's readability. Never blocks; returns an empty array when nothing waits.
    public func drain() -> [Completion] {
        state.withLock { state in
            wakeUp.drain()
            state.signalled = false
            let taken = state.completions
            state.completions = []
            return taken
        }
    }
}
