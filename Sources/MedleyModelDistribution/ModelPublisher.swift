import Foundation
import Logging
import MedleyModel
import MedleyProtocol
import MedleySecurity
import MedleySystem
import Synchronization
import ZeroMQ

/// Why a publication failed.
public enum ModelPublisherError: Error, CustomStringConvertible {
    /// ``ModelPublisher/close()`` was called.
    case closed
    /// A socket failed.
    case socket(ZMQError)
    /// The model could not be announced (it does not validate).
    case invalidModel(ModelFileError)

    public var description: String {
        switch self {
        case .closed: "the publisher is closed"
        case .socket(let error): "publishing failed: \(error)"
        case .invalidModel(let error): "the model cannot be published: \(error)"
        }
    }
}

/// The trainer's side of model distribution: a thread that owns a PUB socket, on which it
/// publishes each new model, and a snapshot ROUTER, on which it answers late joiners with
/// the latest model (the ZeroMQ Guide's Clone pattern; protocol/README.md).
///
/// `publish` may be called from any thread: it hands the model to the publisher's thread
/// over an in-process socket and returns once the model is on the PUB socket and is what
/// snapshots answer with. Call ``close()`` when done: it blocks until the thread has gone,
/// which is why no `deinit` does it.
public final class ModelPublisher: Sendable {
    public let configuration: ModelPublisherConfiguration
    /// The publication endpoint bound (with the port chosen for `tcp://…:*`).
    public let boundPublicationEndpoint: String
    /// The snapshot endpoint bound, if any.
    public let boundSnapshotEndpoint: String?
    private let context: Context
    private let ownsContext: Bool
    private let commandEndpoint: String
    private let thread: OwnedThread
    /// The ZAP handler of a publisher with CURVE; it stops when the context shuts down.
    private let authenticator: CurveAuthenticator?
    /// True once closed. Held for the whole of a publish, so a close waits for it and a
    /// publish never waits for an answer from a thread that has gone.
    private let closed = Mutex(false)

    /// Binds the sockets on a new thread. `context` defaults to a context of its own.
    public init(configuration: ModelPublisherConfiguration, context: Context? = nil, logger: Logger = Logger(label: "medley.publisher")) throws {
        self.configuration = configuration
        ownsContext = context == nil
        let context = try context ?? Context()
        self.context = context
        let commandEndpoint = "inproc://medley-publisher-\(UUID().uuidString)"
        self.commandEndpoint = commandEndpoint
        do {
            authenticator = try configuration.curve.map { security throws(ZMQError) in
                try CurveAuthenticator(context: context, security: security, logger: logger)
            }
        } catch {
            if ownsContext { try? context.terminate() }
            throw error
        }
        let outcome = StartOutcome()
        thread = OwnedThread(name: "medley-publisher") {
            let loop: PublisherLoop
            do throws(ZMQError) {
                loop = try PublisherLoop(context: context, configuration: configuration, commandEndpoint: commandEndpoint, logger: logger)
            } catch {
                outcome.set(.failure(error))
                return
            }
            outcome.set(.success((loop.publicationEndpoint, loop.snapshotEndpoint)))
            loop.run()
        }
        switch outcome.wait() {
        case .success(let endpoints):
            (boundPublicationEndpoint, boundSnapshotEndpoint) = endpoints
        case .failure(let error):
            if ownsContext {
                context.shutdown()
                authenticator?.join()
                try? context.terminate()
            }
            throw error
        }
    }

    /// Publishes a model the trainer holds in memory, signed with the configured key.
    @discardableResult
    public func publish(_ contents: ModelFileContents) throws(ModelPublisherError) -> Medley_V1_ModelAnnouncement {
        let publication: ModelPublication
        do {
            publication = try ModelPublication(contents: contents, signingKey: configuration.signingKey)
        } catch {
            throw .invalidModel(error)
        }
        return try publish(publication)
    }

