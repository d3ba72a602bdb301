import Foundation
import Logging
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleySecurity
import ZeroMQ

/// The broker's side of its workers, on the worker socket (ROUTER): who is there (READY,
/// heartbeats, silence, DISCONNECT), which worker owns which user, the requests each has not
/// answered (by ticket, with the client's address kept here), the models worker processes
/// serve, and the sessions rebuilt when the pool changes (``Rebalancer``).
///
/// Replies for clients (a worker's answer, or a refusal when a worker is lost) collect in
/// ``takeReplies()``; the broker sends them.
final class WorkerPool {
    /// What a client gets from the pool.
    enum ClientReply {
        /// A worker's encoded reply.
        case answered(body: [UInt8], to: ClientAddress)
        /// A reply the pool made (an error).
        case made(Medley_V1_Reply, to: ClientAddress)
    }

    private struct InFlightRequest {
        let worker: [UInt8]
        let client: ClientAddress
    }

    private let configuration: BrokerConfiguration
    private let models: ServingModel
    private let installer: ModelInstaller
    private let metrics: ServiceMetrics?
    private let logger: Logger
    private let clock = ContinuousClock()
    let socket: Socket
    private let rebalancer: Rebalancer
    private(set) var registry = WorkerRegistry()
    /// Which worker processes serve which model version, and when they were sent the current one.
    private(set) var modelSync: WorkerModelSync
    /// The version ``syncModels(now:)`` last sent for.
    private var lastSyncedVersion: UInt64 = 0
    private var inFlight: [UInt64: InFlightRequest] = [:]
    private var nextTicket: UInt64 = 1
    private var replies: [ClientReply] = []
    /// Every record up to this sequence has been handed to its owner (or was in the log at
    /// start-up); replays stop here so that a record is never delivered twice.
    private var forwardedThrough: UInt64

    /// Binds the worker endpoints. `forwardedThrough`: the last sequence in the log at start.
    init(context: Context, configuration: BrokerConfiguration, models: ServingModel, installer: ModelInstaller, metrics: ServiceMetrics?,
         replaySource: @escaping SessionReplaySourceFactory, forwardedThrough: UInt64, logger: Logger) throws {
        self.configuration = configuration
        self.models = models
        self.installer = installer
        self.metrics = metrics
        self.logger = logger
        self.forwardedThrough = forwardedThrough
        modelSync = WorkerModelSync(resendAfter: .milliseconds(configuration.workerModelResendMilliseconds))
        rebalancer = try Rebalancer(context: context, source: replaySource, windowMs: configuration.sessionReplayWindowMilliseconds, logger: logger)
        socket = try context.socket(.router)
        // A send to a worker that has gone fails loudly instead of vanishing.
        try socket.set(.routerMandatory, true)
        try socket.set(.sendHighWaterMark, 0)
        try socket.set(.receiveHighWaterMark, 0)
        if let curve = configuration.curve { try socket.configureCurve(curve.role(domain: CurveServerSecurity.workerDomain)) }
        for endpoint in configuration.workerEndpoints { try socket.bind(endpoint) }
    }

    /// The replay's socket: poll it beside the worker socket, then call ``receiveFromReplay()``.
    var replaySocket: Socket { rebalancer.socket }

    /// Requests sent to workers and not answered yet.
    var inFlightCount: Int { inFlight.count }

    /// The replies collected since the last call, in order.
    func takeReplies() -> [ClientReply] {
        defer { replies = [] }
        return replies
    }

    /// Sends a recommend request to the worker that owns its user (or refuses it when there
    /// is no worker).
    func dispatch(_ request: HeldRequest) {
        guard let worker = registry.owner(of: request.userID) else {
            var reply = Medley_V1_Reply.error(.unavailable, message: "no worker is serving yet; retry shortly", requestID: request.client.requestID)
            reply.error.retryAfterMs = 500
            replies.append(.made(reply, to: request.client))
            return
        }
        let ticket = nextTicket
        nextTicket += 1
        inFlight[ticket] = InFlightRequest(worker: worker, client: request.client)
        registry.update(worker) { $0.inFlight.insert(ticket) }
        send(.request(ticket: ticket, requestID: request.client.requestID, recommendation: request.recommendation), to: worker)
    }

