/// A multipart message as a ROUTER socket sees it: the routing envelope, then
/// exactly one body frame.
///
/// The envelope is every frame up to and including the first empty frame: the
/// routing ids that ROUTER sockets (the service's, and any proxy's between)
/// pushed, then the delimiter. A reply goes back with the envelope unchanged,
/// which is what routes it to the peer that asked. On a DEALER client the
/// envelope is just the delimiter.
public struct RoutedMessage: Sendable, Equatable {
    /// Routing id frames followed by the empty delimiter frame.
    public var envelope: [[UInt8]]
    /// The one protobuf frame after the delimiter.
    public var body: [UInt8]

    /// Creates a message from an envelope and a body, as when building a reply.
    ///
    /// - Precondition: `envelope` ends with an empty frame.
    public init(envelope: [[UInt8]], body: [UInt8]) {
        precondition(envelope.last?.isEmpty == true, "a routing envelope ends with the empty delimiter frame")
        self.envelope = envelope
        self.body = body
    }

    /// Splits received frames into envelope and body.
    ///
    /// Routing ids are never empty (libzmq refuses an empty one), so the first
    /// empty frame is the delimiter.
    ///
    /// - Parameters:
    ///   - frames: the frames of one multipart message, in order.
    ///   - maxBodyBytes: the largest body accepted; see ``ProtocolLimits/maxBodyBytes``.
    /// - Throws: ``FramingError`` when the frames do not have the shape
    ///   `[routing ids…][empty][body]` or the body is too large.
    public init(splitting frames: [[UInt8]], maxBodyBytes: Int) throws(FramingError) {
        guard let delimiter = frames.firstIndex(where: { $0.isEmpty }) else {
            throw .missingDelimiter
        }
        let bodyFrames = frames[(delimiter + 1)...]
        guard let body = bodyFrames.first else {
            throw .missingBody
        }
        guard bodyFrames.count == 1 else {
            throw .extraBodyFrames(bodyFrameCount: bodyFrames.count)
        }
        guard body.count <= maxBodyBytes else {
            throw .bodyTooLarge(size: body.count, limit: maxBodyBytes)
        }
        self.init(envelope: Array(frames[...delimiter]), body: body)
    }

    /// The frames to send: the envelope, then the body.
    public var frames: [[UInt8]] {
        envelope + [body]
    }

    /// A message to the same peer with another body: how a reply is addressed.
    public func replying(with body: [UInt8]) -> RoutedMessage {
        RoutedMessage(envelope: envelope, body: body)
    }

    /// The envelope to answer a message that could not be split, so that even a
    /// peer with broken framing gets an `Error` reply rather than silence.
    ///
    /// That is the frames through the delimiter if there is one; otherwise the
    /// first frame, which a ROUTER socket always puts there as the sender's
    /// routing id, plus a delimiter.
    ///
    /// - Returns: `nil` for a message without frames, which no socket delivers.
    public static func replyEnvelope(forUnsplittable frames: [[UInt8]]) -> [[UInt8]]? {
        if let delimiter = frames.firstIndex(where: { $0.isEmpty }) {
            return Array(frames[...delimiter])
        }
        guard let routingID = frames.first else {
            return nil
        }
        return [routingID, []]
    }
}
