import Logging
import MedleyProtocol
import ZeroMQ

/// The serving side of the Clone pattern (protocol/README.md, "Snapshot socket"): a SUB
/// socket on the trainer's publications and a DEALER on its snapshot socket. It subscribes
/// first and then asks for a snapshot, at start and whenever the publications' sequence
/// numbers skip or start over; every model that arrives goes to the ``ModelInstaller``,
/// which keeps only newer ones.
///
/// Owned by the model manager's thread, like its sockets.
final class ModelSubscription {
    private let context: Context
    private let endpoints: ModelUpdateConfiguration.Subscription
    private let configuration: ModelUpdateConfiguration
    private let installer: ModelInstaller
    private let logger: Logger
    private let clock = ContinuousClock()
    let subscriber: Socket
    /// Made on first use, and again after a time-out, which drops a request queued for a
    /// trainer that is not there.
    private(set) var snapshotSocket: Socket?
    private var pending: (requestID: UInt64, deadline: ContinuousClock.Instant)?
    /// A snapshot was wanted while `pending` was unanswered: that answer may describe the
    /// trainer before what made the new one wanted (a missed publication), so ask again after it.
    private var askAgainAfterPending = false
    private var retryAt: ContinuousClock.Instant?
    private var nextRequestID: UInt64 = 1
    private var lastSequence: UInt64?
    private var heardPublication = false

    init(context: Context, endpoints: ModelUpdateConfiguration.Subscription, configuration: ModelUpdateConfiguration,
         installer: ModelInstaller, logger: Logger) throws(ZMQError) {
        self.context = context
        self.endpoints = endpoints
        self.configuration = configuration
        self.installer = installer
        self.logger = logger
        subscriber = try context.socket(.subscriber)
        try subscriber.set(.maxMessageSize, configuration.socketMaxMessageBytes)
        // Each publication is a whole model: queue few, the newest matters.
        try subscriber.set(.receiveHighWaterMark, 12)
        try subscriber.set(.lingerMilliseconds, 0)
        if let curve = endpoints.curve { try subscriber.configureCurve(curve) }
        try subscriber.connect(endpoints.publicationEndpoint)
        try subscriber.subscribe(ModelPublication.topic)
        logger.info("subscribed to model publications", metadata: [
            "publication": "\(endpoints.publicationEndpoint)", "snapshot": "\(endpoints.snapshotEndpoint ?? "none")",
        ])
        // Subscribed first, so nothing published after the snapshot is taken is missed.
        try requestSnapshot(reason: "start")
    }

    func close() {
        subscriber.close()
        snapshotSocket?.close()
    }

    /// When ``tick(now:)`` next has something to do.
    var nextDeadline: ContinuousClock.Instant? {
        [pending?.deadline, retryAt].compactMap { $0 }.min()
    }

    // MARK: Publications

    /// Takes a few waiting publications (few, so that a stop is noticed between them).
    func receivePublications() throws(ZMQError) {
        let limits = MultipartLimits(maxFrames: 3, maxTotalBytes: configuration.maxModelBytes + ProtocolLimits.default.maxBodyBytes + 64)
        for _ in 0..<4 {
            guard let received = try subscriber.tryReceiveMultipart(within: limits) else { return }
            try handlePublication(received)
        }
    }

    private func handlePublication(_ received: BoundedMultipart) throws(ZMQError) {
        let source = "publication on \(endpoints.publicationEndpoint)"
        let announcement = received.frames.count >= 2
            ? try? ModelPublication.parseAnnouncement(received.frames[1], maxBytes: ProtocolLimits.default.maxBodyBytes)
            : nil
        if received.isTruncated {
            // Over the size limit: refused without hashing (only the announcement was kept).
            installer.refuse(version: announcement?.version ?? 0, source: source,
                             because: .tooLarge(bytes: UInt64(received.totalBytes), limit: configuration.maxModelBytes))
            try noteSequence(announcement?.sequence ?? 0)
            return
        }
        let publication: ModelPublication
        do {
            publication = try ModelPublication.parse(publicationFrames: received.frames, maxAnnouncementBytes: ProtocolLimits.default.maxBodyBytes)
        } catch {
            installer.refuse(version: announcement?.version ?? 0, source: source, because: error)
            return
        }
        heardPublication = true
        retryAt = nil
        try noteSequence(publication.announcement.sequence)
        _ = try? installer.install(publication, source: source)
    }

    /// Asks for a snapshot when the publisher's numbering skipped (a publication was missed)
    /// or started over (the publisher restarted). 0 means unnumbered.
    private func noteSequence(_ sequence: UInt64) throws(ZMQError) {
        guard sequence > 0 else { return }
        defer { lastSequence = sequence }
        guard let last = lastSequence, sequence != last &+ 1 else { return }
        try requestSnapshot(reason: "publication \(sequence) followed \(last)")
    }