    /// Hands logged records to the workers that own their users, in log order.
    func forward(_ records: [IngestPipeline.LoggedRecord]) {
        // The live workers are listed once per call, and each record's owner is an index
        // into them (no array of keys made, nor a routing id hashed, per record).
        let workers = registry.routingIDs
        var packs = [EventRecordPack](repeating: EventRecordPack(), count: workers.count)
        for record in records {
            forwardedThrough = max(forwardedThrough, record.sequence)
            // With no worker yet, the log keeps the events; a joining worker gets them replayed.
            guard let owner = WorkerRegistry.ownerIndex(of: record.userID, among: workers) else { continue }
            packs[owner].append(record.bytes)
        }
        for (worker, pack) in zip(workers, packs) where !pack.isEmpty { send(.events(pack), to: worker) }
    }

    func receive() throws(ZMQError) {
        for _ in 0..<configuration.burst {
            guard let frames = try socket.tryReceiveMultipart() else { return }
            guard frames.count >= 2 else { continue }
            let worker = frames[0]
            let message: WorkerMessage
            do {
                message = try WorkerMessage(frames: Array(frames.dropFirst()))
            } catch {
                logger.warning("dropping a message on the worker socket: \(error)")
                continue
            }
            handle(message, from: worker)
        }
    }

    private func handle(_ message: WorkerMessage, from worker: [UInt8]) {
        let now = clock.now
        if case .ready(let name, let modelVersion) = message {
            modelSync.joined(worker, modelVersion: modelVersion)
            defer { syncModels(now: now) }
            let before = registry.routingIDs
            if registry.add(routingID: worker, name: name, now: now) {
                logger.info("worker joined", metadata: ["worker": "\(name)", "workers": "\(registry.count)"])
                rebalance(from: before, reset: nil)
            } else {
                // A worker that registers again has dropped its sessions: rebuild them.
                registry.update(worker) { $0.lastHeard = now }
                rebalance(from: before, reset: worker)
            }
            return
        }
        guard registry[worker] != nil else {
            // Not registered (the broker restarted, or declared it dead): ask it to register.
            if message != .disconnect {
                try? socket.send(multipart: [worker] + WorkerMessage.disconnect.frames, mode: .nonBlocking)
            }
            return
        }
        registry.update(worker) { $0.lastHeard = now }
        switch message {
        case .heartbeat(let bytes):
            if let stats = try? Medley_V1_WorkerStats(serializedBytes: bytes), let entry = registry[worker] {
                registry.update(worker) { $0.stats = stats }
                modelSync.reported(worker, modelVersion: stats.modelVersion)
                metrics?.workerReported(index: entry.index, name: entry.name, stats: stats)
            }
        case .reply(let ticket, let body):
            guard let request = inFlight.removeValue(forKey: ticket) else { return }
            registry.update(worker) { $0.inFlight.remove(ticket) }
            replies.append(.answered(body: body, to: request.client))
        case .disconnect:
            remove(worker, reason: "disconnected")
        case .ready, .request, .events, .forget, .model:
            logger.warning("dropping a broker-bound message a worker should not send")
        }
    }

