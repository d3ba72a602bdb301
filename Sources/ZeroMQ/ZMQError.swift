import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from libzmq that keeps its error number, so callers can tell a time-out
/// from a terminated context from a real fault.
public struct ZMQError: Error, Equatable, Hashable, CustomStringConvertible, Sendable {
    /// The C error number, as libzmq set it.
    public let code: CInt
    /// The libzmq call that failed, for messages and logs.
    public let operation: String

    public init(code: CInt, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// The error the last failing libzmq call on this thread set. Read it immediately after
    /// the call: any later call may overwrite `errno`.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(code: CZeroMQ_errno(), operation: operation)
    }

    /// The kind of failure, for `switch`.
    public var kind: Kind { Kind(code: code) }

    /// `zmq_strerror`'s text for the error number.
    public var message: String { String(cString: zmq_strerror(code)) }

    public var description: String { "\(operation): \(message) (\(kind), errno \(code))" }

    public static func == (lhs: ZMQError, rhs: ZMQError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The failures a caller reacts to differently; everything else is `.other`.
    public enum Kind: Equatable, Sendable, CustomStringConvertible {
        /// `EAGAIN`: a non-blocking call could not complete, or a time-out expired.
        case wouldBlock
        /// `ETERM`: the context was terminated; the socket must be closed.
        case contextTerminated
        /// `EINTR`: a signal interrupted a blocking call.
        case interrupted
        /// `EHOSTUNREACH`: a ROUTER with router-mandatory has no peer of that routing id.
        case hostUnreachable
        /// `EMSGSIZE`: the message exceeds a size limit.
        case messageTooLarge
        /// `EFSM`: the socket's state machine does not allow this call now (REQ/REP order).
        case invalidState
        /// `EINVAL`: an argument was invalid (endpoint syntax, option value).
        case invalidArgument
        /// `EADDRINUSE`: the endpoint is already bound.
        case addressInUse
        /// `ENOTSOCK`: the socket was already closed.
        case notASocket
        /// `EMTHREAD`: the context has no I/O thread left.
        case tooManyThreads
        /// Any other error number.
        case other(CInt)

        init(code: CInt) {
            switch code {
            case EAGAIN: self = .wouldBlock
            case CZeroMQ_ETERM: self = .contextTerminated
            case EINTR: self = .interrupted
            case CZeroMQ_EHOSTUNREACH: self = .hostUnreachable
            case CZeroMQ_EMSGSIZE: self = .messageTooLarge
            case CZeroMQ_EFSM: self = .invalidState
            case EINVAL: self = .invalidArgument
            case CZeroMQ_EADDRINUSE: self = .addressInUse
            case CZeroMQ_ENOTSOCK: self = .notASocket
            case CZeroMQ_EMTHREAD: self = .tooManyThreads
            default: self = .other(code)
            }
        }

        public var description: String {
            switch self {
            case .wouldBlock: "would block"
            case .contextTerminated: "context terminated"
            case .interrupted: "interrupted"
            case .hostUnreachable: "host unreachable"
            case .messageTooLarge: "message too large"
            case .invalidState: "invalid socket state"
            case .invalidArgument: "invalid argument"
            case .addressInUse: "address in use"
            case .notASocket: "not a socket"
            case .tooManyThreads: "no I/O thread"
            case .other(let code): "error \(code)"
            }
        }
    }
}
