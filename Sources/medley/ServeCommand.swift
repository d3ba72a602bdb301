import ArgumentParser
import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleySecurity
import MedleyService
import MedleySystem

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the recommender service: broker, workers, event log and model manager.",
        discussion: """
            Binds a ZeroMQ ROUTER socket for clients (tcp://127.0.0.1:5555 by default), runs a \
            pool of workers that keep users' sessions and score the model, appends accepted \
            events to the durable event log and acknowledges them once they are on disk. \
            SIGTERM or SIGINT stops taking requests, answers those in flight, flushes the log \
            and exits 0.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("bind"), help: "Client endpoint to bind; repeat for several.")
    var clientEndpoints: [String] = ["tcp://127.0.0.1:5555"]

    @Option(name: .customLong("worker-bind"), help: "Also accept `medley worker` processes on this endpoint (tcp://HOST:PORT).")
    var workerEndpoint: String?

    @Option(help: "Worker threads in this process.")
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The model file to serve (a relative path is relative to the working directory).")
    var model: String = "models/default.safetensors"

    @OptionGroup(title: "Scoring") var scoring: ScoringOptions

    @Option(help: "Where control requests find model files (<dir>/<version>.safetensors; relative to the working directory).")
    var modelDir: String = "models"

    @OptionGroup(title: "Model updates (docs/hot-reload.md)") var updates: ModelUpdateOptions

    @Option(help: "The event log's directory (a relative path is relative to the working directory).")
    var logDir: String = "data/log"

    @Option(help: "When acknowledged events are synced: always, never, or interval:MILLISECONDS.")
    var sync: SyncPolicyArgument = SyncPolicyArgument(policy: .always)

    @Option(help: "Delete event-log segments last written more than this many hours ago (default: keep them).")
    var logRetentionHours: Int?

    @Option(help: "Delete the oldest event-log segments while the log is larger than this many MiB (default: no limit).")
    var logRetentionMib: Int?

    @Option(help: "MiB of zeros the event log keeps written ahead of its last record, so that a sync overwrites blocks the file has (protocol/event-log.md); 0 writes none.")
    var logPreallocationMib: Int = EventLogConfiguration().preallocationBytes >> 20

    @Option(help: "Minutes of inactivity that end a session.")
    var sessionGapMinutes: Int = 30

    @Option(help: "Most users whose sessions one worker holds.")
    var maxUsersPerWorker: Int = 100_000

    @Option(help: "Most recommend requests a worker scores in one batch.")
    var maxBatch: Int = 32

    @Option(help: "Under load only: microseconds a batch may wait for more requests (a request reaching an idle worker never waits).")
    var batchDelayMicroseconds: Int = 0

    @Option(help: "Microseconds a worker keeps polling for the next request, without sleeping, after it answered a batch: lower latency for a core per worker (0: sleep at once; BENCHMARKS.md).")
    var busyPollMicroseconds: Int = 0

    @Flag(inversion: .prefixedNo, help: "A worker scoring a request on a large catalogue splits it over the cores of idle workers (for machines whose cores are Medley's alone).")
    var splitRequests: Bool = false

    @OptionGroup(title: "CURVE (docs/deployment.md)") var security: ServeSecurityOptions

    @OptionGroup(title: "Protocol limits (protocol/README.md)") var protocolLimits: ProtocolLimitOptions

    @Option(help: "Serve Prometheus metrics over HTTP at HOST:PORT/metrics, e.g. 127.0.0.1:9464 (names in README.md).")
    var metrics: String?

    func validate() throws {
        guard workers >= 0 else { throw ValidationError("--workers must not be negative") }
        guard workers > 0 || workerEndpoint != nil else { throw ValidationError("with --workers 0, give --worker-bind so that workers can connect") }
        guard sessionGapMinutes > 0 else { throw ValidationError("--session-gap-minutes must be positive") }
        guard (logRetentionHours ?? 1) > 0, (logRetentionMib ?? 1) > 0 else {
            throw ValidationError("--log-retention-hours and --log-retention-mib must be positive")
        }
        guard logPreallocationMib >= 0, logPreallocationMib <= 1024 else {
            throw ValidationError("--log-preallocation-mib must be between 0 and 1024")
        }
        guard (0...1_000_000).contains(busyPollMicroseconds) else {
            throw ValidationError("--busy-poll-microseconds must be between 0 and 1000000")
        }
        guard maxUsersPerWorker > 0, maxBatch > 0, batchDelayMicroseconds >= 0 else {
            throw ValidationError("--max-users-per-worker and --max-batch must be positive, --batch-delay-microseconds not negative")
        }
        if security.curveSecret == nil && !security.insecure {
            for endpoint in clientEndpoints + (workerEndpoint.map { [$0] } ?? []) where !EndpointScope.isLocal(endpoint) {
                throw ValidationError("\(endpoint) is reachable from other machines: give --curve-secret and --allow-clients, or --insecure to serve it unauthenticated")
            }
        }
        guard security.curveServerKey == nil || updates.publicationEndpoint != nil else {
            throw ValidationError("--curve-server-key needs --subscribe")
        }
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("no model file at \(model); train one (see README) or pass --model")
        }
    }

    func run() throws {
        global.bootstrapLogging()
        let logger = Logger(label: "medley.serve")
        let (loaded, loadedBytes) = try loadServingModelFile(model, itemPrecision: scoring.itemPrecision, index: scoring.itemIndex)
        var configuration = ServerConfiguration()
        configuration.broker.clientEndpoints = clientEndpoints
        configuration.broker.workerEndpoints = ["inproc://medley-workers"] + (workerEndpoint.map { [$0] } ?? [])
        configuration.broker.modelDirectory = modelDir
        configuration.broker.protocolLimits = protocolLimits.limits
        configuration.broker.socketMaxMessageBytes = protocolLimits.socketMaxMessageBytes(default: configuration.broker.socketMaxMessageBytes)
        configuration.workerCount = workers
        configuration.splitsRequestsOverIdleWorkers = splitRequests
        configuration.logDirectory = logDir
        configuration.eventLog.syncPolicy = sync.policy
        configuration.eventLog.retention = LogRetention(
            maxAgeMilliseconds: logRetentionHours.map { Int64($0) * 3_600_000 },
            maxBytes: logRetentionMib.map { UInt64($0) << 20 })
        configuration.eventLog.preallocationBytes = logPreallocationMib << 20
        configuration.worker.sessions.sessionGapMilliseconds = Int64(sessionGapMinutes) * 60_000
        configuration.worker.sessions.maxUsers = maxUsersPerWorker
        configuration.worker.maxBatchSize = maxBatch
        configuration.worker.maxBatchDelayMicroseconds = batchDelayMicroseconds
        configuration.worker.busyPollMicroseconds = busyPollMicroseconds
        configuration.modelUpdates = try updates.configuration()
        configuration.metricsAddress = metrics
        configuration.broker.curve = try security.serverSecurity()
        configuration.modelUpdates.subscription?.curve = try curveClientRole(secretFile: security.curveSecret, serverKeyFile: security.curveServerKey)
        if configuration.broker.curve == nil {
            if security.insecure {
                logger.warning("no CURVE keys: clients and workers are neither authenticated nor encrypted (--insecure)")
            } else {
                logger.notice("no CURVE keys: clients are not authenticated, so only endpoints on this machine are bound")
            }
        }
        scoring.apply(to: &configuration.modelUpdates)

        let stop = StopSignal()
        stop.triggerOnTerminationSignals()
        let server = MedleyServer(configuration: configuration, model: loaded, startup: try servingModelPublication(model, bytes: loadedBytes, model: loaded),
                                  logger: logger)
        try server.run(stop: stop) { client, worker in
            logger.notice("ready", metadata: ["clients": "\(client)", "workers": "\(worker)", "model": "\(loaded.configuration.modelVersion)"])
        }
    }
}

/// `--sync always | never | interval:MILLISECONDS`.
struct SyncPolicyArgument: ExpressibleByArgument {
    let policy: EventLogConfiguration.SyncPolicy

    init(policy: EventLogConfiguration.SyncPolicy) {
        self.policy = policy
    }

    init?(argument: String) {
        switch argument {
        case "always": policy = .always
        case "never": policy = .never
        default:
            guard argument.hasPrefix("interval:"), let milliseconds = Int(argument.dropFirst("interval:".count)), milliseconds > 0 else { return nil }
            policy = .interval(milliseconds: milliseconds)
        }
    }

    var defaultValueDescription: String { "always" }
}
