import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleySecurity
import MedleySystem
import ZeroMQ

/// The broker of `medley serve`: it takes client requests on a ROUTER socket, validates
/// them, stores ingested events in the event log, and routes each user's requests and
/// events to the one worker that owns the user.
///
/// It answers health, stats and control itself, and every request gets exactly one reply:
/// a bad frame, an unknown domain, a vanished worker and a shutdown each get an error reply.
/// ``run(until:)`` blocks the calling thread, which owns the broker's sockets.
public final class Broker {
    public let configuration: BrokerConfiguration
    let context: Context
    let models: ServingModel
    let installer: ModelInstaller
    /// Counters for `--metrics`; nil when not exposed.
    let metrics: ServiceMetrics?
    /// Which worker processes serve which model version, and when they were sent the current one.
    private var modelSync: WorkerModelSync
    /// The version ``syncWorkerModels(now:)`` last sent for.
    private var lastSyncedVersion: UInt64 = 0
    let log: EventLogAppender
    let logDirectory: String
    let logger: Logger

    private let frontend: Socket
    private let backend: Socket
    private let mailbox: EventLogCompletionMailbox<UInt64>
    private var registry = WorkerRegistry()
    private var ordering = UserOrdering<HeldRequest>()
    private var pendingIngests: [UInt64: PendingIngest] = [:]
    /// Idempotency keys of the ingests in `pendingIngests`, to their tokens.
    private var pendingKeys: [String: UInt64] = [:]
    /// How ingests with idempotency keys were answered (protocol/README.md, "Retrying an ingest").
    private var receipts: IngestReceipts
    private var inFlight: [UInt64: InFlightRequest] = [:]
    private var nextTicket: UInt64 = 1
    /// Every record up to this sequence has been handed to its owner (or was in the log at
    /// start-up); replays stop here so that a record is never delivered twice.
    private var forwardedThrough: UInt64
    /// Why the latest batch could not be stored, until one is stored again (health is DEGRADED).
    private var logWriteFailure: String?
    private var logFailureLine = RepeatedLogLine()
    private var statistics = BrokerStatistics()
    private let clock = ContinuousClock()
    private let startedAt: ContinuousClock.Instant

    struct HeldRequest {
        let envelope: [[UInt8]]
        let requestID: UInt64
        let userID: String
        let body: [UInt8]
        let arrivedAt: ContinuousClock.Instant
    }

    struct PendingIngest {
        let envelope: [[UInt8]]
        let requestID: UInt64
        let events: [Medley_V1_SessionEvent]
        let rejections: [Medley_V1_EventRejection]
        let users: Set<OpaqueID>
        let receivedAtMs: Int64
        let arrivedAt: ContinuousClock.Instant
        /// The idempotency key and the request's fingerprint, when the client gave a key.
        let idempotency: (key: String, fingerprint: [UInt8])?
        /// Retries of this request that arrived before it was durable: answered with it.
        var retries: [(envelope: [[UInt8]], requestID: UInt64, arrivedAt: ContinuousClock.Instant)] = []
    }

    struct InFlightRequest {
        let worker: [UInt8]
        let envelope: [[UInt8]]
        let requestID: UInt64
        let arrivedAt: ContinuousClock.Instant
    }

