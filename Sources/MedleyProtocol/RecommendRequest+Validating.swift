import SwiftProtobuf

extension Medley_V1_RecommendRequest {
    /// Decodes the body of a recommend request whose envelope ``RequestRoute`` read: the one
    /// decoding of a recommend request, in the worker that answers it.
    ///
    /// The checks are the ones `Medley_V1_Request(validating:limits:)` makes on a recommend
    /// body: protobuf wire format, strings valid UTF-8, nesting within
    /// `limits.maxMessageDepth` counted from the envelope (one level above this message). The
    /// envelope's checks (size, protocol version, a known body) were made by the broker.
    /// Unknown fields are kept.
    ///
    /// - Throws: ``RequestDecodingError/malformedRecommendation(detail:requestID:)``, which
    ///   echoes `requestID` in the reply.
    public init(validating body: [UInt8], requestID: UInt64, limits: ProtocolLimits = .default) throws(RequestDecodingError) {
        var options = BinaryDecodingOptions()
        // The envelope took one level of the depth the limit allows.
        options.messageDepthLimit = limits.maxMessageDepth - 1
        do {
            try self.init(serializedBytes: body, partial: false, options: options)
        } catch {
            throw .malformedRecommendation(detail: Medley_V1_Request.describe(error), requestID: requestID)
        }
    }
}
