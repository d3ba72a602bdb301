import CZeroMQ
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A ZeroMQ context: the I/O threads and the in-process transport that its sockets share.
///
/// A context may be used from any thread, so it is `Sendable`; the sockets it makes are not.
/// Every socket keeps its context alive, so the context is never terminated under a socket.
///
/// Shutting down takes two steps, as libzmq intends: ``shutdown()`` wakes every blocking call
/// on every socket with ``ZMQError/Kind/contextTerminated`` (it never blocks), and the threads
/// that own sockets then close them; ``terminate()`` waits for that. Sockets are created with
/// a bounded linger (``Configuration/defaultLingerMilliseconds``), so termination never waits
/// forever for a peer that is gone.
public final class Context: @unchecked Sendable {
    // Sound because libzmq documents its context as thread-safe, `handle` is immutable after
    // init, and the only mutable state (`state`) is behind a Mutex.

    /// Settings for a new context.
    public struct Configuration: Sendable {
        /// Background I/O threads for tcp and other network transports. One is plenty below
        /// about a gigabyte a second.
        public var ioThreads: Int32 = 1
        /// The largest number of sockets the context allows at once.
        public var maxSockets: Int32 = 4096
        /// The linger applied to every socket this context creates: how long, in
        /// milliseconds, unsent messages are kept after the socket closes. libzmq's own
        /// default is forever, which is what makes processes hang on exit.
        public var defaultLingerMilliseconds: Int32 = 200

        public init(ioThreads: Int32 = 1, maxSockets: Int32 = 4096, defaultLingerMilliseconds: Int32 = 200) {
            self.ioThreads = ioThreads
            self.maxSockets = maxSockets
            self.defaultLingerMilliseconds = defaultLingerMilliseconds
        }
    }

    private enum State { case open, shutDown, terminated }

    let handle: UnsafeMutableRawPointer
    /// The configuration the context was created with.
    public let configuration: Configuration
    private let state = Mutex(State.open)

    /// Creates a context.
    public init(_ configuration: Configuration = Configuration()) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        self.configuration = configuration
        do {
            _ = try libzmqCall("zmq_ctx_set(ZMQ_IO_THREADS)") {
                zmq_ctx_set(handle, ZMQ_IO_THREADS, configuration.ioThreads)
            }
            _ = try libzmqCall("zmq_ctx_set(ZMQ_MAX_SOCKETS)") {
                zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, configuration.maxSockets)
            }
            // Not blocky: zmq_ctx_term must not wait on sockets' unsent messages beyond their linger.
            _ = try libzmqCall("zmq_ctx_set(ZMQ_BLOCKY)") { zmq_ctx_set(handle, ZMQ_BLOCKY, 0) }
        } catch {
            _ = zmq_ctx_term(handle)
            throw error
        }
    }

    /// The version of the libzmq library in use, as (major, minor, patch).
    public static var libraryVersion: (major: Int32, minor: Int32, patch: Int32) {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (major, minor, patch)
    }

    /// Whether libzmq was built with a capability, such as `"curve"` or `"ipc"`.
    public static func hasCapability(_ name: String) -> Bool {
        zmq_has(name) != 0
    }

    /// Creates a socket of the given type. The socket belongs to the calling thread until it
    /// is handed over whole; see ``Socket``.
    public func socket(_ type: SocketType) throws(ZMQError) -> Socket {
        try Socket(context: self, type: type)
    }

    /// Whether ``shutdown()`` or ``terminate()`` has been called.
    public var isShutDown: Bool { state.withLock { $0 != .open } }

    /// Makes every blocking call on this context's sockets return
    /// ``ZMQError/Kind/contextTerminated`` and refuses new sockets. Never blocks, and may be
    /// called from any thread (a signal handler's dispatch source, say) and more than once.
    public func shutdown() {
        let shouldShutDown = state.withLock { state -> Bool in
            guard state == .open else { return false }
            state = .shutDown
            return true
        }
        if shouldShutDown { _ = zmq_ctx_shutdown(handle) }
    }

    /// Shuts the context down and waits until every socket has been closed and its linger has
    /// passed. Call it once the threads that own sockets have been told to stop; calling it
    /// while a socket stays open forever blocks forever, as libzmq's `zmq_ctx_term` does.
    public func terminate() throws(ZMQError) {
        let shouldTerminate = state.withLock { state -> Bool in
            guard state != .terminated else { return false }
            state = .terminated
            return true
        }
        guard shouldTerminate else { return }
        _ = try libzmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
    }

    deinit {
        // Every socket holds its context, so none is left open here, and a context that is
        // not blocky with bounded-linger sockets terminates promptly. Terminating from deinit
        // on a separate thread still keeps a slow peer's linger off whatever thread released
        // the last reference.
        let alreadyTerminated = state.withLock { $0 == .terminated }
        if !alreadyTerminated {
            let handle = UncheckedContextHandle(pointer: handle)
            terminateInBackground(handle)
        }
    }
}

/// A raw context pointer handed to the thread that terminates it; nothing else holds it then.
struct UncheckedContextHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
}

/// Runs `zmq_ctx_term` on a detached thread, so that no caller waits on lingering messages.
private func terminateInBackground(_ handle: UncheckedContextHandle) {
    let box = Unmanaged.passRetained(ContextHandleBox(handle))
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
        let box = Unmanaged<ContextHandleBox>.fromOpaque(argument!).takeRetainedValue()
        while zmq_ctx_term(box.handle.pointer) != 0 && CZeroMQ_errno() == EINTR {}
        return nil
    }, box.toOpaque())
    if created == 0 {
        pthread_detach(thread)
    } else {
        // No thread to spare: terminate here rather than leak the context.
        let box = box.takeRetainedValue()
        while zmq_ctx_term(box.handle.pointer) != 0 && CZeroMQ_errno() == EINTR {}
    }
}

private final class ContextHandleBox {
    let handle: UncheckedContextHandle
    init(_ handle: UncheckedContextHandle) { self.handle = handle }
}