    /// Binds the client and worker endpoints. Call on the thread that will call ``run(until:)``.
    /// `installer` carries out control requests and reports model refusals; by default one
    /// that loads from `configuration.modelDirectory`.
    public init(
        context: Context, configuration: BrokerConfiguration, models: ServingModel,
        log: EventLogAppender, logDirectory: String, installer: ModelInstaller? = nil, metrics: ServiceMetrics? = nil,
        logger: Logger = Logger(label: "medley.broker")
    ) throws {
        self.metrics = metrics
        modelSync = WorkerModelSync(resendAfter: .milliseconds(configuration.workerModelResendMilliseconds))
        self.context = context
        self.configuration = configuration
        self.models = models
        self.installer = installer ?? ModelInstaller(models: models, modelDirectory: configuration.modelDirectory)
        self.log = log
        self.logDirectory = logDirectory
        self.logger = logger
        startedAt = clock.now
        receipts = try IngestReceipts.rebuilt(
            fromLogIn: logDirectory, windowMs: configuration.idempotencyWindowMilliseconds,
            maxKeys: configuration.maxIdempotencyKeys, nowMs: wallClockMilliseconds())
        // Everything recovered from disk counts as handed over: replays deliver it on demand.
        forwardedThrough = log.recoveryReport.nextSequence - 1
        mailbox = try EventLogCompletionMailbox<UInt64>()

        frontend = try context.socket(.router)
        try frontend.set(.maxMessageSize, configuration.socketMaxMessageBytes)
        try frontend.set(.sendHighWaterMark, configuration.clientHighWaterMark)
        try frontend.set(.receiveHighWaterMark, configuration.clientHighWaterMark)
        if let curve = configuration.curve { try frontend.configureCurve(curve.role(domain: CurveServerSecurity.clientDomain)) }
        for endpoint in configuration.clientEndpoints { try frontend.bind(endpoint) }

        backend = try context.socket(.router)
        // A send to a worker that has gone fails loudly instead of vanishing.
        try backend.set(.routerMandatory, true)
        try backend.set(.sendHighWaterMark, 0)
        try backend.set(.receiveHighWaterMark, 0)
        if let curve = configuration.curve { try backend.configureCurve(curve.role(domain: CurveServerSecurity.workerDomain)) }
        for endpoint in configuration.workerEndpoints { try backend.bind(endpoint) }
    }

    /// The endpoints actually bound for clients (with ports chosen for `tcp://...:*`).
    public var boundClientEndpoint: String {
        get throws { try frontend.lastEndpoint }
    }

    /// The last worker endpoint bound (with its port chosen for `tcp://...:*`).
    public var boundWorkerEndpoint: String {
        get throws { try backend.lastEndpoint }
    }

    /// Serves until `stopDescriptor` becomes readable (a pipe written by a signal handler,
    /// say), then stops taking requests (new ones get `UNAVAILABLE`), answers those in
    /// flight, and returns. Also returns when the context shuts down.
    public func run(until stopDescriptor: CInt) throws {
        var poller = Poller()
        let frontendIndex = try poller.register(frontend)
        let backendIndex = try poller.register(backend)
        let mailboxIndex = poller.register(fileDescriptor: mailbox.fileDescriptor)
        let stopIndex = poller.register(fileDescriptor: stopDescriptor)
        let interval = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds)
        var nextTick = clock.now.advanced(by: interval)
        var drainDeadline: ContinuousClock.Instant?