    // MARK: Snapshots

    private func requestSnapshot(reason: String) throws(ZMQError) {
        guard let endpoint = endpoints.snapshotEndpoint else { return }
        guard pending == nil else {
            askAgainAfterPending = true
            return
        }
        askAgainAfterPending = false
        let socket: Socket
        if let existing = snapshotSocket {
            socket = existing
        } else {
            socket = try context.socket(.dealer)
            try socket.set(.lingerMilliseconds, 0)
            try socket.set(.maxMessageSize, configuration.socketMaxMessageBytes)
            if let curve = endpoints.curve { try socket.configureCurve(curve) }
            try socket.connect(endpoint)
            snapshotSocket = socket
        }
        var request = Medley_V1_SnapshotRequest()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = nextRequestID
        nextRequestID += 1
        guard let body = try? request.serializedBytes() as [UInt8] else { return }
        // Queued until the connection is up; a full queue means the trainer is unreachable,
        // and the time-out below retries.
        _ = try socket.trySend(multipart: [[], body])
        pending = (request.requestID, clock.now.advanced(by: .milliseconds(configuration.snapshotTimeoutMilliseconds)))
        logger.debug("asked for a model snapshot", metadata: ["reason": "\(reason)", "endpoint": "\(endpoint)"])
    }

    func receiveSnapshot() throws(ZMQError) {
        guard let socket = snapshotSocket else { return }
        let limits = MultipartLimits(maxFrames: 3, maxTotalBytes: configuration.maxModelBytes + ProtocolLimits.default.maxBodyBytes + 64)
        while let received = try socket.tryReceiveMultipart(within: limits) {
            try handleSnapshotReply(received)
        }
    }

    private func handleSnapshotReply(_ received: BoundedMultipart) throws(ZMQError) {
        let source = "snapshot from \(endpoints.snapshotEndpoint ?? "")"
        let frames = received.frames
        guard frames.count >= 2, frames[0].isEmpty, frames[1].count <= ProtocolLimits.default.maxBodyBytes,
              let reply = try? Medley_V1_SnapshotReply(serializedBytes: frames[1]) else {
            logger.warning("dropping a malformed snapshot reply", metadata: ["endpoint": "\(endpoints.snapshotEndpoint ?? "")"])
            return
        }
        // A late answer to an abandoned request is as good as any: the installer keeps only newer models.
        if reply.requestID == pending?.requestID {
            pending = nil
            if askAgainAfterPending { try requestSnapshot(reason: "a publication was missed while a snapshot was pending") }
        }
        switch reply.result {
        case .announcement(let announcement):
            if received.isTruncated {
                installer.refuse(version: announcement.version, source: source,
                                 because: .tooLarge(bytes: UInt64(received.totalBytes), limit: configuration.maxModelBytes))
                return
            }
            guard frames.count == 3 else {
                installer.refuse(version: announcement.version, source: source, because: .malformedMessage("a snapshot reply with an announcement has the model bytes in a third frame"))
                return
            }
            if announcement.sequence > (lastSequence ?? 0) { lastSequence = announcement.sequence }
            // The trainer's model when it was asked: old news once a publication has brought a
            // newer one, which is no refusal.
            guard announcement.version > installer.models.version else {
                logger.debug("ignoring a snapshot no newer than the serving model", metadata: [
                    "version": "\(announcement.version)", "serving": "\(installer.models.version)",
                ])
                return
            }
            _ = try? installer.install(ModelPublication(announcement: announcement, modelBytes: frames[2]), source: source)
        case .error(let error) where error.code == .notFound:
            // The trainer has no model yet. Ask again later unless publications start first:
            // the first one may have been lost before the subscription reached the publisher.
            if !heardPublication { retryAt = clock.now.advanced(by: .milliseconds(configuration.snapshotRetryMilliseconds)) }
        case .error(let error):
            logger.warning("the trainer refused a snapshot request", metadata: ["code": "\(error.code)", "message": "\(error.message)"])
            retryAt = clock.now.advanced(by: .milliseconds(configuration.snapshotRetryMilliseconds))
        case nil:
            logger.warning("dropping a snapshot reply with neither a model nor an error")
        }
    }

    /// Retries a snapshot request that timed out or is due again.
    func tick(now: ContinuousClock.Instant) throws(ZMQError) {
        if let pending, now >= pending.deadline {
            logger.info("no snapshot reply; asking again", metadata: ["endpoint": "\(endpoints.snapshotEndpoint ?? "")"])
            snapshotSocket?.close()
            snapshotSocket = nil
            self.pending = nil
            try requestSnapshot(reason: "time-out")
        }
        if let retryAt, now >= retryAt {
            self.retryAt = nil
            try requestSnapshot(reason: "the trainer had no model yet")
        }
    }
}

@available(*, unavailable)
extension ModelSubscription: Sendable {}
