/// A ZeroMQ Authentication Protocol handler (ZAP 1.0, RFC 27/ZAP): libzmq asks it, over the
/// context's `inproc://zeromq.zap.01` socket, whether each connection that completes a
/// security handshake on one of the context's server sockets may go on.
///
/// One per context. Like every socket, its REP socket belongs to the thread that made the
/// handler: make it and call ``run()`` on the same thread. While no handler is bound, libzmq
/// admits every CURVE client that knows the server's public key, so bind the handler before
/// the sockets it guards.
public final class ZAPHandler {
    /// The endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    private let socket: Socket
    private let authorize: (ZAPRequest) -> ZAPDecision

    /// Binds the context's ZAP endpoint. `authorize` is called on the thread that runs the
    /// handler, once per handshake.
    public init(context: Context, authorize: @escaping (ZAPRequest) -> ZAPDecision) throws(ZMQError) {
        socket = try context.socket(.reply)
        try socket.set(.lingerMilliseconds, 0)
        try socket.bind(Self.endpoint)
        self.authorize = authorize
    }

    /// Answers requests until the context shuts down (then it closes the socket and returns).
    public func run() throws(ZMQError) {
        defer { socket.close() }
        while true {
            let frames: [[UInt8]]
            do {
                frames = try socket.receiveMultipart()
            } catch where error.kind == .contextTerminated {
                return
            }
            let reply = Self.reply(to: frames, authorize: authorize)
            do {
                try socket.send(multipart: reply)
            } catch where error.kind == .contextTerminated {
                return
            }
        }
    }

    /// The reply frames for one request: version, request id, status code, status text,
    /// user id, metadata. A request that is not ZAP 1.0 gets status 500 (RFC 27: the handler
    /// failed), which libzmq treats as a refusal.
    static func reply(to frames: [[UInt8]], authorize: (ZAPRequest) -> ZAPDecision) -> [[UInt8]] {
        let requestID = frames.count > 1 ? frames[1] : []
        func answer(_ code: String, _ text: String, userID: String = "") -> [[UInt8]] {
            [Array(ZAPRequest.version.utf8), requestID, Array(code.utf8), Array(text.utf8), Array(userID.utf8), []]
        }
        guard let request = ZAPRequest(frames: frames) else { return answer("500", "malformed ZAP request") }
        switch authorize(request) {
        case .allow(let userID): return answer("200", "OK", userID: userID)
        case .deny(let reason): return answer("400", reason)
        }
    }
}

@available(*, unavailable, message: "a ZAP handler's socket belongs to the thread that made it")
extension ZAPHandler: Sendable {}

/// One ZAP request: which socket (by domain), which peer and what it presented.
public struct ZAPRequest: Sendable, Equatable {
    static let version = "1.0"

    /// The ZAP domain of the server socket (``CurveRole/server(secretKey:zapDomain:)``).
    public var domain: String
    /// The peer's address, e.g. `127.0.0.1`.
    public var address: String
    /// The routing id the peer asked for (often empty).
    public var routingID: [UInt8]
    /// `NULL`, `PLAIN` or `CURVE`.
    public var mechanism: String
    /// The mechanism's credentials: for CURVE, one frame holding the client's 32-byte public key.
    public var credentials: [[UInt8]]

    public init(domain: String, address: String, routingID: [UInt8], mechanism: String, credentials: [[UInt8]]) {
        self.domain = domain
        self.address = address
        self.routingID = routingID
        self.mechanism = mechanism
        self.credentials = credentials
    }

    /// Parses the request frames: version, request id, domain, address, identity, mechanism,
    /// credentials...; nil unless they are ZAP 1.0.
    init?(frames: [[UInt8]]) {
        guard frames.count >= 6, String(decoding: frames[0], as: UTF8.self) == Self.version else { return nil }
        self.init(domain: String(decoding: frames[2], as: UTF8.self), address: String(decoding: frames[3], as: UTF8.self),
                  routingID: frames[4], mechanism: String(decoding: frames[5], as: UTF8.self),
                  credentials: Array(frames.dropFirst(6)))
    }

    /// The client's public key, for a CURVE handshake.
    public var curvePublicKey: [UInt8]? {
        mechanism == "CURVE" && credentials.count == 1 && credentials[0].count == 32 ? credentials[0] : nil
    }
}

/// A ZAP handler's answer.
public enum ZAPDecision: Sendable, Equatable {
    /// Let the connection go on; `userID` is attached to its messages' metadata.
    case allow(userID: String)
    /// Close the connection; `reason` is the status text.
    case deny(reason: String)
}
