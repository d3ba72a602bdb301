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
    /// Where the recommend body lies in the frame: one range per occurrence of field 17 since
    /// the last other body, which protobuf merges into one message.
    private let recommendRanges: [Range<Int>]
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
        var recommendRanges: [Range<Int>] = []
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
                    recommendRanges = []
                    userIDRange = nil
                }
                if found == .recommend {
                    // The body's own fields are read as SwiftProtobuf reads them (their
                    // contents are the worker's to check), for the last user_id.
                    var body = try reader.message(in: range)
                    while let (field, value) = try body.nextField() {
                        if field == 1, case .lengthDelimited(let userID) = value { userIDRange = userID }
                    }
                    recommendRanges.append(range)
                }
                kind = found
            default: break
            }
        }
        self.protocolVersion = protocolVersion
        self.requestID = requestID
        self.kind = kind
        self.frame = frame
        self.recommendRanges = recommendRanges
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
        recommendRanges.count == 1 ? Array(frame[recommendRanges[0]]) : recommendRanges.flatMap { frame[$0] }
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
