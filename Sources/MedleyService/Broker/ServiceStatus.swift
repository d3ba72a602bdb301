import MedleyModelDistribution
import MedleyProtocol

/// What `medley serve` says about itself: the health and stats replies, from the broker's
/// state (its workers, the model sync, the event log's failure state) and the counters it
/// keeps here (requests, error replies, reply latency), which also feed `--metrics`.
struct ServiceStatus {
    private let models: ServingModel
    private let installer: ModelInstaller
    /// Counters for `--metrics`; nil when not exposed.
    private let metrics: ServiceMetrics?
    /// The longest identifier the service accepts, announced in health replies.
    private let maxIDBytes: Int
    private let clock = ContinuousClock()
    private let startedAt: ContinuousClock.Instant
    /// Client messages received, well-formed or not.
    private(set) var requests: UInt64 = 0
    private var errors: UInt64 = 0
    private var latency = LatencyWindow()

    init(models: ServingModel, installer: ModelInstaller, metrics: ServiceMetrics?, maxIDBytes: Int = ProtocolLimits.default.maxIDBytes) {
        self.models = models
        self.installer = installer
        self.metrics = metrics
        self.maxIDBytes = maxIDBytes
        startedAt = clock.now
    }

    /// A client message arrived.
    mutating func received() {
        requests += 1
    }

    /// A client message was decoded as a request of this kind ("malformed" when it could not be).
    func decoded(kind: String) {
        metrics?.requestReceived(kind: kind)
    }

    /// A client message was dropped without a reply (it had no routing id to answer).
    mutating func dropped() {
        errors += 1
    }

    /// The broker answered with an error reply of its own.
    mutating func repliedError(_ code: Medley_V1_ErrorCode) {
        errors += 1
        metrics?.errorReplied(code: code)
    }

    /// A reply left for the client `latency` after its request arrived.
    mutating func replied(after latency: Duration) {
        self.latency.record(latency)
        metrics?.replied(after: latency)
    }

    func health(workers: WorkerRegistry, modelSync: WorkerModelSync, logWriteFailure: String?) -> Medley_V1_HealthReply {
        var health = Medley_V1_HealthReply()
        let model = models.model
        health.modelVersion = model?.configuration.modelVersion ?? 0
        health.maxIDBytes = UInt32(clamping: maxIDBytes)
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
        health.uptimeMs = uptimeMs
        if models.model == nil {
            health.status = .notReady
            health.detail = "no model loaded"
        } else if workers.isEmpty {
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
            health.detail = "worker \(workers[lagging.worker]?.name ?? "?") serves model version \(lagging.version), not \(models.version)"
        } else {
            health.status = .serving
        }
        return health
    }

    func stats(workers: WorkerRegistry, eventsLogged: UInt64) -> Medley_V1_StatsReply {
        var stats = Medley_V1_StatsReply()
        stats.requests = requests
        stats.errors = errors
        stats.latency = latency.summary
        stats.modelVersion = models.version
        stats.eventsLogged = eventsLogged
        stats.uptimeMs = uptimeMs
        let updates = installer.status
        stats.modelsInstalled = updates.installed
        stats.modelsRejected = updates.rejected
        stats.lastModelRejection = updates.lastRejection ?? ""
        for worker in workers.routingIDs {
            guard let entry = workers[worker] else { continue }
            var figures = entry.stats
            figures.worker = entry.index
            figures.queueDepth = UInt32(entry.inFlight.count)
            stats.workers.append(figures)
            stats.sessions += figures.sessions
            stats.errors += figures.errors
        }
        return stats
    }

    private var uptimeMs: UInt64 {
        UInt64(startedAt.duration(to: clock.now).components.seconds * 1000)
    }
}
