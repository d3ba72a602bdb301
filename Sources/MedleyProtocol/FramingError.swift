/// Why a multipart message does not have the shape `[routing ids…][empty][body]`.
public enum FramingError: Error, Equatable, Sendable {
    /// No empty delimiter frame: the sender did not put one before its body
    /// (a DEALER client must send it; REQ adds it by itself).
    case missingDelimiter
    /// The delimiter is the last frame: there is no body.
    case missingBody
    /// More than one frame follows the delimiter; the protocol sends one body frame.
    case extraBodyFrames(bodyFrameCount: Int)
    /// The body frame is larger than the limit.
    case bodyTooLarge(size: Int, limit: Int)

    /// The code of the `Error` reply that answers this failure.
    public var errorCode: Medley_V1_ErrorCode {
        switch self {
        case .missingDelimiter, .missingBody, .extraBodyFrames:
            return .malformedFrame
        case .bodyTooLarge:
            return .messageTooLarge
        }
    }

    /// A sentence the client's developer can act on.
    public var message: String {
        switch self {
        case .missingDelimiter:
            return "no empty delimiter frame before the request: a DEALER client must send [empty frame][Request frame]"
        case .missingBody:
            return "no request frame after the empty delimiter frame"
        case .extraBodyFrames(let count):
            return "\(count) frames after the empty delimiter frame; send exactly one Request frame"
        case .bodyTooLarge(let size, let limit):
            return "request frame is \(size) bytes; the limit is \(limit) bytes: split the batch"
        }
    }
}

extension FramingError: CustomStringConvertible {
    public var description: String { message }
}
