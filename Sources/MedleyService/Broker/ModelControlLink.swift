import Foundation
import MedleyModelDistribution
import MedleyProtocol
import ZeroMQ

/// The broker's end of the control channel to the model manager's thread: a control request
/// (load a version, roll back) leaves with a token and is verified and warmed there, off the
/// poll thread; its reply is sent when the manager reports the outcome. The channel is an
/// in-process PAIR socket that the broker binds and polls, and the manager connects.
final class ModelControlLink {
    /// Poll for readability; then call ``receive(burst:)``.
    let socket: Socket
    /// Where the manager connects.
    let endpoint: String
    private var pending: [UInt64: ClientAddress] = [:]
    private var nextToken: UInt64 = 1

    init(context: Context) throws(ZMQError) {
        endpoint = "inproc://medley-control-\(UUID().uuidString)"
        socket = try context.socket(.pair)
        try socket.set(.lingerMilliseconds, 0)
        try socket.bind(endpoint)
    }

    /// Whether every control request has been answered.
    var isIdle: Bool { pending.isEmpty }

    /// Hands a control request to the manager; returns the reply when it is answered at once
    /// (no action, or no manager to carry it out).
    func submit(_ control: Medley_V1_ControlRequest, from client: ClientAddress) -> Medley_V1_Reply? {
        let action: ModelControl.Action
        switch control.action {
        case .loadModel(let load): action = .load(version: load.version)
        case .rollbackModel: action = .rollback
        case .none: return .error(.invalidArgument, message: "the control request has no action", requestID: client.requestID)
        }
        let token = nextToken
        nextToken += 1
        do {
            try socket.send(multipart: ModelControl.requestFrames(token: token, action), mode: .nonBlocking)
        } catch {
            var reply = Medley_V1_Reply.error(.unavailable, message: "the model manager is not running, so models cannot be loaded now (\(error))", requestID: client.requestID)
            reply.error.retryAfterMs = 1000
            return reply
        }
        pending[token] = client
        return nil
    }

    /// The replies to the control requests the manager has carried out.
    func receive(burst: Int) throws(ZMQError) -> [(reply: Medley_V1_Reply, client: ClientAddress)] {
        var replies: [(reply: Medley_V1_Reply, client: ClientAddress)] = []
        for _ in 0..<burst {
            guard let frames = try socket.tryReceiveMultipart() else { break }
            guard let (token, outcome) = ModelControl.outcome(frames: frames), let client = pending.removeValue(forKey: token) else { continue }
            replies.append((Self.reply(to: client.requestID, outcome), client))
        }
        return replies
    }

    /// Refuses the requests still waiting (the broker is stopping): whatever the manager
    /// does with them, no reply would reach their clients.
    func refuseWaiting() -> [(reply: Medley_V1_Reply, client: ClientAddress)] {
        defer { pending = [:] }
        return pending.sorted { $0.key < $1.key }.map { _, client in
            var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: client.requestID)
            reply.error.retryAfterMs = 1000
            return (reply, client)
        }
    }

    static func reply(to requestID: UInt64, _ outcome: ModelControl.Outcome) -> Medley_V1_Reply {
        switch outcome {
        case .success(let swap):
            var reply = Medley_V1_ControlReply()
            reply.previousVersion = swap.previousVersion
            reply.currentVersion = swap.currentVersion
            return Medley_V1_Reply(requestID: requestID, modelVersion: swap.currentVersion, body: .control(reply))
        case .failure(let refusal):
            switch refusal.reason {
            case .noModelDirectory: return .error(.invalidArgument, message: refusal.message, requestID: requestID)
            case .notFound, .noPreviousModel: return .error(.notFound, message: refusal.message, requestID: requestID)
            case .rejected: return .error(.modelRejected, message: refusal.message, requestID: requestID)
            }
        }
    }
}

@available(*, unavailable)
extension ModelControlLink: Sendable {}
