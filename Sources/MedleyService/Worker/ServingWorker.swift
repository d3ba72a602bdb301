import Dispatch
import Logging
import MedleyEventConversion
import MedleyModelDistribution
import MedleyProtocol
import MedleySystem
import ZeroMQ

/// One serving worker: it holds the sessions of the users the broker assigns to it, folds
/// their logged events in, and answers their recommend requests in batches.
///
/// The worker reaches the broker only through its DEALER socket, so the same code runs on a
/// thread of `medley serve` (`inproc://`) or in a `medley worker` process (`tcp://`).
/// ``run()`` blocks the calling thread, which owns the socket, until the context shuts down.
public struct ServingWorker: Sendable {
    public let configuration: WorkerConfiguration
    let context: Context
    let models: ServingModel
    let logger: Logger
    /// Where an in-process worker counts its batch sizes for `--metrics`.
    let metrics: ServiceMetrics?
    /// A worker process's own installer for `models`: it asks the broker for the service's
    /// models and verifies, warms up and swaps in each one it is sent. Nil for a worker thread,
    /// which shares the server's models.
    let installer: ModelInstaller?
    private let installs: DispatchQueue

    public init(context: Context, models: ServingModel, configuration: WorkerConfiguration, logger: Logger? = nil,
                metrics: ServiceMetrics? = nil, installer: ModelInstaller? = nil) {
        self.context = context
        self.models = models
        self.configuration = configuration
        self.metrics = metrics
        self.installer = installer
        installs = DispatchQueue(label: "medley.worker.\(configuration.name).models")
        self.logger = logger ?? Logger(label: "medley.worker.\(configuration.name)")
    }

    /// Serves until the context is shut down, or until `stopDescriptor` becomes readable:
    /// then the worker tells the broker it is leaving (so its users move at once) and returns.
    /// Reconnects when the broker falls silent.
    public func run(until stopDescriptor: CInt? = nil) throws {
        var state = WorkerState(configuration: configuration)
        while true {
            do {
                if try serve(connection: makeConnection(), state: &state, stopDescriptor: stopDescriptor) == .stopped {
                    logger.debug("worker stopping: asked to")
                    return
                }
            } catch let error as ZMQError where error.kind == .contextTerminated {
                logger.debug("worker stopping: context shut down")
                return
            } catch is BrokerUnreachable {
                state.sessions.removeAll()
                logger.warning("nothing could be sent to the broker (its handshake failed, or it stopped reading); reconnecting",
                               metadata: ["endpoint": "\(configuration.brokerEndpoint)"])
                continue
            }
            // The broker fell silent: its sessions will be replayed to whoever owns them next.
            state.sessions.removeAll()
            logger.warning("broker silent; reconnecting", metadata: ["endpoint": "\(configuration.brokerEndpoint)"])
        }
    }

    private func makeConnection() throws -> Socket {
        let socket = try context.socket(.dealer)
        // Requests wait in the broker, not in a dead connection's queue.
        try socket.set(.lingerMilliseconds, 0)
        // A DEALER without a connection blocks in send, and libzmq drops a connection for good
        // when its handshake fails on this side (a broker that asks for CURVE keys this worker
        // does not have): a send that cannot leave for as long as the broker may stay silent
        // ends the connection (``BrokerUnreachable``).
        try socket.set(.sendTimeoutMilliseconds, Int32(clamping: configuration.heartbeatIntervalMilliseconds * configuration.heartbeatLiveness))
        if let curve = configuration.curve { try socket.configureCurve(curve) }
        try socket.connect(configuration.brokerEndpoint)
        try send(readyMessage, on: socket)
        return socket
    }

    private enum ConnectionEnd { case brokerSilent, stopped }

