import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-shot "please stop" that a poll loop can wait on: a pipe whose read end becomes
/// readable once ``trigger()`` is called (by a signal handler's dispatch source, or a test).
public final class StopSignal: Sendable {
    /// Poll this for readability.
    public var fileDescriptor: CInt { pipe.fileDescriptor }
    /// Never drained: once triggered, the signal stays readable for every loop that polls it.
    private let pipe: WakeUpPipe
    private let sources: DispatchSourceBox

    public init() {
        do {
            pipe = try WakeUpPipe()
        } catch {
            // Only descriptor exhaustion at start-up gets here; nothing could run without one.
            preconditionFailure("stop signal: \(error)")
        }
        sources = DispatchSourceBox()
    }

    deinit {
        sources.cancelAll()
    }

    /// Makes ``fileDescriptor`` readable. Safe from any thread, more than once.
    public func trigger() {
        pipe.signal()
    }

    /// Waits up to `milliseconds` for ``trigger()``; returns whether it was triggered.
    public func wait(milliseconds: Int32) -> Bool {
        pipe.wait(milliseconds: milliseconds)
    }

    /// Triggers on SIGTERM and SIGINT instead of letting them kill the process.
    public func triggerOnTerminationSignals() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.trigger() }
            source.resume()
            sources.append(source)
        }
    }
}

/// Keeps the signal sources alive as long as the stop signal.
private final class DispatchSourceBox: @unchecked Sendable {
    // Sound: appended to only during set-up on one thread and cancelled in deinit.
    private var sources: [any DispatchSourceSignal] = []

    func append(_ source: any DispatchSourceSignal) { sources.append(source) }

    func cancelAll() {
        for source in sources { source.cancel() }
    }
}