    /// Heartbeats: takes out the workers silent too long, greets the others, and syncs models.
    func tick(now: ContinuousClock.Instant) {
        let deadline = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds) * configuration.heartbeatLiveness
        syncModels(now: now)
        for worker in registry.routingIDs {
            guard let entry = registry[worker] else { continue }
            if entry.lastHeard.duration(to: now) > deadline {
                remove(worker, reason: "silent for \(deadline)")
            } else {
                send(.heartbeat(stats: []), to: worker)
            }
        }
    }

    /// Sends the serving model to the worker processes that serve another version: at once
    /// after a swap (publication, model directory, control request), not at the next tick.
    func syncModelsIfSwapped(now: ContinuousClock.Instant) {
        if models.version != lastSyncedVersion { syncModels(now: now) }
    }

    private func syncModels(now: ContinuousClock.Instant) {
        lastSyncedVersion = models.version
        guard let publication = installer.currentPublication else { return }
        let announcement: Medley_V1_ModelAnnouncement = publication.announcement
        let due = modelSync.due(current: announcement.version, now: now)
        guard !due.isEmpty, let announcementBytes: [UInt8] = try? announcement.serializedBytes() else { return }
        for worker in due {
            logger.info("sending the model to a worker", metadata: [
                "worker": "\(registry[worker]?.name ?? "?")", "version": "\(announcement.version)",
            ])
            send(.model(announcement: announcementBytes, modelBytes: publication.modelBytes), to: worker)
        }
    }

    /// Events and requests for a worker that a replay is filling wait until it is done, so
    /// that none overtakes the older events it replays.
    private func send(_ message: WorkerMessage, to worker: [UInt8]) {
        switch message {
        case .events, .request:
            if rebalancer.hold(message, for: worker) { return }
        case .ready, .heartbeat, .reply, .forget, .disconnect, .model:
            break
        }
        send(frames: message.frames, to: worker)
    }

    private func send(frames: [[UInt8]], to worker: [UInt8]) {
        do {
            try socket.send(multipart: [worker] + frames)
        } catch {
            // The worker's connection is gone: take it out now rather than at its time-out.
            logger.warning("worker unreachable: \(error)")
            remove(worker, reason: "unreachable")
        }
    }

    /// Takes a worker out of rotation: its unanswered requests get a retryable error and its
    /// users move to the remaining workers, with their sessions rebuilt from the log.
    private func remove(_ worker: [UInt8], reason: String) {
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
            replies.append(.made(reply, to: request.client))
        }
        rebalance(from: before, reset: nil)
    }

    // MARK: - Sessions across pool changes

    /// Replays the recent log to the workers that gained users, and tells the workers that
    /// lost users to drop them. `reset` is a worker that lost all its sessions and needs every
    /// one of its users replayed.
    private func rebalance(from before: [[UInt8]], reset: [UInt8]?) {
        rebalancer.poolChanged(.init(before: before, after: registry.routingIDs, reset: reset), throughSequence: forwardedThrough)
    }

    /// Sends on what the replay handed over, and what waited for it once it is done.
    func receiveFromReplay() throws(ZMQError) {
        for delivery in try rebalancer.receive(burst: configuration.burst, throughSequence: forwardedThrough) {
            switch delivery {
            case .send(let worker, let frames): send(frames: frames, to: worker)
            case .release(let worker, let message): send(message, to: worker)
            }
        }
    }

    /// Ends a replay early (the broker is stopping): the requests that waited for it are
    /// refused, and the events that waited stay in the log for the next start.
    func stopReplay() {
        for (_, message) in rebalancer.stop() {
            guard case .request(let ticket, _, _) = message, let request = inFlight.removeValue(forKey: ticket) else { continue }
            registry.update(request.worker) { $0.inFlight.remove(ticket) }
            var reply = Medley_V1_Reply.error(.unavailable, message: "the service is shutting down; retry on another instance or after it restarts", requestID: request.client.requestID)
            reply.error.retryAfterMs = 1000
            replies.append(.made(reply, to: request.client))
        }
    }

    /// Stops the replay, tells every worker the broker is going, and closes the sockets.
    func close() {
        stopReplay()
        rebalancer.socket.close()
        for worker in registry.routingIDs {
            try? socket.send(multipart: [worker] + WorkerMessage.disconnect.frames, mode: .nonBlocking)
        }
        socket.close()
    }
}

@available(*, unavailable)
extension WorkerPool: Sendable {}
