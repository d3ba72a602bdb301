import MedleyProtocol
import ZeroMQ

/// Why a client call failed.
public enum ServiceClientError: Error, CustomStringConvertible {
    /// No reply within the time-out.
    case timedOut(milliseconds: Int32)
    /// The service answered with an error.
    case service(Medley_V1_Error)
    /// The service answered with a reply of another kind.
    case unexpectedReply(String)
    /// The reply could not be decoded.
    case malformedReply(String)

    public var description: String {
        switch self {
        case .timedOut(let milliseconds): "no reply within \(milliseconds) ms (is `medley serve` running at that endpoint, and does it take the CURVE keys this client was given, if any?)"
        case .service(let error): "the service refused the request: \(error.code): \(error.message)"
        case .unexpectedReply(let kind): "the service answered with \(kind)"
        case .malformedReply(let detail): "the reply could not be decoded: \(detail)"
        }
    }
}

/// A blocking client of `medley serve` over a DEALER socket: one request at a time, replies
/// matched by request id, so a late reply to an abandoned request is skipped.
///
/// Like its socket, a client belongs to the thread that made it.
public final class ServiceClient {
    private let socket: Socket
    private var nextRequestID: UInt64 = 1
    /// How long a call waits for its reply.
    public let timeoutMilliseconds: Int32

    /// `curve`: the client role towards a server that requires CURVE (its public key and this
    /// client's key pair); nil: none.
    public init(context: Context, endpoint: String, timeoutMilliseconds: Int32 = 5000, curve: CurveRole? = nil) throws {
        socket = try context.socket(.dealer)
        try socket.set(.lingerMilliseconds, 0)
        // A DEALER with no connection blocks in send, and libzmq drops a connection for good
        // when the handshake fails on this side (a server that asks for CURVE when this client
        // has no keys): the send is bounded like the wait for the reply.
        try socket.set(.sendTimeoutMilliseconds, timeoutMilliseconds)
        if let curve { try socket.configureCurve(curve) }
        try socket.connect(endpoint)
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Sends a request body and waits for the reply to it.
    public func call(_ body: Medley_V1_Request.OneOf_Body) throws -> Medley_V1_Reply {
        var request = Medley_V1_Request()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = nextRequestID
        nextRequestID += 1
        request.body = body
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(timeoutMilliseconds))
        do {
            try socket.send(multipart: [[], try request.serializedBytes()])
        } catch let error as ZMQError where error.kind == .wouldBlock {
            throw ServiceClientError.timedOut(milliseconds: timeoutMilliseconds)
        }
        var poller = Poller()
        try poller.register(socket)
        while true {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero, try poller.poll(timeout: remaining) > 0 else {
                throw ServiceClientError.timedOut(milliseconds: timeoutMilliseconds)
            }
            while let frames = try socket.tryReceiveMultipart() {
                guard let body = frames.last, frames.count == 2, frames[0].isEmpty else { continue }
                let reply: Medley_V1_Reply
                do {
                    reply = try Medley_V1_Reply(serializedBytes: body)
                } catch {
                    throw ServiceClientError.malformedReply("\(error)")
                }
                // A reply with id 0 answers a request the service could not parse: ours.
                guard reply.requestID == request.requestID || reply.requestID == 0 else { continue }
                if case .error(let error) = reply.body { throw ServiceClientError.service(error) }
                return reply
            }
        }
    }

    /// Stores events; returns the acknowledgement once they are durable. With an idempotency
    /// key, calling again with the same key and events (after a time-out, say) is safe: the
    /// service answers with the first call's acknowledgement and stores nothing more.
    public func ingest(_ events: [Medley_V1_SessionEvent], idempotencyKey: String? = nil) throws -> Medley_V1_IngestAck {
        var ingest = Medley_V1_IngestRequest()
        ingest.events = events
        if let idempotencyKey { ingest.idempotencyKey = idempotencyKey }
        let reply = try call(.ingest(ingest))
        guard case .ingest(let ack) = reply.body else { throw ServiceClientError.unexpectedReply("\(String(describing: reply.body))") }
        return ack
    }

    /// Asks for recommendations.
    public func recommend(_ request: Medley_V1_RecommendRequest) throws -> Medley_V1_RecommendReply {
        let reply = try call(.recommend(request))
        guard case .recommend(let answer) = reply.body else { throw ServiceClientError.unexpectedReply("\(String(describing: reply.body))") }
        return answer
    }

    public func health() throws -> Medley_V1_HealthReply {
        let reply = try call(.health(Medley_V1_HealthRequest()))
        guard case .health(let answer) = reply.body else { throw ServiceClientError.unexpectedReply("\(String(describing: reply.body))") }
        return answer
    }

    public func stats() throws -> Medley_V1_StatsReply {
        let reply = try call(.stats(Medley_V1_StatsRequest()))
        guard case .stats(let answer) = reply.body else { throw ServiceClientError.unexpectedReply("\(String(describing: reply.body))") }
        return answer
    }

    public func control(_ request: Medley_V1_ControlRequest) throws -> Medley_V1_ControlReply {
        let reply = try call(.control(request))
        guard case .control(let answer) = reply.body else { throw ServiceClientError.unexpectedReply("\(String(describing: reply.body))") }
        return answer
    }
}

@available(*, unavailable)
extension ServiceClient: Sendable {}
