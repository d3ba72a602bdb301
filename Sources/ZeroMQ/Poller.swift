import CZeroMQ

/// What a poll waits for, or found.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// A message (or bytes, for a file descriptor) can be received without blocking.
    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    /// A message can be sent without blocking.
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
    /// An error condition on a file descriptor.
    public static let error = PollEvents(rawValue: Int16(ZMQ_POLLERR))
}

/// Waits on several sockets (and plain file descriptors) at once, with `zmq_poll`.
///
/// A poller holds its sockets, so it belongs to the thread that owns them.
public struct Poller {
    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []

    public init() {}

    /// The number of registered sockets and descriptors.
    public var count: Int { items.count }

    /// Registers a socket; returns its index for ``events(at:)``.
    @discardableResult
    public mutating func register(_ socket: Socket, for events: PollEvents = .readable) throws(ZMQError) -> Int {
        let handle = try socket.liveHandle("Poller.register")
        items.append(zmq_pollitem_t(socket: handle, fd: 0, events: events.rawValue, revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Registers a file descriptor (a pipe that wakes the loop, say); returns its index.
    @discardableResult
    public mutating func register(fileDescriptor: CInt, for events: PollEvents = .readable) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fileDescriptor, events: events.rawValue, revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Waits until something registered is ready or the time-out passes, and returns how many
    /// are ready (0 on time-out). `nil` waits without limit. A signal does not cut the wait
    /// short: the poll resumes with the time that remains.
    public mutating func poll(timeout: Duration?) throws(ZMQError) -> Int {
        for socket in sockets {
            if let socket, socket.isClosed { throw ZMQError(code: CZeroMQ_ENOTSOCK, operation: "zmq_poll: a registered socket was closed") }
        }
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now.advanced(by: $0) }
        let count = Int32(items.count)
        while true {
            let milliseconds: Int
            if let deadline {
                let remaining = clock.now.duration(to: deadline)
                milliseconds = max(0, Int((remaining.components.seconds * 1000) + (remaining.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
            } else {
                milliseconds = -1
            }
            do {
                let ready = try items.withUnsafeMutableBufferPointer { (buffer) throws(ZMQError) -> CInt in
                    try libzmqCall("zmq_poll", retryingInterrupts: false) {
                        zmq_poll(buffer.baseAddress, count, milliseconds)
                    }
                }
                return Int(ready)
            } catch where error.kind == .interrupted {
                continue
            }
        }
    }

    /// The events found ready at `index` by the last ``poll(timeout:)``.
    public func events(at index: Int) -> PollEvents {
        PollEvents(rawValue: items[index].revents)
    }

    /// Whether the socket or descriptor at `index` was found readable.
    public func isReadable(_ index: Int) -> Bool {
        events(at: index).contains(.readable)
    }
}
