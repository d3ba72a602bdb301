import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleySecurity
import MedleySystem
import ZeroMQ

/// The broker of `medley serve`: it takes client requests on a ROUTER socket and routes
/// each to what handles it. Ingests go to the ingest pipeline (``IngestPipeline``), whose
/// logged events go to the workers that own their users; recommend requests go to the
/// user's worker (``WorkerPool``); control requests go to the model manager's thread
/// (``ModelControlLink``); health and stats are answered from ``ServiceStatus``.
///
/// Every request gets exactly one reply: a bad frame, an unknown domain, a vanished worker
/// and a shutdown each get an error reply. ``run(until:)`` blocks the calling thread, which
/// owns the broker's sockets; the work that takes long (a log replay, a model load) runs on
/// other threads, whose results come back through sockets the loop polls.
public final class Broker {
    public let configuration: BrokerConfiguration
    let models: ServingModel
    let logger: Logger

    private let frontend: Socket
    private let framing: ClientFraming
    private var ingest: IngestPipeline
    private let workers: WorkerPool
    private let modelControl: ModelControlLink
    private var status: ServiceStatus
    private let clock = ContinuousClock()
    private var closed = false

    /// Binds the client and worker endpoints. Call on the thread that will call ``run(until:)``.
    /// `installer` reports model refusals and serves worker processes the current model; by
    /// default one that loads from `configuration.modelDirectory`.
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
        let installer = installer ?? ModelInstaller(models: models, modelDirectory: configuration.modelDirectory)
        self.configuration = configuration
        self.models = models
        self.logger = logger
        framing = ClientFraming(configuration: configuration)
        status = ServiceStatus(models: models, installer: installer, metrics: metrics, maxIDBytes: configuration.protocolLimits.maxIDBytes)
        ingest = try IngestPipeline(models: models, log: log, logDirectory: logDirectory, configuration: configuration, logger: logger)

        frontend = try context.socket(.router)
        try frontend.set(.maxMessageSize, configuration.socketMaxMessageBytes)
        try frontend.set(.sendHighWaterMark, configuration.clientHighWaterMark)
        try frontend.set(.receiveHighWaterMark, configuration.clientHighWaterMark)
        if let curve = configuration.curve { try frontend.configureCurve(curve.role(domain: CurveServerSecurity.clientDomain)) }
        for endpoint in configuration.clientEndpoints { try frontend.bind(endpoint) }

