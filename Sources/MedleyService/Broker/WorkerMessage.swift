/// The messages between the broker and its workers, on the broker's worker socket
/// (ROUTER, bound by `medley serve`; workers connect with DEALER). protocol/README.md
/// documents the frames.
///
/// Every message starts with the protocol tag frame `MDW4` and a one-byte command frame, so a
/// peer of another kind or version is told apart at once (`MDW1` carried the client's envelope
/// to the worker and back; `MDW2` carried the whole `Request` in REQUEST; `MDW3` sent EVENTS
/// as one frame per record).
public enum WorkerMessage: Equatable, Sendable {
    /// Worker → broker: ready to serve. `name` is for logs and stats. A worker that gives the
    /// model version it serves (a `medley worker` process) is sent every model the service
    /// serves (MODEL); one without it shares the server's models (a worker thread).
    case ready(name: String, modelVersion: UInt64?)
    /// Both ways: still alive. From a worker it carries its `WorkerStats` (protobuf bytes).
    case heartbeat(stats: [UInt8])
    /// Broker → worker: a client's recommend request to answer: the request's id and its
    /// `RecommendRequest` bytes, which the worker decodes and checks (the broker read only the
    /// envelope). `ticket` is echoed in the reply; the broker keeps the client's envelope by it.
    case request(ticket: UInt64, requestID: UInt64, recommendation: [UInt8])
    /// Worker → broker: the `Reply` body to a request, with the request's ticket.
    case reply(ticket: UInt64, body: [UInt8])
    /// Broker → worker: logged events (`EventLogRecord` protobuf, packed in one frame) to fold
    /// into the sessions of users the worker owns, in log order.
    case events(EventRecordPack)
    /// Broker → worker: these users moved to another worker; drop their sessions.
    case forget(userIDs: [String])
    /// Both ways: the peer is going away (or, from the broker, does not know this worker).
    case disconnect
    /// Broker → worker: the model the service serves, as a publication: its
    /// `ModelAnnouncement` (protobuf bytes) and the model file's bytes.
    case model(announcement: [UInt8], modelBytes: [UInt8])

    /// The first frame of every message.
    public static let tag: [UInt8] = Array("MDW4".utf8)

    enum Command: UInt8 {
        case ready = 1, heartbeat = 2, request = 3, reply = 4, events = 5, forget = 6, disconnect = 7, model = 8
    }

    /// The frames of the message, without any routing id.
    public var frames: [[UInt8]] {
        switch self {
        case .ready(let name, let modelVersion):
            return [Self.tag, [Command.ready.rawValue], Array(name.utf8)] + (modelVersion.map { [$0.littleEndianBytes] } ?? [])
        case .heartbeat(let stats):
            return [Self.tag, [Command.heartbeat.rawValue], stats]
        case .request(let ticket, let requestID, let recommendation):
            return [Self.tag, [Command.request.rawValue], ticket.littleEndianBytes, requestID.littleEndianBytes, recommendation]
        case .reply(let ticket, let body):
            return [Self.tag, [Command.reply.rawValue], ticket.littleEndianBytes, body]
        case .events(let records):
            return [Self.tag, [Command.events.rawValue], records.bytes]
        case .forget(let userIDs):
            return [Self.tag, [Command.forget.rawValue]] + userIDs.map { Array($0.utf8) }
        case .disconnect:
            return [Self.tag, [Command.disconnect.rawValue]]
        case .model(let announcement, let modelBytes):
            return [Self.tag, [Command.model.rawValue], announcement, modelBytes]
        }
    }

    /// Parses frames (without routing id) received on a worker socket.
    public init(frames: [[UInt8]]) throws(WorkerProtocolError) {
        guard frames.count >= 2, frames[0] == Self.tag else { throw .notWorkerProtocol }
        guard frames[1].count == 1, let command = Command(rawValue: frames[1][0]) else {
            throw .unknownCommand(frames[1])
        }
        let rest = frames.dropFirst(2)
        switch command {
        case .ready:
            guard rest.count == 1 || rest.count == 2 else { throw .wrongFrameCount(command: "READY", count: rest.count) }
            let version: UInt64?
            if rest.count == 2 {
                guard let parsed = UInt64(littleEndianBytes: rest.last!) else { throw .wrongFrameCount(command: "READY", count: rest.count) }
                version = parsed
            } else {
                version = nil
            }
            self = .ready(name: String(decoding: rest.first!, as: UTF8.self), modelVersion: version)
        case .heartbeat:
            guard rest.count <= 1 else { throw .wrongFrameCount(command: "HEARTBEAT", count: rest.count) }
            self = .heartbeat(stats: rest.first ?? [])
        case .request:
            let frames = Array(rest)
            guard frames.count == 3 else { throw .wrongFrameCount(command: "REQUEST", count: frames.count) }
            guard let ticket = UInt64(littleEndianBytes: frames[0]) else { throw .malformedTicket(command: "REQUEST") }
            guard let requestID = UInt64(littleEndianBytes: frames[1]) else { throw .malformedRequestID }
            self = .request(ticket: ticket, requestID: requestID, recommendation: frames[2])
        case .reply:
            guard rest.count == 2 else { throw .wrongFrameCount(command: "REPLY", count: rest.count) }
            guard let ticket = UInt64(littleEndianBytes: rest.first!) else { throw .malformedTicket(command: "REPLY") }
            self = .reply(ticket: ticket, body: rest.last!)
        case .events:
            guard rest.count == 1 else { throw .wrongFrameCount(command: "EVENTS", count: rest.count) }
            self = .events(try EventRecordPack(frame: rest.first!))
        case .forget:
            self = .forget(userIDs: rest.map { String(decoding: $0, as: UTF8.self) })
        case .disconnect:
            self = .disconnect
        case .model:
            guard rest.count == 2 else { throw .wrongFrameCount(command: "MODEL", count: rest.count) }
            self = .model(announcement: rest.first!, modelBytes: rest.last!)
        }
    }
}

/// Why frames on a worker socket are not a ``WorkerMessage``.
public enum WorkerProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    case notWorkerProtocol
    case unknownCommand([UInt8])
    case wrongFrameCount(command: String, count: Int)
    case malformedTicket(command: String)
    case malformedRequestID
    case malformedEvents

    public var description: String {
        switch self {
        case .notWorkerProtocol: "not a worker-protocol message (no MDW4 tag)"
        case .unknownCommand(let bytes): "unknown worker command \(bytes)"
        case .wrongFrameCount(let command, let count): "\(command) with \(count) frames after the command"
        case .malformedTicket(let command): "\(command) whose ticket is not 8 bytes"
        case .malformedRequestID: "REQUEST whose request id is not 8 bytes"
        case .malformedEvents: "EVENTS whose frame is not whole records, each after its length"
        }
    }
}

extension UInt64 {
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: littleEndian) { Array($0) }
    }

    init?(littleEndianBytes bytes: [UInt8]) {
        guard bytes.count == 8 else { return nil }
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        self = value
    }
}
