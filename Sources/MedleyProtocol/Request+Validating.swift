import SwiftProtobuf

extension Medley_V1_Request {
    /// Decodes a request body frame from an untrusted peer and checks that it
    /// can be served: a supported protocol version and a known body.
    ///
    /// The size is checked before any parsing, and the decoder's nesting depth
    /// is bounded, so a hostile frame costs at most `limits.maxBodyBytes` of work.
    /// Unknown fields are kept. The broker decodes requests other than `recommend` this way;
    /// a recommend request's envelope is read by ``RequestRoute`` and its body decoded once,
    /// by the worker (`Medley_V1_RecommendRequest(validating:requestID:limits:)`).
    ///
    /// - Throws: ``RequestDecodingError``; its ``RequestDecodingError/errorCode``,
    ///   ``RequestDecodingError/message`` and ``RequestDecodingError/requestID``
    ///   make the reply (see ``Medley_V1_Reply/init(failure:)``).
    public init(validating frame: [UInt8], limits: ProtocolLimits = .default) throws(RequestDecodingError) {
        guard frame.count <= limits.maxBodyBytes else {
            throw .tooLarge(size: frame.count, limit: limits.maxBodyBytes)
        }
        // An empty frame decodes as a default Request; say what really happened.
        guard !frame.isEmpty else {
            throw .malformed(detail: "the frame is empty")
        }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = limits.maxMessageDepth
        do {
            try self.init(serializedBytes: frame, partial: false, options: options)
        } catch {
            throw .malformed(detail: Self.describe(error))
        }
        guard ProtocolVersion.supported.contains(protocolVersion) else {
            throw .unsupportedVersion(protocolVersion, requestID: requestID)
        }
        guard body != nil else {
            throw .noKnownBody(requestID: requestID)
        }
    }

    /// The detail of a `MALFORMED_FRAME` reply for SwiftProtobuf's decoding `error`.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? BinaryDecodingError else {
            return "protobuf decoding failed (\(error))"
        }
        switch error {
        case .truncated: return WireFormatError.truncated.detail
        case .malformedProtobuf: return WireFormatError.malformed.detail
        case .invalidUTF8: return WireFormatError.invalidUTF8.detail
        case .messageDepthLimit: return WireFormatError.tooDeep.detail
        case .trailingGarbage: return "extra bytes after the message"
        case .missingRequiredFields: return "required fields are missing"
        case .internalExtensionError: return "protobuf extension error"
        }
    }
}
