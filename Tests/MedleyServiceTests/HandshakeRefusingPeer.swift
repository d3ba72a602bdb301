import ZeroMQ

/// A raw TCP peer that greets a connection as a ZMTP 3.0 server of another security mechanism
/// and then says nothing, so that the connecting side (which speaks NULL) finds the mechanisms
/// differ: libzmq then drops that connection for good and does not reconnect.
final class HandshakeRefusingPeer {
    let endpoint: String
    private let socket: Socket

    init(context: Context, mechanism: String = "CURVE") throws {
        socket = try context.socket(.stream)
        try socket.set(.lingerMilliseconds, 0)
        try socket.set(.receiveTimeoutMilliseconds, 10_000)
        try socket.bind("tcp://127.0.0.1:*")
        endpoint = try socket.lastEndpoint
        self.mechanism = mechanism
    }

    private let mechanism: String
    /// Connections seen: a STREAM socket announces both a connection and its end with an
    /// empty frame after the connection's id.
    private var connections: Set<[UInt8]> = []

    /// Waits (10 s at most) for the next connection and greets it.
    func greetNextConnection() throws {
        while true {
            let frames = try socket.receiveMultipart()
            guard frames.count == 2, frames[1].isEmpty, connections.insert(frames[0]).inserted else { continue }
            try socket.send(multipart: [frames[0], greeting])
            return
        }
    }

    /// Signature, version 3.0, mechanism (20 bytes), as-server, filler: 64 bytes.
    private var greeting: [UInt8] {
        var bytes: [UInt8] = [0xFF] + Array(repeating: 0, count: 8) + [0x7F, 3, 0]
        bytes += Array(mechanism.utf8.prefix(20)) + Array(repeating: 0, count: 20 - min(20, mechanism.utf8.count))
        bytes += [1] + Array(repeating: 0, count: 31)
        return bytes
    }

    deinit { socket.close() }
}