    /// Serves one connection; returns when the broker has been silent too long or on stop.
    private func serve(connection socket: Socket, state: inout WorkerState, stopDescriptor: CInt?) throws -> ConnectionEnd {
        defer { socket.close() }
        let clock = ContinuousClock()
        let interval = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds)
        var lastHeard = clock.now
        var nextHeartbeat = clock.now.advanced(by: interval)
        var poller = Poller()
        try poller.register(socket)
        let stopIndex = stopDescriptor.map { poller.register(fileDescriptor: $0) }
        let responder = RecommendationResponder(configuration: configuration)
        var batch: [PendingRecommendation] = []
        var batching = AdaptiveBatching(maxDelayMicroseconds: configuration.maxBatchDelayMicroseconds)
        let busyPoll = Duration.microseconds(configuration.busyPollMicroseconds)
        var lastAnswered: ContinuousClock.Instant?

        func flush() throws {
            guard !batch.isEmpty else { return }
            // One model reference for the whole batch: a swap never splits a batch.
            let model = models.model
            let nowMs = wallClockMilliseconds()
            let replies = configuration.idleCores.map { cores in
                cores.scoring { threads in responder.answer(batch, sessions: state.sessions, model: model, nowMs: nowMs, threads: threads) }
            } ?? responder.answer(batch, sessions: state.sessions, model: model, nowMs: nowMs)
            for (pending, reply) in zip(batch, replies) {
                if reply.isError { state.errors += 1 }
                try send(.reply(ticket: pending.ticket, body: reply.frame), on: socket)
            }
            state.requests += UInt64(batch.count)
            metrics?.batchScored(size: batch.count)
            batching.flushed(size: batch.count, at: clock.now)
            batch.removeAll(keepingCapacity: true)
            lastAnswered = clock.now
        }

        while true {
            // While a batch is open, wait only as long as its first request may wait
            // (not at all unless the worker is under load: AdaptiveBatching).
            let batchDeadline = batch.isEmpty ? nil : state.batchOpenedAt.map(batching.deadline(forBatchOpenedAt:))
            let wake = batchDeadline.map { min($0, nextHeartbeat) } ?? nextHeartbeat
            if batch.isEmpty, let lastAnswered, busyPoll > .zero {
                // Polls without sleeping until a message (or the stop) is waiting, or the
                // window after the last batch closes; the poll below then returns at once.
                let until = min(lastAnswered.advanced(by: busyPoll), wake)
                while clock.now < until, try poller.poll(timeout: .zero) == 0 {}
            }
            let ready = try poller.poll(timeout: max(.zero, clock.now.duration(to: wake)))
            if let stopIndex, poller.isReadable(stopIndex) {
                do {
                    try flush()
                    try send(.disconnect, on: socket)
                    // Give the goodbye a moment to leave before the socket closes.
                    try socket.set(.lingerMilliseconds, 500)
                } catch is BrokerUnreachable {
                    // No one to say goodbye to: the broker will find this worker silent.
                }
                return .stopped
            }
            if ready > 0 {
                // Take everything waiting, in order, without blocking.
                while let frames = try socket.tryReceiveMultipart() {
                    lastHeard = clock.now
                    let message: WorkerMessage
                    do {
                        message = try WorkerMessage(frames: frames)
                    } catch {
                        logger.error("dropping a message from the broker that is not worker protocol: \(error)")
                        continue
                    }
                    switch message {
                    case .request(let ticket, let requestID, let recommendation):
                        if let pending = decodeRecommendation(ticket: ticket, requestID: requestID, bytes: recommendation, socket: socket, state: &state) {
                            if batch.isEmpty { state.batchOpenedAt = clock.now }
                            batch.append(pending)
                            if batch.count >= configuration.maxBatchSize { try flush() }
                        }
                    case .events(let records):
                        // Requests received before these events are answered without them.
                        try flush()
                        state.apply(records: records, logger: logger)
                    case .forget(let userIDs):
                        try flush()
                        for userID in userIDs { state.sessions.remove(userID) }
                    case .heartbeat:
                        break
                    case .disconnect:
                        // The broker does not know this worker (it restarted): register again.
                        try flush()
                        state.sessions.removeAll()
                        try send(readyMessage, on: socket)
                    case .model(let announcement, let modelBytes):
                        install(announcement: announcement, modelBytes: modelBytes)
                    case .ready, .reply:
                        logger.error("dropping a worker-bound message the broker should not send")
                    }
                    // A long backlog (a replay's events after a restart) must not hold back the
                    // heartbeat, or the broker declares this worker silent and replays again;
                    // the next poll returns at once for the messages still waiting.
                    if clock.now >= nextHeartbeat { break }
                }
            }
            let now = clock.now
            if let batchDeadline, now >= batchDeadline { try flush() }
            if now >= nextHeartbeat {
                try flush()
                state.sessions.expireIdle(nowMs: wallClockMilliseconds())
                try send(.heartbeat(stats: state.statsFrame(model: models)), on: socket)
                nextHeartbeat = now.advanced(by: interval)
            }
            if lastHeard.duration(to: now) > interval * configuration.heartbeatLiveness {
                try flush()
                return .brokerSilent
            }
        }
    }

    /// Decodes a recommend request's body, the one time it is decoded; one that is not valid is
    /// answered here.
    private func decodeRecommendation(
        ticket: UInt64, requestID: UInt64, bytes: [UInt8], socket: Socket, state: inout WorkerState
    ) -> PendingRecommendation? {
        do {
            let request = try Medley_V1_RecommendRequest(validating: bytes, requestID: requestID, limits: configuration.protocolLimits)
            return PendingRecommendation(ticket: ticket, requestID: requestID, request: request)
        } catch {
            state.requests += 1
            state.errors += 1
            try? send(.reply(ticket: ticket, body: (try? Medley_V1_Reply(failure: error).serializedFrame()) ?? []), on: socket)
            return nil
        }
    }

    /// READY, with the version serving when this worker takes models from the broker.
    private var readyMessage: WorkerMessage {
        .ready(name: configuration.name, modelVersion: installer.map { _ in models.version })
    }

    /// Verifies, warms up and swaps in a model the broker sent, off the serving thread: requests
    /// go on being answered by the current model meanwhile. Installs run one at a time, in order.
    private func install(announcement: [UInt8], modelBytes: [UInt8]) {
        guard let installer else {
            logger.error("dropping a model: this worker shares its server's models")
            return
        }
        let publication: ModelPublication
        do {
            publication = ModelPublication(announcement: try Medley_V1_ModelAnnouncement(serializedBytes: announcement), modelBytes: modelBytes)
        } catch {
            installer.refuse(version: 0, source: "broker", because: .malformedMessage("announcement: \(error)"))
            return
        }
        installs.async {
            // A refusal is logged and counted by the installer; the current model keeps serving.
            _ = try? installer.install(publication, source: "broker", mustBeNewer: false)
        }
    }

    private func send(_ message: WorkerMessage, on socket: Socket) throws {
        do {
            try socket.send(multipart: message.frames)
        } catch where error.kind == .wouldBlock {
            throw BrokerUnreachable()
        }
    }
}

