import CZeroMQ

/// The ZeroMQ socket patterns. Raw values are libzmq's own constants.
public enum SocketType: Sendable, CaseIterable, CustomStringConvertible {
    case pair, publisher, subscriber, request, reply, dealer, router, pull, push
    case extendedPublisher, extendedSubscriber, stream

    var rawValue: CInt {
        switch self {
        case .pair: ZMQ_PAIR
        case .publisher: ZMQ_PUB
        case .subscriber: ZMQ_SUB
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .pull: ZMQ_PULL
        case .push: ZMQ_PUSH
        case .extendedPublisher: ZMQ_XPUB
        case .extendedSubscriber: ZMQ_XSUB
        case .stream: ZMQ_STREAM
        }
    }

    public var description: String {
        switch self {
        case .pair: "PAIR"
        case .publisher: "PUB"
        case .subscriber: "SUB"
        case .request: "REQ"
        case .reply: "REP"
        case .dealer: "DEALER"
        case .router: "ROUTER"
        case .pull: "PULL"
        case .push: "PUSH"
        case .extendedPublisher: "XPUB"
        case .extendedSubscriber: "XSUB"
        case .stream: "STREAM"
        }
    }
}
