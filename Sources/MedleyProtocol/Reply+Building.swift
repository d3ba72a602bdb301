import SwiftProtobuf

extension Medley_V1_Reply {
    /// A reply to `requestID` carrying `body`, stamped with the current protocol version.
    ///
    /// - Parameter modelVersion: the model that produced the answer; 0 when none did.
    public init(requestID: UInt64, modelVersion: UInt64 = 0, body: OneOf_Body) {
        self.init()
        self.protocolVersion = ProtocolVersion.current
        self.requestID = requestID
        self.modelVersion = modelVersion
        self.body = body
    }

    /// An `Error` reply.
    ///
    /// - Parameters:
    ///   - code: what went wrong; protocol/README.md tells clients what to do for each.
    ///   - message: for a person: what was wrong and what to change.
    ///   - requestID: the request's id, or 0 when the request could not be parsed.
    public static func error(_ code: Medley_V1_ErrorCode, message: String, requestID: UInt64) -> Medley_V1_Reply {
        var error = Medley_V1_Error()
        error.code = code
        error.message = message
        // Lets a client on another version see at once what to switch to.
        if code == .unsupportedVersion {
            error.supportedProtocolVersions = Array(ProtocolVersion.supported)
        }
        return Medley_V1_Reply(requestID: requestID, body: .error(error))
    }

    /// The `Error` reply to a request that could not be decoded or served.
    public init(failure: RequestDecodingError) {
        self = .error(failure.errorCode, message: failure.message, requestID: failure.requestID)
    }

    /// The `Error` reply to a message whose frames could not be split; its
    /// request id is 0 because no request was parsed.
    public init(failure: FramingError) {
        self = .error(failure.errorCode, message: failure.message, requestID: 0)
    }

    /// The reply's body frame: recommend replies and plain ingest acknowledgements written by
    /// hand (``handWrittenFrame()``), others by SwiftProtobuf.
    ///
    /// - Throws: only for a reply over protobuf's 2 GiB message limit.
    public func serializedFrame() throws -> [UInt8] {
        if let frame = handWrittenFrame() { return frame }
        return try serializedBytes()
    }
}