    /// Publishes a model file's bytes (as written to `models/<version>.safetensors`), signed
    /// with the configured key.
    @discardableResult
    public func publish(modelFileBytes: [UInt8]) throws(ModelPublisherError) -> Medley_V1_ModelAnnouncement {
        let publication: ModelPublication
        do {
            publication = try ModelPublication(modelFileBytes: modelFileBytes, signingKey: configuration.signingKey)
        } catch {
            throw .invalidModel(error)
        }
        return try publish(publication)
    }

    /// Publishes an announcement and bytes as they are (only `sequence` is set), and makes
    /// them the snapshot. Returns the announcement as sent.
    @discardableResult
    public func publish(_ publication: ModelPublication) throws(ModelPublisherError) -> Medley_V1_ModelAnnouncement {
        try closed.withLock { closed throws(ModelPublisherError) -> Medley_V1_ModelAnnouncement in
            guard !closed else { throw .closed }
            do {
                let reply = try command([PublisherLoop.publishVerb, try publication.announcement.serializedBytes(), publication.modelBytes])
                return try Medley_V1_ModelAnnouncement(serializedBytes: reply)
            } catch let error as ZMQError {
                throw .socket(error)
            } catch {
                preconditionFailure("the publisher's own announcement does not encode or decode: \(error)")
            }
        }
    }

    /// Stops the publisher's thread and closes its sockets (queued publications get the
    /// context's linger time to leave). Closing twice does nothing.
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            guard !closed else { return false }
            _ = try? command([PublisherLoop.closeVerb])
            return true
        }
        guard wasOpen else { return }
        thread.join()
        if ownsContext {
            context.shutdown()
            authenticator?.join()
            try? context.terminate()
        }
    }

    /// One request to the publisher's thread on a socket of this call's own, so no socket
    /// crosses threads. Returns the reply's payload.
    private func command(_ frames: [[UInt8]]) throws(ZMQError) -> [UInt8] {
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.set(.lingerMilliseconds, 0)
        // The thread answers at once; this only bounds the wait if it has died of an error.
        try socket.set(.receiveTimeoutMilliseconds, 30_000)
        try socket.connect(commandEndpoint)
        try socket.send(multipart: frames)
        return try socket.receiveMultipart().last ?? []
    }
}

/// The publisher thread's start-up result, handed to the thread that waits in `init`.
private final class StartOutcome: Sendable {
    private let result = Mutex<Result<(String, String?), ZMQError>?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ value: Result<(String, String?), ZMQError>) {
        result.withLock { $0 = value }
        ready.signal()
    }

    func wait() -> Result<(String, String?), ZMQError> {
        ready.wait()
        return result.withLock { $0! }
    }
}

/// What runs on the publisher's thread, which owns every socket here.
private final class PublisherLoop {
    static let publishVerb = Array("publish".utf8)
    static let closeVerb = Array("close".utf8)

    let publicationEndpoint: String
    let snapshotEndpoint: String?
    private let publisher: Socket
    private let snapshots: Socket?
    private let commands: Socket
    private let logger: Logger
    private var latest: ModelPublication?
    private var sequence: UInt64 = 0

    init(context: Context, configuration: ModelPublisherConfiguration, commandEndpoint: String, logger: Logger) throws(ZMQError) {
        self.logger = logger
        commands = try context.socket(.router)
        try commands.bind(commandEndpoint)
        publisher = try context.socket(.publisher)
        try publisher.set(.sendHighWaterMark, configuration.sendHighWaterMark)
        let curve = configuration.curve?.role(domain: CurveServerSecurity.subscriberDomain)
        if let curve { try publisher.configureCurve(curve) }
        try publisher.bind(configuration.publicationEndpoint)
        publicationEndpoint = try publisher.lastEndpoint
        if let endpoint = configuration.snapshotEndpoint {
            let router = try context.socket(.router)
            try router.set(.maxMessageSize, Int64(ProtocolLimits.default.maxBodyBytes + 64 * 1024))
            if let curve { try router.configureCurve(curve) }
            try router.bind(endpoint)
            snapshots = router
            snapshotEndpoint = try router.lastEndpoint
        } else {
            snapshots = nil
            snapshotEndpoint = nil
        }
        logger.info("publishing models", metadata: ["publication": "\(publicationEndpoint)", "snapshot": "\(snapshotEndpoint ?? "none")"])
    }

