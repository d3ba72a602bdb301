import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT, turned into triggers of the ``StopSignal``s that asked for them.
///
/// The handler is installed synchronously (`signal(2)`), so a signal that arrives as soon as
/// a process has set up is never lost. (A dispatch signal source registers later, on a queue
/// of its own, and a signal that came meanwhile met `SIG_IGN` and was dropped.) The handler
/// only writes a byte to a process-wide pipe, which is async-signal-safe; a read source
/// drains the pipe and triggers the registered stop signals. A byte written before that
/// source is registered stays in the pipe until it is.
///
/// Registering also unblocks both signals in the calling thread: a process inherits its
/// parent's blocked signals (a supervisor spawning it from a dispatch thread blocks nearly
/// all), and a signal blocked in every thread would never reach the handler. Call it from a
/// thread that lives as long as the process, such as the main thread.
enum TerminationSignals {
    static let signalNumbers: [CInt] = [SIGTERM, SIGINT]

    private struct Registry: ~Copyable {
        var pipe: WakeUpPipe?
        var source: (any DispatchSourceRead)?
        var stops: [Weak] = []
    }

    private struct Weak {
        weak var stop: StopSignal?
    }

    private static let registry = Mutex(Registry())

    /// Triggers `stop` on every later SIGTERM and SIGINT (until it is deallocated).
    static func register(_ stop: StopSignal) {
        registry.withLock { registry in
            registry.stops.removeAll { $0.stop == nil }
            registry.stops.append(Weak(stop: stop))
            if registry.pipe == nil { start(&registry) }
            var unblocked = sigset_t()
            sigemptyset(&unblocked)
            for signalNumber in signalNumbers {
                signal(signalNumber, terminationHandler)
                sigaddset(&unblocked, signalNumber)
            }
            pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        }
    }

    /// Creates the pipe and its read source, and publishes the pipe's write end to the handler.
    private static func start(_ registry: inout Registry) {
        let pipe: WakeUpPipe
        do {
            pipe = try WakeUpPipe()
        } catch {
            // Only descriptor exhaustion at start-up gets here; nothing could run without one.
            preconditionFailure("termination signals: \(error)")
        }
        registry.pipe = pipe
        let source = DispatchSource.makeReadSource(fileDescriptor: pipe.fileDescriptor, queue: .global())
        source.setEventHandler {
            pipe.drain()
            let stops = TerminationSignals.registry.withLock { $0.stops.compactMap(\.stop) }
            for stop in stops { stop.trigger() }
        }
        source.resume()
        registry.source = source
        // Published before the handler exists, so the handler never sees it half-written.
        handlerWriteDescriptor = pipe.writeFileDescriptor
    }
}

/// The pipe's write end, set once before the handler is installed and never changed after:
/// the handler reads a plain integer, which needs no lock.
nonisolated(unsafe) private var handlerWriteDescriptor: CInt = -1

private func terminationHandler(_: CInt) {
    let saved = errno
    var byte: UInt8 = 1
    // A full pipe is readable already; the write end is non-blocking.
    _ = write(handlerWriteDescriptor, &byte, 1)
    errno = saved
}
