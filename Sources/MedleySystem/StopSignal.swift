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
    public let fileDescriptor: CInt
    private let writeDescriptor: CInt
    private let sources: DispatchSourceBox

    public init() {
        var descriptors: [CInt] = [-1, -1]
        precondition(pipe(&descriptors) == 0, "pipe failed: errno \(errno)")
        fileDescriptor = descriptors[0]
        writeDescriptor = descriptors[1]
        sources = DispatchSourceBox()
    }

    deinit {
        sources.cancelAll()
        close(fileDescriptor)
        close(writeDescriptor)
    }

    /// Makes ``fileDescriptor`` readable. Safe from any thread, more than once.
    public func trigger() {
        var byte: UInt8 = 1
        while write(writeDescriptor, &byte, 1) < 0 && errno == EINTR {}
    }

    /// Waits up to `milliseconds` for ``trigger()``; returns whether it was triggered.
    public func wait(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready >= 0 { return ready > 0 }
            if errno != EINTR { return false }
        }
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