        modelControl = try ModelControlLink(context: context)
        // Everything recovered from disk counts as handed over: replays deliver it on demand.
        workers = try WorkerPool(
            context: context, configuration: configuration, models: models, installer: installer, metrics: metrics,
            replaySource: replaySource, forwardedThrough: log.recoveryReport.nextSequence - 1, logger: logger)
    }

    /// The endpoints actually bound for clients (with ports chosen for `tcp://...:*`).
    public var boundClientEndpoint: String {
        get throws { try frontend.lastEndpoint }
    }

    /// The last worker endpoint bound (with its port chosen for `tcp://...:*`).
    public var boundWorkerEndpoint: String {
        get throws { try workers.socket.lastEndpoint }
    }

    /// Where the model manager connects to carry out control requests.
    var controlEndpoint: String { modelControl.endpoint }

    /// Serves until `stopDescriptor` becomes readable (a pipe written by a signal handler,
    /// say), then stops taking requests (new ones get `UNAVAILABLE`), answers those in
    /// flight, and returns. Also returns when the context shuts down.
    public func run(until stopDescriptor: CInt) throws {
        var poller = Poller()
        let frontendIndex = try poller.register(frontend)
        let backendIndex = try poller.register(workers.socket)
        let mailboxIndex = poller.register(fileDescriptor: ingest.fileDescriptor)
        let replayIndex = try poller.register(workers.replaySocket)
        let controlIndex = try poller.register(modelControl.socket)
        let stopIndex = poller.register(fileDescriptor: stopDescriptor)
        let interval = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds)
        var nextTick = clock.now.advanced(by: interval)
        var drainDeadline: ContinuousClock.Instant?
        defer { close() }

        do {
            while true {
                let timeout = max(.zero, clock.now.duration(to: nextTick))
                if try poller.poll(timeout: timeout) > 0 {
                    if poller.isReadable(mailboxIndex) { completeIngests() }
                    if poller.isReadable(replayIndex) { try workers.receiveFromReplay() }
                    if poller.isReadable(controlIndex) {
                        for (reply, client) in try modelControl.receive(burst: configuration.burst) { self.reply(reply, to: client) }
                    }
                    if poller.isReadable(backendIndex) { try workers.receive() }
                    if poller.isReadable(frontendIndex) { try receiveFromClients(stopping: drainDeadline != nil) }
                    if poller.isReadable(stopIndex) && drainDeadline == nil {
                        logger.notice("stopping: answering requests in flight, refusing new ones")
                        drainDeadline = clock.now.advanced(by: .milliseconds(configuration.drainTimeoutMilliseconds))
                        workers.stopReplay()
                        for (reply, client) in modelControl.refuseWaiting() { self.reply(reply, to: client) }
                    }
                }
                let now = clock.now
                workers.syncModelsIfSwapped(now: now)
                if now >= nextTick {
                    workers.tick(now: now)
                    nextTick = now.advanced(by: interval)
                }
                sendWorkerReplies()
                if let deadline = drainDeadline {
                    if workers.inFlightCount == 0 && ingest.isIdle { break }
                    if now >= deadline {
                        logger.warning("stopping with \(workers.inFlightCount) requests and \(ingest.pendingCount) ingests unanswered after the drain time-out")
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
    }

    /// Closes the broker's sockets, after telling the workers it is going (``run(until:)``
    /// does when it returns); the context cannot terminate while they are open. Closing twice
    /// does nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        workers.close()
        modelControl.socket.close()
        frontend.close()
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
        for _ in 0..<configuration.burst {
            guard let received = try frontend.tryReceiveMultipart(within: framing.receiveLimits) else { return }
            status.received()
            switch framing.decode(received, arrivedAt: clock.now) {
            case .request(let request, let client):
                status.decoded(kind: request.body?.kind.rawValue ?? "none")
                route(request, from: client, stopping: stopping)
            case .recommend(let held):
                status.decoded(kind: RequestKind.recommend.rawValue)
                route(held, stopping: stopping)
            case .refused(let reply, let client, let malformedRequest):
                if malformedRequest { status.decoded(kind: "malformed") }
                self.reply(reply, to: client)
            case .unanswerable:
                status.dropped()
                logger.debug("dropping a client message with no routing id")
            }
        }
    }

    private func route(_ request: Medley_V1_Request, from client: ClientAddress, stopping: Bool) {
        guard !stopping else { return refuseWhileStopping(client) }
        switch request.body {
        case .ingest(let ingestRequest):
            if let reply = ingest.submit(ingestRequest, from: client) { self.reply(reply, to: client) }
        case .recommend:
            // Framing hands recommend requests over undecoded (`route(_:stopping:)`).
            reply(.error(.internal, message: "a decoded recommend request reached the broker's router", requestID: request.requestID), to: client)
        case .health:
            let health = status.health(workers: workers.registry, modelSync: workers.modelSync, logWriteFailure: ingest.logWriteFailure)
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .health(health)), to: client)
        case .stats:
            let stats = status.stats(workers: workers.registry, eventsLogged: ingest.eventsLogged)
            reply(Medley_V1_Reply(requestID: request.requestID, modelVersion: models.version, body: .stats(stats)), to: client)
        case .control(let control):
            if let reply = modelControl.submit(control, from: client) { self.reply(reply, to: client) }
        case .none:
            // Request validation refuses a request without a known body.
            reply(.error(.unknownMessage, message: "the request has no body this service knows", requestID: request.requestID), to: client)
        }
    }

    /// Sends a recommend request on towards the worker that owns its user.
    private func route(_ request: HeldRequest, stopping: Bool) {
        guard !stopping else { return refuseWhileStopping(request.client) }
        guard !request.userID.isEmpty else {
            return reply(.error(.invalidArgument, message: "user_id is empty", requestID: request.client.requestID), to: request.client)
        }
        if let ready = ingest.admit(request) { workers.dispatch(ready) }
    }

    private func refuseWhileStopping(_ client: ClientAddress) {
        var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: client.requestID)
        reply.error.retryAfterMs = 1000
        self.reply(reply, to: client)
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

    /// Sends what the ingest pipeline's completions call for, in order.
    private func completeIngests() {
        for step in ingest.complete() {
            switch step {
            case .forward(let records): workers.forward(records)
            case .reply(let reply, let client): self.reply(reply, to: client)
            case .release(let held): workers.dispatch(held)
            }
        }
    }

    /// Sends the workers' answers, and the refusals for requests whose worker was lost.
    private func sendWorkerReplies() {
        for reply in workers.takeReplies() {
            switch reply {
            case .answered(let body, let client): sendToClient(client, body: body)
            case .made(let reply, let client): self.reply(reply, to: client)
            }
        }
    }
}

@available(*, unavailable)
extension Broker: Sendable {}
