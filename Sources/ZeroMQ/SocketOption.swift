import CZeroMQ

/// A value that can be stored in a socket option.
public protocol SocketOptionValue {
    /// Calls `body` with the option's bytes as libzmq expects them.
    func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R
    /// Reads an option of this type from a socket.
    static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> Self
}

/// A typed libzmq socket option. The option numbers are libzmq's header constants.
///
/// ```swift
/// try socket.set(.lingerMilliseconds, 0)
/// let hwm = try socket.get(.receiveHighWaterMark)
/// ```
public struct SocketOption<Value: SocketOptionValue>: Sendable, CustomStringConvertible {
    /// libzmq's option number.
    public let code: CInt
    /// The option's libzmq name, for error messages.
    public let name: String

    public init(code: CInt, name: String) {
        self.code = code
        self.name = name
    }

    public var description: String { name }
}

extension SocketOption where Value == Int32 {
    /// How long unsent messages are kept after close, in ms; -1 forever, 0 not at all.
    public static var lingerMilliseconds: Self { .init(code: ZMQ_LINGER, name: "ZMQ_LINGER") }
    /// The most outbound messages queued per peer before sends block or drop (0: no limit).
    public static var sendHighWaterMark: Self { .init(code: ZMQ_SNDHWM, name: "ZMQ_SNDHWM") }
    /// The most inbound messages queued per peer (0: no limit).
    public static var receiveHighWaterMark: Self { .init(code: ZMQ_RCVHWM, name: "ZMQ_RCVHWM") }
    /// How long a blocking receive waits before failing with would-block, in ms; -1 forever.
    public static var receiveTimeoutMilliseconds: Self { .init(code: ZMQ_RCVTIMEO, name: "ZMQ_RCVTIMEO") }
    /// How long a blocking send waits before failing with would-block, in ms; -1 forever.
    public static var sendTimeoutMilliseconds: Self { .init(code: ZMQ_SNDTIMEO, name: "ZMQ_SNDTIMEO") }
    /// The interval between ZMTP heartbeat PINGs, in ms; 0 disables heartbeats.
    public static var heartbeatIntervalMilliseconds: Self { .init(code: ZMQ_HEARTBEAT_IVL, name: "ZMQ_HEARTBEAT_IVL") }
    /// How long to wait for a PONG before the connection is considered dead, in ms.
    public static var heartbeatTimeoutMilliseconds: Self { .init(code: ZMQ_HEARTBEAT_TIMEOUT, name: "ZMQ_HEARTBEAT_TIMEOUT") }
    /// The time-to-live the remote peer is asked to apply, in ms (rounded to 100 ms).
    public static var heartbeatTimeToLiveMilliseconds: Self { .init(code: ZMQ_HEARTBEAT_TTL, name: "ZMQ_HEARTBEAT_TTL") }
    /// The first wait before reconnecting a lost connection, in ms.
    public static var reconnectIntervalMilliseconds: Self { .init(code: ZMQ_RECONNECT_IVL, name: "ZMQ_RECONNECT_IVL") }
    /// The longest wait between reconnection attempts (exponential back-off), in ms; 0 none.
    public static var reconnectIntervalMaxMilliseconds: Self { .init(code: ZMQ_RECONNECT_IVL_MAX, name: "ZMQ_RECONNECT_IVL_MAX") }
}

extension SocketOption where Value == Int64 {
    /// The largest inbound frame accepted, in bytes; a peer that sends a larger one is
    /// disconnected. -1: no limit.
    public static var maxMessageSize: Self { .init(code: ZMQ_MAXMSGSIZE, name: "ZMQ_MAXMSGSIZE") }
}

extension SocketOption where Value == Bool {
    /// ROUTER: fail a send to an unknown routing id with host-unreachable instead of
    /// dropping it silently. Write-only in libzmq.
    public static var routerMandatory: Self { .init(code: ZMQ_ROUTER_MANDATORY, name: "ZMQ_ROUTER_MANDATORY") }
    /// Queue messages only to completed connections.
    public static var immediate: Self { .init(code: ZMQ_IMMEDIATE, name: "ZMQ_IMMEDIATE") }
    /// Act as a CURVE server: the socket needs ``curveSecretKey``.
    public static var curveServer: Self { .init(code: ZMQ_CURVE_SERVER, name: "ZMQ_CURVE_SERVER") }
}

