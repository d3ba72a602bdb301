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
    private var registry = WorkerRegistry()
    private var ingest: IngestPipeline
    private var inFlight: [UInt64: InFlightRequest] = [:]
    private var nextTicket: UInt64 = 1
    private var status: ServiceStatus
    /// Rebuilds sessions from the log on its own thread when the pool changes.
    private let rebalancer: Rebalancer
    /// Control requests go to the model manager's thread through it.
    private let modelControl: ModelControlLink
    private let clock = ContinuousClock()

    struct InFlightRequest {
        let worker: [UInt8]
        let client: ClientAddress
    }

    /// Binds the client and worker endpoints. Call on the thread that will call ``run(until:)``.
    /// `installer` carries out control requests and reports model refusals; by default one
    /// that loads from `configuration.modelDirectory`.
    public convenience init(
        context: Context, configuration: BrokerConfiguration, models: ServingModel,
        log: EventLogAppender, logDirectory: String, installer: ModelInstaller? = nil, metrics: ServiceMetrics? = nil,
        logger: Logger = Logger(label: "medley.broker")
    ) throws {
        try self.init(context: context, configuration: configuration, models: models, log: log, logDirectory: logDirectory,
                      installer: installer, metrics: metrics, replaySource: EventLogReplay.factory(directory: logDirectory), logger: logger)
    }

    /// `replaySource` reads the events that rebuild sessions after a pool change.
    init(
        context: Context, configuration: BrokerConfiguration, models: ServingModel,
        log: EventLogAppender, logDirectory: String, installer: ModelInstaller?, metrics: ServiceMetrics?,
        replaySource: @escaping SessionReplaySourceFactory, logger: Logger
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
        status = ServiceStatus(models: models, installer: self.installer, metrics: metrics)
        ingest = try IngestPipeline(models: models, log: log, logDirectory: logDirectory, configuration: configuration, logger: logger)

        frontend = try context.socket(.router)
        try frontend.set(.maxMessageSize, configuration.socketMaxMessageBytes)
        try frontend.set(.sendHighWaterMark, configuration.clientHighWaterMark)
        try frontend.set(.receiveHighWaterMark, configuration.clientHighWaterMark)
        if let curve = configuration.curve { try frontend.configureCurve(curve.role(domain: CurveServerSecurity.clientDomain)) }
        for endpoint in configuration.clientEndpoints { try frontend.bind(endpoint) }

        modelControl = try ModelControlLink(context: context)
        rebalancer = try Rebalancer(context: context, source: replaySource, windowMs: configuration.sessionReplayWindowMilliseconds,
                                    logger: logger)
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

    /// Where the model manager connects to carry out control requests.
    var controlEndpoint: String { modelControl.endpoint }

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
        let mailboxIndex = poller.register(fileDescriptor: ingest.fileDescriptor)
        let replayIndex = try poller.register(rebalancer.socket)
        let controlIndex = try poller.register(modelControl.socket)
        let stopIndex = poller.register(fileDescriptor: stopDescriptor)
        let interval = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds)
        var nextTick = clock.now.advanced(by: interval)
        var drainDeadline: ContinuousClock.Instant?

        do {
            while true {
                let timeout = max(.zero, clock.now.duration(to: nextTick))
                if try poller.poll(timeout: timeout) > 0 {
                    if poller.isReadable(mailboxIndex) { completeIngests() }
                    if poller.isReadable(replayIndex) { try receiveFromReplay() }
                    if poller.isReadable(controlIndex) {
                        for (reply, client) in try modelControl.receive(burst: configuration.burst) { self.reply(reply, to: client) }
                    }
                    if poller.isReadable(backendIndex) { try receiveFromWorkers() }
                    if poller.isReadable(frontendIndex) { try receiveFromClients(stopping: drainDeadline != nil) }
                    if poller.isReadable(stopIndex) && drainDeadline == nil {
                        logger.notice("stopping: answering requests in flight, refusing new ones")
                        drainDeadline = clock.now.advanced(by: .milliseconds(configuration.drainTimeoutMilliseconds))
                        stopReplay()
                        for (reply, client) in modelControl.refuseWaiting() { self.reply(reply, to: client) }
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
                    if inFlight.isEmpty && ingest.isIdle { break }
                    if now >= deadline {
                        logger.warning("stopping with \(inFlight.count) requests and \(ingest.pendingCount) ingests unanswered after the drain time-out")
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
        stopReplay()
        rebalancer.socket.close()
        modelControl.socket.close()
        for worker in registry.routingIDs {
            try? backend.send(multipart: [worker] + WorkerMessage.disconnect.frames, mode: .nonBlocking)
        }
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
        let before = status.requests
        // Bounded, so that a client sending without pause cannot hold the shutdown open.
        let deadline = clock.now.advanced(by: .milliseconds(configuration.drainTimeoutMilliseconds))
        while clock.now < deadline,
              (try? poller.poll(timeout: .milliseconds(configuration.finalDrainQuietMilliseconds))) ?? 0 > 0, poller.isReadable(index) {
            let received = status.requests
            guard (try? receiveFromClients(stopping: true)) != nil, status.requests > received else { break }
        }
        let answered = status.requests - before
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
        status.received()
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
            status.decoded(kind: "malformed")
            reply(Medley_V1_Reply(failure: error), to: ClientAddress(envelope: routed.envelope, requestID: 0, arrivedAt: arrivedAt))
            return
        }
        status.decoded(kind: request.body?.kindName ?? "none")
        let client = ClientAddress(envelope: routed.envelope, requestID: request.requestID, arrivedAt: arrivedAt)
        if stopping {
            var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: request.requestID)
            reply.error.retryAfterMs = 1000
            self.reply(reply, to: client)
            return
        }
        switch request.body {
        case .ingest(let body):
            if let reply = ingest.submit(body, from: client) { self.reply(reply, to: client) }
        case .recommend(let recommend):
            guard !recommend.userID.isEmpty else {
                reply(.error(.invalidArgument, message: "user_id is empty", requestID: request.requestID), to: client)
                return
            }
            if let request = ingest.admit(HeldRequest(client: client, userID: recommend.userID, body: routed.body)) { dispatch(request) }
        case .health:
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .health(status.health(workers: registry, modelSync: modelSync, logWriteFailure: ingest.logWriteFailure))), to: client)
        case .stats:
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .stats(status.stats(workers: registry, eventsLogged: ingest.eventsLogged))), to: client)
        case .control(let control):
            if let reply = modelControl.submit(control, from: client) { self.reply(reply, to: client) }
        case .none:
            // Request validation refuses a request without a known body.
            reply(.error(.unknownMessage, message: "the request has no body this service knows", requestID: request.requestID), to: client)
        }
    }

    private func replyToUnsplittable(_ frames: [[UInt8]], reply: Medley_V1_Reply, arrivedAt: ContinuousClock.Instant) {
        guard let envelope = RoutedMessage.replyEnvelope(forUnsplittable: frames) else {
            status.dropped()
            logger.debug("dropping a client message with no routing id")
            return
        }
        self.reply(reply, to: ClientAddress(envelope: envelope, requestID: 0, arrivedAt: arrivedAt))
    }

    /// Sends a reply the broker made itself.
    private func reply(_ reply: Medley_V1_Reply, to client: ClientAddress) {
        if case .error(let error) = reply.body { status.repliedError(error.code) }
        guard let body = try? reply.serializedFrame() else {
            logger.error("a reply could not be encoded")
            return
        }
        sendToClient(client, body: body)
    }

    private func sendToClient(_ client: ClientAddress, body: [UInt8]) {
        do {
            // Non-blocking: a client that stops reading loses its own replies at the
            // high-water mark, and never stalls the broker.
            try frontend.send(multipart: client.envelope + [body], mode: .nonBlocking)
        } catch {
            logger.debug("reply not delivered: \(error)")
        }
        status.replied(after: client.arrivedAt.duration(to: clock.now))
    }

    // MARK: - Ingest

    /// Sends what the ingest pipeline's completions call for, in order.
    private func completeIngests() {
        for step in ingest.complete() {
            switch step {
            case .forward(let records):
                var byWorker: [[UInt8]: [[UInt8]]] = [:]
                for (userID, record) in records {
                    // With no worker yet, the log keeps the events; a joining worker gets them replayed.
                    guard let owner = registry.owner(of: userID) else { continue }
                    byWorker[owner, default: []].append(record)
                }
                for (worker, records) in byWorker { sendToWorker(worker, .events(records)) }
            case .reply(let reply, let client):
                self.reply(reply, to: client)
            case .release(let held):
                dispatch(held)
            }
        }
    }

    // MARK: - Workers

    private func dispatch(_ request: HeldRequest) {
        guard let worker = registry.owner(of: request.userID) else {
            var reply = Medley_V1_Reply.error(.unavailable, message: "no worker is serving yet; retry shortly", requestID: request.client.requestID)
            reply.error.retryAfterMs = 500
            self.reply(reply, to: request.client)
            return
        }
        let ticket = nextTicket
        nextTicket += 1
        inFlight[ticket] = InFlightRequest(worker: worker, client: request.client)
        registry[worker]?.inFlight.insert(ticket)
        sendToWorker(worker, .request(ticket: ticket, envelope: request.client.envelope, body: request.body))
    }

    /// Events and requests for a worker that a replay is filling wait until it is done, so
    /// that none overtakes the older events it replays.
    private func sendToWorker(_ worker: [UInt8], _ message: WorkerMessage) {
        switch message {
        case .events, .request:
            if rebalancer.hold(message, for: worker) { return }
        case .ready, .heartbeat, .reply, .forget, .disconnect, .model:
            break
        }
        sendToWorker(worker, frames: message.frames)
    }

    private func sendToWorker(_ worker: [UInt8], frames: [[UInt8]]) {
        do {
            try backend.send(multipart: [worker] + frames)
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
            sendToClient(request.client, body: body)
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
        rebalancer.workerLeft(worker)
        metrics?.workerLeft(index: removed.index)
        logger.warning("worker left", metadata: ["worker": "\(removed.name)", "reason": "\(reason)", "workers": "\(registry.count)"])
        for ticket in removed.inFlight.sorted() {
            guard let request = inFlight.removeValue(forKey: ticket) else { continue }
            var reply = Medley_V1_Reply.error(.unavailable, message: "the worker serving this user stopped answering; retry", requestID: request.client.requestID)
            reply.error.retryAfterMs = 100
            self.reply(reply, to: request.client)
        }
        rebalance(from: before, to: registry.routingIDs, reset: nil)
    }

    // MARK: - Sessions across pool changes

    /// Replays the recent log to the workers that gained users, and tells the workers that
    /// lost users to drop them. `reset` is a worker that lost all its sessions and needs every
    /// one of its users replayed.
    private func rebalance(from before: [[UInt8]], to after: [[UInt8]], reset: [UInt8]?) {
        rebalancer.poolChanged(.init(before: before, after: after, reset: reset), throughSequence: ingest.forwardedThrough)
    }

    /// Sends on what the replay handed over, and what waited for it once it is done.
    private func receiveFromReplay() throws {
        for delivery in try rebalancer.receive(burst: configuration.burst, throughSequence: ingest.forwardedThrough) {
            switch delivery {
            case .send(let worker, let frames): sendToWorker(worker, frames: frames)
            case .release(let worker, let message): sendToWorker(worker, message)
            }
        }
    }

    /// Ends a replay early (the broker is stopping): the requests that waited for it are
    /// refused as at a worker's loss, and the events that waited stay in the log for the next start.
    private func stopReplay() {
        for (_, message) in rebalancer.stop() {
            guard case .request(let ticket, _, _) = message, let request = inFlight.removeValue(forKey: ticket) else { continue }
            registry[request.worker]?.inFlight.remove(ticket)
            var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: request.client.requestID)
            reply.error.retryAfterMs = 1000
            self.reply(reply, to: request.client)
        }
    }
}

@available(*, unavailable)
extension Broker: Sendable {}
