/// Why a request body frame cannot be served, with what the `Error` reply says.
public enum RequestDecodingError: Error, Equatable, Sendable {
    /// The frame is larger than the limit; it was not parsed.
    case tooLarge(size: Int, limit: Int)
    /// The frame is empty or not a valid `medley.v1.Request`.
    case malformed(detail: String)
    /// The request names a protocol version this code does not speak.
    case unsupportedVersion(UInt32, requestID: UInt64)
    /// The request has no body, or only one from a newer schema.
    case noKnownBody(requestID: UInt64)
    /// The request's envelope was read (``RequestRoute``) but its recommend body is not a valid
    /// `medley.v1.RecommendRequest`: found by the worker that decodes it, or by the broker when
    /// the user id it routes by is not UTF-8.
    case malformedRecommendation(detail: String, requestID: UInt64)

    /// The id to echo in the reply: the request's own once it parsed, else 0.
    public var requestID: UInt64 {
        switch self {
        case .tooLarge, .malformed:
            return 0
        case .unsupportedVersion(_, let requestID), .noKnownBody(let requestID), .malformedRecommendation(_, let requestID):
            return requestID
        }
    }

    /// The code of the `Error` reply that answers this failure.
    public var errorCode: Medley_V1_ErrorCode {
        switch self {
        case .tooLarge: return .messageTooLarge
        case .malformed, .malformedRecommendation: return .malformedFrame
        case .unsupportedVersion: return .unsupportedVersion
        case .noKnownBody: return .unknownMessage
        }
    }

    /// A sentence the client's developer can act on.
    public var message: String {
        switch self {
        case .tooLarge(let size, let limit):
            return "request frame is \(size) bytes; the limit is \(limit) bytes: split the batch"
        case .malformed(let detail):
            return "request frame is not a medley.v1.Request: \(detail)"
        case .unsupportedVersion(let version, _):
            return "protocol_version \(version) is not supported; this service speaks \(Self.supportedVersionsText): set Request.protocol_version"
        case .malformedRecommendation(let detail, _):
            return "the recommend body is not a medley.v1.RecommendRequest: \(detail)"
        case .noKnownBody:
            return "request has no body this service knows (ingest, recommend, stats, health, control): set one, or upgrade the service"
        }
    }

    private static var supportedVersionsText: String {
        let versions = ProtocolVersion.supported
        return versions.count == 1 ? "\(versions.lowerBound)" : "\(versions.lowerBound) to \(versions.upperBound)"
    }
}

extension RequestDecodingError: CustomStringConvertible {
    public var description: String { message }
}