extension SocketOption where Value == [UInt8] {
    /// The identity a DEALER or REQ presents to a ROUTER (1–255 bytes, not starting with 0).
    public static var routingId: Self { .init(code: ZMQ_ROUTING_ID, name: "ZMQ_ROUTING_ID") }
    /// This socket's long-term CURVE public key (32 bytes).
    public static var curvePublicKey: Self { .init(code: ZMQ_CURVE_PUBLICKEY, name: "ZMQ_CURVE_PUBLICKEY") }
    /// This socket's long-term CURVE secret key (32 bytes).
    public static var curveSecretKey: Self { .init(code: ZMQ_CURVE_SECRETKEY, name: "ZMQ_CURVE_SECRETKEY") }
    /// A CURVE client's knowledge of the server's public key (32 bytes).
    public static var curveServerKey: Self { .init(code: ZMQ_CURVE_SERVERKEY, name: "ZMQ_CURVE_SERVERKEY") }
    /// SUB: add a topic prefix to receive. Write-only.
    public static var subscribe: Self { .init(code: ZMQ_SUBSCRIBE, name: "ZMQ_SUBSCRIBE") }
    /// SUB: remove a topic prefix. Write-only.
    public static var unsubscribe: Self { .init(code: ZMQ_UNSUBSCRIBE, name: "ZMQ_UNSUBSCRIBE") }
}

extension SocketOption where Value == String {
    /// The ZAP authentication domain the socket's connections are checked in.
    public static var zapDomain: Self { .init(code: ZMQ_ZAP_DOMAIN, name: "ZMQ_ZAP_DOMAIN") }
    /// The endpoint last bound, with the port the system chose for `tcp://...:*`. Read-only.
    public static var lastEndpoint: Self { .init(code: ZMQ_LAST_ENDPOINT, name: "ZMQ_LAST_ENDPOINT") }
}

// MARK: - Encodings

extension Int32: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        var value = CInt(self)
        return try withUnsafeBytes(of: &value) { (bytes) throws(ZMQError) -> R in try body(bytes) }
    }

    public static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> Int32 {
        var value: CInt = 0
        var size = MemoryLayout<CInt>.size
        _ = try libzmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(socket, option, &value, &size) }
        return value
    }
}

extension Int64: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        var value = self
        return try withUnsafeBytes(of: &value) { (bytes) throws(ZMQError) -> R in try body(bytes) }
    }

    public static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> Int64 {
        var value: Int64 = 0
        var size = MemoryLayout<Int64>.size
        _ = try libzmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(socket, option, &value, &size) }
        return value
    }
}

extension Bool: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try Int32(self ? 1 : 0).withOptionBytes(body)
    }

    public static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> Bool {
        try Int32.read(from: socket, option: option, name: name) != 0
    }
}

extension Array: SocketOptionValue where Element == UInt8 {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try withBytes(body)
    }

    public static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> [UInt8] {
        // 255 bytes is the longest binary option libzmq has (routing ids); keys are 32.
        var buffer = [UInt8](repeating: 0, count: 256)
        var size = buffer.count
        let status = buffer.withUnsafeMutableBytes { raw in
            Result { () throws(ZMQError) -> CInt in
                try libzmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(socket, option, raw.baseAddress, &size) }
            }
        }
        _ = try status.get()
        return Array(buffer.prefix(size))
    }
}

extension String: SocketOptionValue {
    public func withOptionBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        try Array(utf8).withOptionBytes(body)
    }

    public static func read(from socket: UnsafeMutableRawPointer, option: CInt, name: String) throws(ZMQError) -> String {
        var bytes = try [UInt8].read(from: socket, option: option, name: name)
        // libzmq includes the terminating NUL in string options' sizes.
        while bytes.last == 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body with typed throws (the standard one only rethrows).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ZMQError) -> R) throws(ZMQError) -> R {
        let result = withUnsafeBytes { bytes in Result { () throws(ZMQError) -> R in try body(bytes) } }
        return try result.get()
    }
}