        do {
            while true {
                let timeout = max(.zero, clock.now.duration(to: nextTick))
                if try poller.poll(timeout: timeout) > 0 {
                    if poller.isReadable(mailboxIndex) { completeIngests() }
                    if poller.isReadable(backendIndex) { try receiveFromWorkers() }
                    if poller.isReadable(frontendIndex) { try receiveFromClients(stopping: drainDeadline != nil) }
                    if poller.isReadable(stopIndex) && drainDeadline == nil {
                        logger.notice("stopping: answering requests in flight, refusing new ones")
                        drainDeadline = clock.now.advanced(by: .milliseconds(configuration.drainTimeoutMilliseconds))
                    }
                }
                let now = clock.now
                // A swap (publication, model directory, control request) reaches worker
                // processes at once, not at the next tick.
                if models.version != lastSyncedVersion { syncWorkerModels(now: now) }
                if now >= nextTick {
                    try tick(now: now)
                    nextTick = now.advanced(by: interval)
                }
                if let deadline = drainDeadline {
                    if inFlight.isEmpty && pendingIngests.isEmpty && ordering.isIdle { break }
                    if now >= deadline {
                        logger.warning("stopping with \(inFlight.count) requests and \(pendingIngests.count) ingests unanswered after the drain time-out")
                        break
                    }
                    // Poll briefly so the drain notices completions promptly.
                    nextTick = min(nextTick, now.advanced(by: .milliseconds(10)))
                }
            }
            answerQueuedRequests()
        } catch let error as ZMQError where error.kind == .contextTerminated {
            logger.debug("broker stopping: context shut down")
        }
        for worker in registry.routingIDs {
            try? backend.send(multipart: [worker] + WorkerMessage.disconnect.frames, mode: .nonBlocking)
        }
        close()
    }

    /// Closes the client and worker sockets (``run(until:)`` does when it returns); the
    /// context cannot terminate while they are open. Closing twice does nothing.
    public func close() {
        frontend.close()
        backend.close()
    }

    /// Answers what reached the client socket before it closes: requests queued in the last
    /// moments of the drain get UNAVAILABLE (health and stats their answer), never silence.
    /// Reads until the socket has been quiet for a short while, so that frames still on
    /// their way through libzmq's I/O thread are answered too.
    private func answerQueuedRequests() {
        var poller = Poller()
        guard let index = try? poller.register(frontend) else { return }
        let before = statistics.requests
        // Bounded, so that a client sending without pause cannot hold the shutdown open.
        let deadline = clock.now.advanced(by: .milliseconds(configuration.drainTimeoutMilliseconds))
        while clock.now < deadline,
              (try? poller.poll(timeout: .milliseconds(configuration.finalDrainQuietMilliseconds))) ?? 0 > 0, poller.isReadable(index) {
            let received = statistics.requests
            guard (try? receiveFromClients(stopping: true)) != nil, statistics.requests > received else { break }
        }
        let answered = statistics.requests - before
        if answered > 0 { logger.notice("refused requests that arrived while stopping", metadata: ["requests": "\(answered)"]) }
    }

    // MARK: - Clients

    private func receiveFromClients(stopping: Bool) throws {
        let limits = MultipartLimits(
            maxFrames: configuration.maxFramesPerMessage,
            // Room for the routing frames beside the largest accepted body.
            maxTotalBytes: configuration.protocolLimits.maxBodyBytes + 64 * 1024
        )
        for _ in 0..<configuration.burst {
            guard let received = try frontend.tryReceiveMultipart(within: limits) else { return }
            handleClientMessage(received, stopping: stopping)
        }
    }

    private func handleClientMessage(_ received: BoundedMultipart, stopping: Bool) {
        let arrivedAt = clock.now
        statistics.requests += 1
        if received.isTruncated {
            let tooManyFrames = received.totalFrames > configuration.maxFramesPerMessage
            let reply = Medley_V1_Reply.error(
                tooManyFrames ? .malformedFrame : .messageTooLarge,
                message: tooManyFrames
                    ? "a request has \(received.totalFrames) frames; at most \(configuration.maxFramesPerMessage) (routing ids, an empty delimiter and one body)"
                    : "the request is \(received.totalBytes) bytes; the limit is \(configuration.protocolLimits.maxBodyBytes)",
                requestID: 0
            )
            replyToUnsplittable(received.frames, reply: reply, arrivedAt: arrivedAt)
            return
        }
        let routed: RoutedMessage
        do {
            routed = try RoutedMessage(splitting: received.frames, maxBodyBytes: configuration.protocolLimits.maxBodyBytes)
        } catch {
            replyToUnsplittable(received.frames, reply: Medley_V1_Reply(failure: error), arrivedAt: arrivedAt)
            return
        }
        let request: Medley_V1_Request
        do {
            request = try Medley_V1_Request(validating: routed.body, limits: configuration.protocolLimits)
        } catch {
            metrics?.requestReceived(kind: "malformed")
            reply(Medley_V1_Reply(failure: error), to: routed.envelope, arrivedAt: arrivedAt)
            return
        }
        metrics?.requestReceived(kind: request.body?.kindName ?? "none")
        if stopping {
            var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: request.requestID)
            reply.error.retryAfterMs = 1000
            self.reply(reply, to: routed.envelope, arrivedAt: arrivedAt)
            return
        }
        switch request.body {
        case .ingest(let ingest):
            handleIngest(ingest, requestID: request.requestID, envelope: routed.envelope, arrivedAt: arrivedAt)
        case .recommend(let recommend):
            guard !recommend.userID.isEmpty else {
                reply(.error(.invalidArgument, message: "user_id is empty", requestID: request.requestID), to: routed.envelope, arrivedAt: arrivedAt)
                return
            }
            let held = HeldRequest(envelope: routed.envelope, requestID: request.requestID, userID: recommend.userID, body: routed.body, arrivedAt: arrivedAt)
            if ordering.mustHold(recommend.userID) {
                ordering.hold(held, for: recommend.userID)
            } else {
                dispatch(held)
            }
        case .health:
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .health(health())), to: routed.envelope, arrivedAt: arrivedAt)
        case .stats:
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .stats(stats())), to: routed.envelope, arrivedAt: arrivedAt)
        case .control(let control):
            reply(handleControl(control, requestID: request.requestID), to: routed.envelope, arrivedAt: arrivedAt)
        case .none:
            // Request validation refuses a request without a known body.
            reply(.error(.unknownMessage, message: "the request has no body this service knows", requestID: request.requestID), to: routed.envelope, arrivedAt: arrivedAt)
        }
    }

    private func replyToUnsplittable(_ frames: [[UInt8]], reply: Medley_V1_Reply, arrivedAt: ContinuousClock.Instant) {
        guard let envelope = RoutedMessage.replyEnvelope(forUnsplittable: frames) else {
            statistics.errors += 1
            logger.debug("dropping a client message with no routing id")
            return
        }
        self.reply(reply, to: envelope, arrivedAt: arrivedAt)
    }

    /// Sends a reply the broker made itself.
    private func reply(_ reply: Medley_V1_Reply, to envelope: [[UInt8]], arrivedAt: ContinuousClock.Instant) {
        if case .error(let error) = reply.body {
            statistics.errors += 1
            metrics?.errorReplied(code: error.code)
        }
        guard let body = try? reply.serializedFrame() else {
            logger.error("a reply could not be encoded")
            return
        }
        sendToClient(envelope: envelope, body: body, arrivedAt: arrivedAt)
    }

    private func sendToClient(envelope: [[UInt8]], body: [UInt8], arrivedAt: ContinuousClock.Instant) {
        do {
            // Non-blocking: a client that stops reading loses its own replies at the
            // high-water mark, and never stalls the broker.
            try frontend.send(multipart: envelope + [body], mode: .nonBlocking)
        } catch {
            logger.debug("reply not delivered: \(error)")
        }
        let latency = arrivedAt.duration(to: clock.now)
        statistics.latency.record(latency)
        metrics?.replied(after: latency)
    }

    // MARK: - Ingest

    private func handleIngest(_ ingest: Medley_V1_IngestRequest, requestID: UInt64, envelope: [[UInt8]], arrivedAt: ContinuousClock.Instant) {
        guard let model = models.model else {
            var reply = Medley_V1_Reply.error(.unavailable, message: "no model is loaded, so the service cannot check event domains yet; retry shortly", requestID: requestID)
            reply.error.retryAfterMs = 1000
            self.reply(reply, to: envelope, arrivedAt: arrivedAt)
            return
        }
        let nowMs = wallClockMilliseconds()
        var idempotency: (key: String, fingerprint: [UInt8])?
        if !ingest.idempotencyKey.isEmpty {
            let key = ingest.idempotencyKey
            let limit = configuration.protocolLimits.maxIDBytes
            guard key.utf8.count <= limit else {
                reply(.error(.invalidArgument, message: "idempotency_key is \(key.utf8.count) bytes; at most \(limit), as for every identifier", requestID: requestID),
                      to: envelope, arrivedAt: arrivedAt)
                return
            }
            let fingerprint = IngestReceipts.fingerprint(ingest.events)
            // The earlier request with this key: answered (a receipt) or still on its way to disk.
            let done = receipts.lookup(key, nowMs: nowMs)
            let pending = pendingKeys[key]
            if let earlier = done?.fingerprint ?? pending.flatMap({ pendingIngests[$0]?.idempotency?.fingerprint }), earlier != fingerprint {
                reply(.error(.conflict, message: "idempotency_key \"\(key)\" was used for other events; use a new key for a new request", requestID: requestID),
                      to: envelope, arrivedAt: arrivedAt)
                return
            }
            if let done {
                reply(Medley_V1_Reply(requestID: requestID, body: .ingest(done.ack)), to: envelope, arrivedAt: arrivedAt)
                return
            }
            if let pending {
                pendingIngests[pending]?.retries.append((envelope, requestID, arrivedAt))
                return
            }
            idempotency = (key, fingerprint)
        }
        let validator = IngestValidator(domains: Set(model.configuration.domains))
        let (accepted, rejections) = validator.validate(ingest.events, nowMs: nowMs)
        guard !accepted.isEmpty else {
            var ack = Medley_V1_IngestAck()
            ack.rejections = rejections
            // Nothing is stored, so the receipt lives in memory only: a retry is refused alike.
            if let idempotency {
                receipts.remember(idempotency.key, .init(fingerprint: idempotency.fingerprint, ack: ack, receivedAtMs: nowMs), nowMs: nowMs)
            }
            reply(Medley_V1_Reply(requestID: requestID, body: .ingest(ack)), to: envelope, arrivedAt: arrivedAt)
            return
        }
        let events = accepted.map { ingest.events[$0] }
        let users = Set(events.map { OpaqueID($0.userID) })
        let token = nextTicket
        nextTicket += 1
        pendingIngests[token] = PendingIngest(
            envelope: envelope, requestID: requestID, events: events, rejections: rejections,
            users: users, receivedAtMs: nowMs, arrivedAt: arrivedAt, idempotency: idempotency
        )
        ordering.ingestStarted(users: users)
        let receipt = idempotency.map { idempotency in
            Medley_V1_IngestReceipt.with {
                $0.idempotencyKey = idempotency.key
                $0.requestSha256 = Data(idempotency.fingerprint)
                $0.ack.accepted = UInt32(events.count)
                $0.ack.rejections = rejections
            }
        }
        if let idempotency { pendingKeys[idempotency.key] = token }
        log.submit(EventLogBatch(events: events, receivedAtMs: nowMs, receipt: receipt), token: token, to: mailbox)
    }

    /// Acknowledges ingests whose events are durable, hands the events to their owners, and
    /// releases the requests that waited for them. Completions arrive in submission order.
    private func completeIngests() {
        for completion in mailbox.drain() {
            guard let ingest = pendingIngests.removeValue(forKey: completion.token) else { continue }
            if let key = ingest.idempotency?.key { pendingKeys[key] = nil }
            let answered = [(ingest.envelope, ingest.requestID, ingest.arrivedAt)] + ingest.retries
            switch completion.result {
            case .success(let positions):
                if let failure = logWriteFailure {
                    logger.notice("the event log is writable again", metadata: ["after": "\(failure)"])
                    logWriteFailure = nil
                    logFailureLine.reset()
                }
                forward(ingest, positions: positions)
                var ack = Medley_V1_IngestAck()
                ack.accepted = UInt32(ingest.events.count)
                ack.rejections = ingest.rejections
                if let last = positions.last { ack.durablePosition = last }
                statistics.eventsLogged += UInt64(ingest.events.count)
                if let idempotency = ingest.idempotency {
                    receipts.remember(idempotency.key, .init(fingerprint: idempotency.fingerprint, ack: ack, receivedAtMs: ingest.receivedAtMs),
                                      nowMs: wallClockMilliseconds())
                }
                for (envelope, requestID, arrivedAt) in answered {
                    reply(Medley_V1_Reply(requestID: requestID, body: .ingest(ack)), to: envelope, arrivedAt: arrivedAt)
                }
            case .failure(let error):
                // Until a batch is stored again, health says so; the line is logged once per interval.
                logWriteFailure = "\(error)"
                if let notLogged = logFailureLine.admit() {
                    logger.error("event log write failed; ingests are refused", metadata: ["error": "\(error)", "failures_not_logged": "\(notLogged)"])
                }
                for (envelope, requestID, arrivedAt) in answered {
                    var reply = Medley_V1_Reply.error(.unavailable, message: "the event log could not store the batch (\(error)); none of its events was stored", requestID: requestID)
                    reply.error.retryAfterMs = 1000
                    self.reply(reply, to: envelope, arrivedAt: arrivedAt)
                }
            }
            for held in ordering.ingestFinished(users: ingest.users) { dispatch(held) }
        }
    }

    private func forward(_ ingest: PendingIngest, positions: [Medley_V1_LogPosition]) {
        var byWorker: [[UInt8]: [[UInt8]]] = [:]
        for (event, position) in zip(ingest.events, positions) {
            forwardedThrough = max(forwardedThrough, position.sequence)
            // With no worker yet, the log keeps the events; a joining worker gets them replayed.
            guard let owner = registry.owner(of: event.userID) else { continue }
            var record = Medley_V1_EventLogRecord()
            record.sequence = position.sequence
            record.receivedAtMs = ingest.receivedAtMs
            record.event = event
            guard let bytes = try? record.serializedBytes() as [UInt8] else { continue }
            byWorker[owner, default: []].append(bytes)
        }
        for (worker, records) in byWorker {
            sendToWorker(worker, .events(records))
        }
    }

    // MARK: - Workers

    private func dispatch(_ request: HeldRequest) {
        guard let worker = registry.owner(of: request.userID) else {
            var reply = Medley_V1_Reply.error(.unavailable, message: "no worker is serving yet; retry shortly", requestID: request.requestID)
            reply.error.retryAfterMs = 500
            self.reply(reply, to: request.envelope, arrivedAt: request.arrivedAt)
            return
        }
        let ticket = nextTicket
        nextTicket += 1
        inFlight[ticket] = InFlightRequest(worker: worker, envelope: request.envelope, requestID: request.requestID, arrivedAt: request.arrivedAt)
        registry[worker]?.inFlight.insert(ticket)
        sendToWorker(worker, .request(ticket: ticket, envelope: request.envelope, body: request.body))
    }

    private func sendToWorker(_ worker: [UInt8], _ message: WorkerMessage) {
        do {
            try backend.send(multipart: [worker] + message.frames)
        } catch {
            // The worker's connection is gone: take it out now rather than at its time-out.
            logger.warning("worker unreachable: \(error)")
            removeWorker(worker, reason: "unreachable")
        }
    }

    private func receiveFromWorkers() throws {
        for _ in 0..<configuration.burst {
            guard let frames = try backend.tryReceiveMultipart() else { return }
            guard frames.count >= 2 else { continue }
            let worker = frames[0]
            let message: WorkerMessage
            do {
                message = try WorkerMessage(frames: Array(frames.dropFirst()))
            } catch {
                logger.warning("dropping a message on the worker socket: \(error)")
                continue
            }
            handleWorkerMessage(message, from: worker)
        }
    }

    private func handleWorkerMessage(_ message: WorkerMessage, from worker: [UInt8]) {
        let now = clock.now
        if case .ready(let name, let modelVersion) = message {
            modelSync.joined(worker, modelVersion: modelVersion)
            defer { syncWorkerModels(now: now) }
            let before = registry.routingIDs
            if registry.add(routingID: worker, name: name, now: now) {
                logger.info("worker joined", metadata: ["worker": "\(name)", "workers": "\(registry.count)"])
                rebalance(from: before, to: registry.routingIDs, reset: nil)
            } else {
                // A worker that registers again has dropped its sessions: rebuild them.
                registry[worker]?.lastHeard = now
                rebalance(from: before, to: registry.routingIDs, reset: worker)
            }
            return
        }
        guard registry[worker] != nil else {
            // Not registered (the broker restarted, or declared it dead): ask it to register.
            if message != .disconnect {
                try? backend.send(multipart: [worker] + WorkerMessage.disconnect.frames, mode: .nonBlocking)
            }
            return
        }
        registry[worker]?.lastHeard = now
        switch message {
        case .heartbeat(let bytes):
            if let stats = try? Medley_V1_WorkerStats(serializedBytes: bytes), let entry = registry[worker] {
                registry[worker]?.stats = stats
                modelSync.reported(worker, modelVersion: stats.modelVersion)
                metrics?.workerReported(index: entry.index, name: entry.name, stats: stats)
            }
        case .reply(let ticket, _, let body):
            guard let request = inFlight.removeValue(forKey: ticket) else { return }
            registry[worker]?.inFlight.remove(ticket)
            sendToClient(envelope: request.envelope, body: body, arrivedAt: request.arrivedAt)
        case .disconnect:
            removeWorker(worker, reason: "disconnected")
        case .ready, .request, .events, .forget, .model:
            logger.warning("dropping a broker-bound message a worker should not send")
        }
    }

    private func tick(now: ContinuousClock.Instant) throws {
        let interval = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds)
        let deadline = interval * configuration.heartbeatLiveness
        syncWorkerModels(now: now)
        for worker in registry.routingIDs {
            guard let entry = registry[worker] else { continue }
            if entry.lastHeard.duration(to: now) > deadline {
                removeWorker(worker, reason: "silent for \(deadline)")
            } else {
                sendToWorker(worker, .heartbeat(stats: []))
            }
        }
    }

    /// Sends the serving model to the worker processes that serve another version.
    private func syncWorkerModels(now: ContinuousClock.Instant) {
        lastSyncedVersion = models.version
        guard let publication = installer.currentPublication else { return }
        let announcement: Medley_V1_ModelAnnouncement = publication.announcement
        let due = modelSync.due(current: announcement.version, now: now)
        guard !due.isEmpty, let announcementBytes: [UInt8] = try? announcement.serializedBytes() else { return }
        for worker in due {
            logger.info("sending the model to a worker", metadata: [
                "worker": "\(registry[worker]?.name ?? "?")", "version": "\(announcement.version)",
            ])
            sendToWorker(worker, .model(announcement: announcementBytes, modelBytes: publication.modelBytes))
        }
    }

    /// Takes a worker out of rotation: its unanswered requests get a retryable error and its
    /// users move to the remaining workers, with their sessions rebuilt from the log.
    private func removeWorker(_ worker: [UInt8], reason: String) {
        let before = registry.routingIDs
        guard let removed = registry.remove(worker) else { return }
        modelSync.left(worker)
        metrics?.workerLeft(index: removed.index)
        logger.warning("worker left", metadata: ["worker": "\(removed.name)", "reason": "\(reason)", "workers": "\(registry.count)"])
        for ticket in removed.inFlight.sorted() {
            guard let request = inFlight.removeValue(forKey: ticket) else { continue }
            var reply = Medley_V1_Reply.error(.unavailable, message: "the worker serving this user stopped answering; retry", requestID: request.requestID)
            reply.error.retryAfterMs = 100
            self.reply(reply, to: request.envelope, arrivedAt: request.arrivedAt)
        }
        rebalance(from: before, to: registry.routingIDs, reset: nil)
    }

    // MARK: - Sessions across pool changes

    /// Replays the recent log to the workers that gained users, and tells the workers that
    /// lost users to drop them. `reset` is a worker that lost all its sessions and needs every
    /// one of its users replayed.
    private func rebalance(from before: [[UInt8]], to after: [[UInt8]], reset: [UInt8]?) {
        guard !after.isEmpty else { return }
        let sinceMs = wallClockMilliseconds() - configuration.sessionReplayWindowMilliseconds
        // A joining worker takes users from every worker there before. Those workers may have
        // dropped some of their own users to make room for the ones now leaving (a store is
        // capped: the first worker to join was sent every user), so after FORGET they are sent
        // their own users' events again. A worker skips records it already holds (by
        // sequence) but counts them as activity, so each ends with its own newest users.
        let joined = after.contains { !before.contains($0) }
        let refilled = Set(joined ? before.filter(after.contains) : [])
        var outgoing: [[UInt8]: [[UInt8]]] = [:]
        var forgotten: [[UInt8]: Set<OpaqueID>] = [:]
        var ownerCache: [OpaqueID: (old: [UInt8]?, new: [UInt8])] = [:]
        var replayed = 0
        func owners(of userID: String) -> (old: [UInt8]?, new: [UInt8]) {
            let user = OpaqueID(userID)
            if let cached = ownerCache[user] { return cached }
            let owners = (WorkerRegistry.owner(of: userID, among: before), WorkerRegistry.owner(of: userID, among: after)!)
            ownerCache[user] = owners
            return owners
        }
        func sendForgets() {
            for (worker, users) in forgotten {
                sendToWorker(worker, .forget(userIDs: users.map { String(decoding: $0.bytes, as: UTF8.self) }))
            }
            forgotten = [:]
        }
        do {
            for pass in (refilled.isEmpty ? [2] : [1, 2]) {
                let replay = try EventLogReplay(directory: logDirectory, receivedSinceMs: sinceMs, throughSequence: forwardedThrough)
                while let (record, bytes) = try replay.next() {
                    let owners = owners(of: record.event.userID)
                    if pass == 1 || refilled.isEmpty, let old = owners.old, old != owners.new, after.contains(old) {
                        forgotten[old, default: []].insert(OpaqueID(record.event.userID))
                    }
                    guard pass == 2, owners.old != owners.new || owners.new == reset || refilled.contains(owners.new) else { continue }
                    outgoing[owners.new, default: []].append(bytes)
                    replayed += 1
                    if outgoing[owners.new]!.count >= 512 {
                        sendToWorker(owners.new, .events(outgoing[owners.new]!))
                        outgoing[owners.new] = []
                    }
                }
                // Old owners forget moved users before their own users are sent again.
                if pass == 1 { sendForgets() }
            }
        } catch {
            logger.error("could not replay the event log to rebuild sessions: \(error)")
        }
        sendForgets()
        for (worker, records) in outgoing where !records.isEmpty {
            sendToWorker(worker, .events(records))
        }
        if replayed > 0 {
            logger.info("rebuilt sessions from the log", metadata: ["events": "\(replayed)", "users": "\(ownerCache.count)"])
        }
    }

    // MARK: - Health, stats, control

    private func health() -> Medley_V1_HealthReply {
        var health = Medley_V1_HealthReply()
        let model = models.model
        health.modelVersion = model?.configuration.modelVersion ?? 0
        health.maxIDBytes = UInt32(ProtocolLimits.default.maxIDBytes)
        if let model {
            // What a client may ask for, without access to the model's file.
            health.domains = model.configuration.domains.enumerated().map { index, name in
                var domain = Medley_V1_DomainCatalogue()
                domain.name = name
                domain.items = UInt64(model.catalog.domainRanges[index].count)
                return domain
            }
            health.modelUsers = UInt64(model.users.count)
        }
        health.uptimeMs = UInt64(startedAt.duration(to: clock.now).components.seconds * 1000)
        if models.model == nil {
            health.status = .notReady
            health.detail = "no model loaded"
        } else if registry.isEmpty {
            health.status = .notReady
            health.detail = "no worker connected"
        } else if let failure = logWriteFailure {
            health.status = .degraded
            health.detail = "the event log cannot be written (\(failure)); ingests are refused with UNAVAILABLE"
        } else if let detail = installer.status.degradedDetail {
            health.status = .degraded
            health.detail = detail
        } else if let lagging = modelSync.lagging(current: models.version, now: clock.now).first {
            health.status = .degraded
            health.detail = "worker \(registry[lagging.worker]?.name ?? "?") serves model version \(lagging.version), not \(models.version)"
        } else {
            health.status = .serving
        }
        return health
    }

    private func stats() -> Medley_V1_StatsReply {
        var stats = Medley_V1_StatsReply()
        stats.requests = statistics.requests
        stats.errors = statistics.errors
        stats.latency = statistics.latency.summary
        stats.modelVersion = models.version
        stats.eventsLogged = statistics.eventsLogged
        stats.uptimeMs = UInt64(startedAt.duration(to: clock.now).components.seconds * 1000)
        let updates = installer.status
        stats.modelsInstalled = updates.installed
        stats.modelsRejected = updates.rejected
        stats.lastModelRejection = updates.lastRejection ?? ""
        for worker in registry.routingIDs {
            guard let entry = registry[worker] else { continue }
            var figures = entry.stats
            figures.worker = entry.index
            figures.queueDepth = UInt32(entry.inFlight.count)
            stats.workers.append(figures)
            stats.sessions += figures.sessions
            stats.errors += figures.errors
        }
        return stats
    }

    /// Loading verifies and warms the model up on this thread: an operator's action, rare
    /// enough that the pause is accepted. Publications and directory pickups load off it.
    private func handleControl(_ control: Medley_V1_ControlRequest, requestID: UInt64) -> Medley_V1_Reply {
        let swap: ModelSwap
        do {
            switch control.action {
            case .loadModel(let load):
                swap = try installer.load(version: load.version)
            case .rollbackModel:
                swap = try installer.rollback()
            case .none:
                return .error(.invalidArgument, message: "the control request has no action", requestID: requestID)
            }
        } catch {
            switch error {
            case .noModelDirectory: return .error(.invalidArgument, message: error.description, requestID: requestID)
            case .notFound, .noPreviousModel: return .error(.notFound, message: error.description, requestID: requestID)
            case .rejected: return .error(.modelRejected, message: error.description, requestID: requestID)
            }
        }
        var reply = Medley_V1_ControlReply()
        reply.previousVersion = swap.previousVersion
        reply.currentVersion = swap.currentVersion
        return Medley_V1_Reply(requestID: requestID, modelVersion: swap.currentVersion, body: .control(reply))
    }
}

@available(*, unavailable)
extension Broker: Sendable {}

/// The broker's own counters.
struct BrokerStatistics {
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var eventsLogged: UInt64 = 0
    var latency = LatencyWindow()
}
