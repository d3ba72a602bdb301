import CZeroMQ

/// One ZeroMQ frame, owned: a `zmq_msg_t` on the heap, since libzmq forbids copying or
/// moving the struct itself, closed when the message is released.
///
/// Receive into a message with ``Socket/receive(into:mode:)`` to read a frame without
/// copying it; libzmq sizes it from the wire, so a frame is never cut to a buffer's size.
public final class Message {
    let pointer: UnsafeMutablePointer<zmq_msg_t>

    /// An empty message, ready to receive into.
    public init() {
        pointer = .allocate(capacity: 1)
        // zmq_msg_init cannot fail.
        zmq_msg_init(pointer)
    }

    /// A message holding a copy of `bytes`.
    public init(bytes: some Collection<UInt8>) throws(ZMQError) {
        pointer = .allocate(capacity: 1)
        let count = bytes.count
        guard zmq_msg_init_size(pointer, count) == 0 else {
            let error = ZMQError.last("zmq_msg_init_size(\(count))")
            pointer.deallocate()
            throw error
        }
        if count > 0 {
            let destination = UnsafeMutableRawBufferPointer(start: zmq_msg_data(pointer), count: count)
            destination.copyBytes(from: bytes)
        }
    }

    deinit {
        zmq_msg_close(pointer)
        pointer.deallocate()
    }

    /// The frame's size in bytes.
    public var count: Int { zmq_msg_size(pointer) }

    /// Whether more frames of the same multipart message follow this one (valid after a receive).
    public var hasMore: Bool { zmq_msg_more(pointer) != 0 }

    /// Calls `body` with the frame's bytes; the pointer is valid only inside `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: zmq_msg_data(pointer), count: count))
    }

    /// A copy of the frame's bytes.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }
}

// A zmq_msg_t may move between threads only with the socket that received it; keeping
// messages thread-confined keeps that rule in the type system.
@available(*, unavailable)
extension Message: Sendable {}