    func run() {
        defer {
            publisher.close()
            snapshots?.close()
            commands.close()
        }
        do {
            var poller = Poller()
            let commandIndex = try poller.register(commands)
            let snapshotIndex = try snapshots.map { socket throws(ZMQError) in try poller.register(socket) }
            while true {
                guard try poller.poll(timeout: nil) > 0 else { continue }
                if poller.isReadable(commandIndex) {
                    while let frames = try commands.tryReceiveMultipart() {
                        if try !handleCommand(frames) { return }
                    }
                }
                if let snapshotIndex, poller.isReadable(snapshotIndex) {
                    try answerSnapshotRequests()
                }
            }
        } catch {
            if error.kind != .contextTerminated { logger.error("publisher stopped: \(error)") }
        }
    }

    /// Returns false when told to close.
    private func handleCommand(_ frames: [[UInt8]]) throws(ZMQError) -> Bool {
        guard frames.count >= 2 else { return true }
        let caller = frames[0]
        switch frames[1] {
        case Self.publishVerb where frames.count == 4:
            // The announcement was encoded by ModelPublisher in this process.
            guard var announcement = try? Medley_V1_ModelAnnouncement(serializedBytes: frames[2]) else {
                preconditionFailure("the publisher's own announcement does not decode")
            }
            sequence += 1
            announcement.sequence = sequence
            let publication = ModelPublication(announcement: announcement, modelBytes: frames[3])
            guard let outgoing = try? publication.publicationFrames(), let echoed = try? announcement.serializedBytes() as [UInt8] else {
                preconditionFailure("an announcement that decoded does not encode")
            }
            // PUB never blocks: a subscriber at its high-water mark misses this one.
            try publisher.send(multipart: outgoing)
            latest = publication
            logger.info("published model", metadata: ["announcement": "\(announcement.summary)", "sequence": "\(sequence)"])
            try commands.send(multipart: [caller, echoed])
            return true
        case Self.closeVerb:
            try commands.send(multipart: [caller, []])
            return false
        default:
            return true
        }
    }

    private func answerSnapshotRequests() throws(ZMQError) {
        guard let snapshots else { return }
        let limits = MultipartLimits(maxFrames: 16, maxTotalBytes: ProtocolLimits.default.maxBodyBytes + 64 * 1024)
        while let received = try snapshots.tryReceiveMultipart(within: limits) {
            guard !received.isTruncated, let routed = try? RoutedMessage(splitting: received.frames, maxBodyBytes: ProtocolLimits.default.maxBodyBytes) else {
                logger.debug("dropping a malformed message on the snapshot socket")
                continue
            }
            var reply = Medley_V1_SnapshotReply()
            reply.protocolVersion = ProtocolVersion.current
            var frames = routed.envelope
            if let request = try? Medley_V1_SnapshotRequest(serializedBytes: routed.body) {
                reply.requestID = request.requestID
                if !ProtocolVersion.supported.contains(request.protocolVersion) {
                    reply.error = Self.error(.unsupportedVersion, "protocol_version \(request.protocolVersion) is not spoken here")
                    reply.error.supportedProtocolVersions = Array(ProtocolVersion.supported)
                } else if let latest {
                    reply.announcement = latest.announcement
                } else {
                    reply.error = Self.error(.notFound, "no model has been published yet")
                }
            } else {
                reply.error = Self.error(.malformedFrame, "the body is not a SnapshotRequest")
            }
            guard let body = try? reply.serializedBytes() as [UInt8] else { continue }
            frames.append(body)
            if case .announcement = reply.result, let latest { frames.append(latest.modelBytes) }
            // Non-blocking: a requester that stopped reading loses its own reply only.
            _ = try? snapshots.send(multipart: frames, mode: .nonBlocking)
        }
    }

    private static func error(_ code: Medley_V1_ErrorCode, _ message: String) -> Medley_V1_Error {
        var error = Medley_V1_Error()
        error.code = code
        error.message = message
        return error
    }
}
