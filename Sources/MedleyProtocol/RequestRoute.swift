/// What the broker needs from a request body frame to route it, read with ``WireFormatReader``
/// without decoding the request: the protocol version, the request id, which body the `oneof`
/// holds and, for a recommend request, the `RecommendRequest`'s own bytes and its user id.
///
/// The envelope's wire format is checked whole (unknown fields and groups included), with
/// SwiftProtobuf's rules and the same depth limit, so a frame `Medley_V1_Request(validating:)`
/// accepts is read here with the same values. A body's contents are not checked here: the worker
/// decodes a recommend body once (`Medley_V1_RecommendRequest(validating:requestID:limits:)`),
/// and the broker decodes the other kinds in full.
public struct RequestRoute: Sendable {
    public let protocolVersion: UInt32
    public let requestID: UInt64
    /// The body the frame holds; nil for none, or for one from a newer schema.
    public let kind: RequestKind?
    private let frame: [UInt8]
    /// Where the body lies in the frame: one range per occurrence of its field since the last
    /// body of another kind, which protobuf merges into one message.
    private let bodyRanges: [Range<Int>]
    /// Body fields in the envelope, of any kind.
    private let bodyFieldCount: Int
    /// The nesting the envelope was read with.
    private let maxMessageDepth: Int
    /// Where the recommend body's last `user_id` lies in the frame.
    private let userIDRange: Range<Int>?

    /// Reads the envelope of `frame`, nested at most `maxMessageDepth` deep.
    ///
    /// - Throws: ``WireFormatError`` for bytes that are not a protobuf message.
    public init(reading frame: [UInt8], maxMessageDepth: Int) throws(WireFormatError) {
        var reader = try WireFormatReader(frame, range: frame.indices, enclosingBudget: maxMessageDepth)
        var protocolVersion: UInt32 = 0
        var requestID: UInt64 = 0
        var kind: RequestKind?
        var bodyRanges: [Range<Int>] = []
        var bodyFieldCount = 0
        var userIDRange: Range<Int>?
        while let (number, value) = try reader.nextField() {
            // A field with another wire type than its declared one is an unknown field to
            // SwiftProtobuf, and so it is here.
            switch (number, value) {
            case (1, .varint(let raw)): protocolVersion = UInt32(truncatingIfNeeded: raw)
            case (2, .varint(let raw)): requestID = raw
            case (16...20, .lengthDelimited(let range)):
                let found = Self.kind(ofField: number)
                // A later body replaces an earlier one of another kind; the same kind merges.
                if found != kind {
                    bodyRanges = []
                    userIDRange = nil
                }
                if found == .recommend {
                    // The body's own fields are read as SwiftProtobuf reads them (their
                    // contents are the worker's to check), for the last user_id.
                    var body = try reader.message(in: range)
                    while let (field, value) = try body.nextField() {
                        if field == 1, case .lengthDelimited(let userID) = value { userIDRange = userID }
                    }
                }
                bodyRanges.append(range)
                bodyFieldCount += 1
                kind = found
            default: break
            }
        }
        self.protocolVersion = protocolVersion
        self.requestID = requestID
        self.kind = kind
        self.frame = frame
        self.bodyRanges = kind == .recommend || kind == .ingest ? bodyRanges : []
        self.bodyFieldCount = bodyFieldCount
        self.maxMessageDepth = maxMessageDepth
        self.userIDRange = userIDRange
    }

    /// Reads a request body frame from an untrusted peer with the checks of
    /// `Medley_V1_Request(validating:limits:)`, in its order, short of the body's contents: the
    /// size before anything is read, the envelope's wire format and nesting, a supported
    /// protocol version, a known body.
    ///
    /// - Throws: ``RequestDecodingError``; a failure makes the reply as it does there.
    public init(validating frame: [UInt8], limits: ProtocolLimits = .default) throws(RequestDecodingError) {
        guard frame.count <= limits.maxBodyBytes else {
            throw .tooLarge(size: frame.count, limit: limits.maxBodyBytes)
        }
        guard !frame.isEmpty else { throw .malformed(detail: "the frame is empty") }
        do {
            try self.init(reading: frame, maxMessageDepth: limits.maxMessageDepth)
        } catch {
            throw .malformed(detail: error.detail)
        }
        guard ProtocolVersion.supported.contains(protocolVersion) else {
            throw .unsupportedVersion(protocolVersion, requestID: requestID)
        }
        guard kind != nil else { throw .noKnownBody(requestID: requestID) }
    }

    /// The `RecommendRequest`'s bytes, as one message (the occurrences protobuf merges,
    /// concatenated); empty when the body is not a recommend request.
    public var recommendation: [UInt8] {
        guard kind == .recommend else { return [] }
        return bodyRanges.count == 1 ? Array(frame[bodyRanges[0]]) : bodyRanges.flatMap { frame[$0] }
    }

    /// The ingest request, read without the general decoder when the envelope holds one body
    /// field, an ingest request in the plain form (``PlainWireReader``: known fields once each,
    /// nothing unknown) and the depth limit leaves room for its events; otherwise nil, and
    /// `Medley_V1_Request(validating:limits:)` decides. What it returns is what that decoder
    /// gives for the frame's body. The general decoder was a fifth of the broker's time under
    /// ingest.
    public func plainIngestRequest() -> Medley_V1_IngestRequest? {
        // Request, IngestRequest and SessionEvent: three levels, within any limit of four or more.
        guard kind == .ingest, bodyFieldCount == 1, let range = bodyRanges.first, maxMessageDepth >= 4 else { return nil }
        return frame.withUnsafeBytes { buffer -> Medley_V1_IngestRequest? in
            var reader = PlainWireReader(bytes: buffer, range: range)
            var request = Medley_V1_IngestRequest()
            var sawKey = false
            while !reader.isAtEnd {
                guard let (field, wire) = reader.tag(), wire == .lengthDelimited else { return nil }
                switch field {
                case 1:
                    guard let eventRange = reader.delimited() else { return nil }
                    var eventReader = reader.message(in: eventRange)
                    guard let event = eventReader.sessionEvent() else { return nil }
                    request.events.append(event)
                case 2:
                    guard !sawKey, let key = reader.string() else { return nil }
                    sawKey = true
                    request.idempotencyKey = key
                default:
                    return nil
                }
            }
            return request
        }
    }

    /// The recommend request's `user_id` (the last one, which protobuf's merge keeps); empty
    /// when it has none or the body is not a recommend request.
    ///
    /// - Throws: ``WireFormatError/invalidUTF8`` when that user id is not UTF-8.
    public func recommendationUserID() throws(WireFormatError) -> String {
        guard let userIDRange else { return "" }
        guard let userID = String(validating: frame[userIDRange], as: UTF8.self) else { throw .invalidUTF8 }
        return userID
    }

    private static func kind(ofField number: Int) -> RequestKind? {
        switch number {
        case 16: .ingest
        case 17: .recommend
        case 18: .stats
        case 19: .health
        case 20: .control
        default: nil
        }
    }
}
