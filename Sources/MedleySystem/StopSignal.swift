/// A one-shot "please stop" that a poll loop can wait on: a pipe whose read end becomes
/// readable once ``trigger()`` is called (by SIGTERM or SIGINT after
/// ``triggerOnTerminationSignals()``, or by the process itself).
public final class StopSignal: Sendable {
    /// Poll this for readability.
    public var fileDescriptor: CInt { pipe.fileDescriptor }
    /// Never drained: once triggered, the signal stays readable for every loop that polls it.
    private let pipe: WakeUpPipe

    public init() {
        do {
            pipe = try WakeUpPipe()
        } catch {
            // Only descriptor exhaustion at start-up gets here; nothing could run without one.
            preconditionFailure("stop signal: \(error)")
        }
    }

    /// Makes ``fileDescriptor`` readable. Safe from any thread, more than once.
    public func trigger() {
        pipe.signal()
    }

    /// Waits up to `milliseconds` for ``trigger()``; returns whether it was triggered.
    public func wait(milliseconds: Int32) -> Bool {
        pipe.wait(milliseconds: milliseconds)
    }

    /// Triggers on SIGTERM and SIGINT instead of letting them kill the process, from the
    /// moment this returns (``TerminationSignals``). Call it from the main thread: it unblocks
    /// both signals in the calling thread.
    public func triggerOnTerminationSignals() {
        TerminationSignals.register(self)
    }
}
