import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a send or receive may wait.
public enum BlockingMode: Sendable {
    /// Wait (up to the socket's send or receive time-out, if one is set).
    case blocking
    /// Fail at once with ``ZMQError/Kind/wouldBlock`` if the call cannot complete now.
    case nonBlocking

    var flag: CInt { self == .blocking ? 0 : ZMQ_DONTWAIT }
}

/// Caps on one incoming multipart message, so a peer cannot make a receiver hold an
/// unbounded number of frames (libzmq's maximum message size caps each frame alone).
public struct MultipartLimits: Sendable, Equatable {
    /// The most frames kept.
    public var maxFrames: Int
    /// The most bytes kept, over all frames.
    public var maxTotalBytes: Int

    public init(maxFrames: Int, maxTotalBytes: Int) {
        self.maxFrames = maxFrames
        self.maxTotalBytes = maxTotalBytes
    }

    /// No cap.
    public static let unlimited = MultipartLimits(maxFrames: .max, maxTotalBytes: .max)
}

/// A multipart message received within ``MultipartLimits``.
public struct BoundedMultipart: Sendable, Equatable {
    /// The frames kept, in order: everything up to the first frame that would break a limit.
    public var frames: [[UInt8]]
    /// Whether frames were dropped because of the limits; the rest of the message was
    /// still read off the socket, so the next receive starts with the next message.
    public var isTruncated: Bool
    /// The frames and bytes of the whole message, kept or not.
    public var totalFrames: Int
    public var totalBytes: Int
}

/// A ZeroMQ socket.
///
/// libzmq sockets are not thread-safe: a socket belongs to one thread at a time, for its
/// whole life unless handed over whole. The type is therefore not `Sendable`, so Swift 6
/// refuses to share one between threads or tasks; create each socket on the thread that
/// uses it. The socket holds its ``Context`` alive and closes itself when released.
public final class Socket {
    /// The socket's pattern.
    public let type: SocketType
    /// The context the socket belongs to.
    public let context: Context
    private var handle: UnsafeMutableRawPointer?
    // Reused by receives, so a receive allocates nothing beyond the frame itself.
    private let scratch = Message()