/// A send to the broker timed out: the connection has no peer.
private struct BrokerUnreachable: Error {}

/// What a worker keeps across reconnections.
struct WorkerState {
    let sessions: SessionStore
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var eventsApplied: UInt64 = 0
    var batchOpenedAt: ContinuousClock.Instant?

    init(configuration: WorkerConfiguration) {
        sessions = SessionStore(configuration: configuration.sessions)
    }

    mutating func apply(records: EventRecordPack, logger: Logger) {
        let now = wallClockMilliseconds()
        records.forEach { bytes in
            // The log writer's records are read in place without building the protobuf
            // message; any other form goes through the general decoder, which gives the same fields.
            if let logged = LoggedEvent(canonical: bytes) {
                sessions.apply(logged, nowMs: now)
                eventsApplied += 1
                return
            }
            do {
                sessions.apply(try Medley_V1_EventLogRecord(serializedBytes: Array(bytes)), nowMs: now)
                eventsApplied += 1
            } catch {
                logger.error("dropping an event record the broker sent that does not decode: \(error)")
            }
        }
    }

    func statsFrame(model: ServingModel) -> [UInt8] {
        var stats = Medley_V1_WorkerStats()
        stats.requests = requests
        stats.errors = errors
        stats.sessions = UInt64(sessions.count)
        stats.modelVersion = model.version
        return (try? stats.serializedBytes()) ?? []
    }
}
