import MedleyProtocol
import ZeroMQ

/// What a message on the client socket is: a request, with the address its reply goes to; or
/// the error reply it gets (too many frames, too large, no delimiter, not a valid request); or
/// nothing to answer (no routing id).
///
/// A recommend request is not decoded here: its envelope is read (``RequestRoute``) for what
/// routing needs, and its body's bytes go to the worker, which decodes them once. An ingest
/// request in the plain form is read from the envelope's reading too
/// (``RequestRoute/plainIngestRequest()``); other requests are decoded and validated in full.
struct ClientFraming {
    enum Message {
        case request(Medley_V1_Request, from: ClientAddress)
        case recommend(HeldRequest)
        /// `malformedRequest`: the frames were a body that is not a valid request (counted as such).
        case refused(Medley_V1_Reply, to: ClientAddress, malformedRequest: Bool)
        case unanswerable
    }

    let maxFrames: Int
    let limits: ProtocolLimits

    init(configuration: BrokerConfiguration) {
        maxFrames = configuration.maxFramesPerMessage
        limits = configuration.protocolLimits
    }

    /// What a read from the client socket may hold: room for the routing frames beside the
    /// largest accepted body.
    var receiveLimits: MultipartLimits {
        MultipartLimits(maxFrames: maxFrames, maxTotalBytes: limits.maxBodyBytes + 64 * 1024)
    }

    func decode(_ received: BoundedMultipart, arrivedAt: ContinuousClock.Instant) -> Message {
        if received.isTruncated {
            let tooManyFrames = received.totalFrames > maxFrames
            let reply = Medley_V1_Reply.error(
                tooManyFrames ? .malformedFrame : .messageTooLarge,
                message: tooManyFrames
                    ? "a request has \(received.totalFrames) frames; at most \(maxFrames) (routing ids, an empty delimiter and one body)"
                    : "the request is \(received.totalBytes) bytes; the limit is \(limits.maxBodyBytes)",
                requestID: 0
            )
            return refusal(reply, toUnsplittable: received.frames, arrivedAt: arrivedAt)
        }
        let routed: RoutedMessage
        do {
            routed = try RoutedMessage(splitting: received.frames, maxBodyBytes: limits.maxBodyBytes)
        } catch {
            return refusal(Medley_V1_Reply(failure: error), toUnsplittable: received.frames, arrivedAt: arrivedAt)
        }
        do throws(RequestDecodingError) {
            let route = try RequestRoute(validating: routed.body, limits: limits)
            let client = ClientAddress(envelope: routed.envelope, requestID: route.requestID, arrivedAt: arrivedAt)
            guard route.kind == .recommend else {
                if let ingest = route.plainIngestRequest() {
                    return .request(.with {
                        $0.protocolVersion = route.protocolVersion
                        $0.requestID = route.requestID
                        $0.ingest = ingest
                    }, from: client)
                }
                return .request(try Medley_V1_Request(validating: routed.body, limits: limits), from: client)
            }
            return .recommend(try HeldRequest(route, from: client))
        } catch {
            return .refused(Medley_V1_Reply(failure: error), to: ClientAddress(envelope: routed.envelope, requestID: error.requestID, arrivedAt: arrivedAt), malformedRequest: true)
        }
    }

    private func refusal(_ reply: Medley_V1_Reply, toUnsplittable frames: [[UInt8]], arrivedAt: ContinuousClock.Instant) -> Message {
        guard let envelope = RoutedMessage.replyEnvelope(forUnsplittable: frames) else { return .unanswerable }
        return .refused(reply, to: ClientAddress(envelope: envelope, requestID: 0, arrivedAt: arrivedAt), malformedRequest: false)
    }
}