    init(context: Context, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket(\(type))")
        }
        self.handle = handle
        self.type = type
        self.context = context
        do {
            try set(.lingerMilliseconds, context.configuration.defaultLingerMilliseconds)
        } catch {
            zmq_close(handle)
            self.handle = nil
            throw error
        }
    }

    deinit {
        close()
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { handle == nil }

    /// Closes the socket. Unsent messages are kept for the linger period by libzmq's I/O
    /// thread; this call never blocks. Closing twice does nothing.
    public func close() {
        guard let handle else { return }
        zmq_close(handle)
        self.handle = nil
    }

    func liveHandle(_ operation: @autoclosure () -> String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(code: CZeroMQ_ENOTSOCK, operation: operation()) }
        return handle
    }

    // MARK: Endpoints

    /// Accepts connections on an endpoint such as `tcp://127.0.0.1:5555`, `tcp://127.0.0.1:*`
    /// (a port the system picks; see ``lastEndpoint``) or `inproc://name`.
    public func bind(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_bind(\(endpoint))")
        _ = try libzmqCall("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
    }

    /// Stops accepting connections on an endpoint that was bound.
    public func unbind(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_unbind(\(endpoint))")
        _ = try libzmqCall("zmq_unbind(\(endpoint))") { zmq_unbind(handle, endpoint) }
    }

    /// Connects to an endpoint. libzmq connects in the background and reconnects after
    /// failures, so this succeeds before any peer is there.
    public func connect(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_connect(\(endpoint))")
        _ = try libzmqCall("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    /// Drops a connection made with ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_disconnect(\(endpoint))")
        _ = try libzmqCall("zmq_disconnect(\(endpoint))") { zmq_disconnect(handle, endpoint) }
    }

    /// The endpoint last bound, with the actual port for a wildcard `tcp://...:*`.
    public var lastEndpoint: String {
        get throws(ZMQError) { try get(.lastEndpoint) }
    }

    // MARK: Options

    /// Sets a socket option.
    public func set<Value>(_ option: SocketOption<Value>, _ value: Value) throws(ZMQError) {
        let handle = try liveHandle("zmq_setsockopt(\(option.name))")
        _ = try value.withOptionBytes { (bytes) throws(ZMQError) -> CInt in
            try libzmqCall("zmq_setsockopt(\(option.name))") {
                zmq_setsockopt(handle, option.code, bytes.baseAddress, bytes.count)
            }
        }
    }

    /// Reads a socket option.
    public func get<Value>(_ option: SocketOption<Value>) throws(ZMQError) -> Value {
        let handle = try liveHandle("zmq_getsockopt(\(option.name))")
        return try Value.read(from: handle, option: option.code, name: option.name)
    }

    /// SUB: receive messages whose first frame starts with `prefix` (empty: everything).
    public func subscribe(_ prefix: String) throws(ZMQError) {
        try set(.subscribe, Array(prefix.utf8))
    }

    /// SUB: stop receiving messages with this prefix.
    public func unsubscribe(_ prefix: String) throws(ZMQError) {
        try set(.unsubscribe, Array(prefix.utf8))
    }

    // MARK: Sending

    /// Sends one frame; `more` says another frame of the same message follows.
    public func send(_ frame: [UInt8], more: Bool = false, mode: BlockingMode = .blocking) throws(ZMQError) {
        try frame.withBytes { (bytes) throws(ZMQError) in try send(bytes, more: more, mode: mode) }
    }

    /// Sends one frame copied from `bytes`; `more` says another frame of the same message follows.
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, mode: BlockingMode = .blocking) throws(ZMQError) {
        let handle = try liveHandle("zmq_send")
        let flags = mode.flag | (more ? ZMQ_SNDMORE : 0)
        _ = try libzmqCall("zmq_send(\(bytes.count) bytes)") {
            zmq_send(handle, bytes.baseAddress, bytes.count, flags)
        }
    }

    /// Sends one frame held in a ``Message``; the message is empty afterwards.
    public func send(_ message: Message, more: Bool = false, mode: BlockingMode = .blocking) throws(ZMQError) {
        let handle = try liveHandle("zmq_msg_send")
        let flags = mode.flag | (more ? ZMQ_SNDMORE : 0)
        _ = try libzmqCall("zmq_msg_send(\(message.count) bytes)") { zmq_msg_send(message.pointer, handle, flags) }
    }

    /// Sends a multipart message. libzmq delivers all frames or none: once the first frame
    /// is queued, the rest never block.
    public func send(multipart frames: [[UInt8]], mode: BlockingMode = .blocking) throws(ZMQError) {
        precondition(!frames.isEmpty, "a message has at least one frame")
        for (index, frame) in frames.enumerated() {
            let isLast = index == frames.count - 1
            try send(frame, more: !isLast, mode: index == 0 ? mode : .blocking)
        }
    }

    /// Sends a multipart message, or returns `false` if the first frame cannot be queued now.
    public func trySend(multipart frames: [[UInt8]]) throws(ZMQError) -> Bool {
        do {
            try send(multipart: frames, mode: .nonBlocking)
            return true
        } catch where error.kind == .wouldBlock {
            return false
        }
    }

    // MARK: Receiving

    /// Receives one frame into `message`, replacing what it held, with `zmq_msg_recv`.
    public func receive(into message: Message, mode: BlockingMode = .blocking) throws(ZMQError) {
        let handle = try liveHandle("zmq_msg_recv")
        _ = try libzmqCall("zmq_msg_recv") { zmq_msg_recv(message.pointer, handle, mode.flag) }
    }

    /// Receives one frame and copies it out.
    public func receive(mode: BlockingMode = .blocking) throws(ZMQError) -> [UInt8] {
        try receive(into: scratch, mode: mode)
        return scratch.bytes
    }

    /// Whether the frame last received has more frames after it.
    public var hasMoreFrames: Bool {
        get throws(ZMQError) { try get(SocketOption<Int32>(code: ZMQ_RCVMORE, name: "ZMQ_RCVMORE")) != 0 }
    }

    /// Receives every frame of the next message.
    public func receiveMultipart(mode: BlockingMode = .blocking) throws(ZMQError) -> [[UInt8]] {
        try receiveMultipart(within: .unlimited, mode: mode).frames
    }

    /// Receives the next message, or returns `nil` if none is waiting.
    public func tryReceiveMultipart() throws(ZMQError) -> [[UInt8]]? {
        do {
            return try receiveMultipart(mode: .nonBlocking)
        } catch where error.kind == .wouldBlock {
            return nil
        }
    }

    /// Receives the next message within limits, or returns `nil` if none is waiting.
    public func tryReceiveMultipart(within limits: MultipartLimits) throws(ZMQError) -> BoundedMultipart? {
        do {
            return try receiveMultipart(within: limits, mode: .nonBlocking)
        } catch where error.kind == .wouldBlock {
            return nil
        }
    }

    /// Receives every frame of the next message, keeping frames only while they fit the
    /// limits; the rest of the message is read and dropped, so the socket stays in step.
    public func receiveMultipart(within limits: MultipartLimits, mode: BlockingMode = .blocking) throws(ZMQError) -> BoundedMultipart {
        var result = BoundedMultipart(frames: [], isTruncated: false, totalFrames: 0, totalBytes: 0)
        var keptBytes = 0
        var more = true
        var isFirst = true
        while more {
            // Only the first frame may be non-blocking: the rest of a message arrives with it.
            try receive(into: scratch, mode: isFirst ? mode : .blocking)
            isFirst = false
            // Read "more" before the frame is reused or closed.
            more = scratch.hasMore
            let size = scratch.count
            result.totalFrames += 1
            result.totalBytes += size
            let fits = !result.isTruncated
                && result.frames.count < limits.maxFrames
                && size <= limits.maxTotalBytes - keptBytes
            if fits {
                result.frames.append(scratch.bytes)
                keptBytes += size
            } else {
                result.isTruncated = true
            }
        }
        return result
    }
}

@available(*, unavailable)
extension Socket: Sendable {}
