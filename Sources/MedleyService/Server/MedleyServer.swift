import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleySecurity
import MedleySystem
import Synchronization
import ZeroMQ

/// `medley serve`: the event log, the broker and a pool of worker threads, started in order
/// and stopped in reverse order.
public final class MedleyServer: Sendable {
    public let configuration: ServerConfiguration
    public let models: ServingModel
    /// Verifies, warms up and swaps in every model that arrives while the server runs.
    public let installer: ModelInstaller
    let logger: Logger
    private let boundMetrics = Mutex<String?>(nil)

    /// Where the metrics endpoint listens (with the port chosen for port 0), once running.
    public var boundMetricsAddress: String? { boundMetrics.withLock { $0 } }

    /// `startup` is the publication of `model` (its file's bytes and signature, if any): with
    /// it, `medley worker` processes are sent the start-up model as well as every later one.
    public init(configuration: ServerConfiguration, model: MultitaskModel?, startup: ModelPublication? = nil,
                logger: Logger = Logger(label: "medley.serve")) {
        self.configuration = configuration
        self.models = ServingModel(model)
        self.installer = ModelInstaller(
            models: models, configuration: configuration.modelUpdates, modelDirectory: configuration.broker.modelDirectory,
            startup: startup, logger: Logger(label: "medley.models")
        )
        self.logger = logger
    }

    /// Runs until `stop` is triggered, then answers the requests in flight, flushes the
    /// event log and returns. `ready` is called once the sockets are bound, with the client
    /// and worker endpoints actually bound.
    ///
    /// With a metrics address, the metrics endpoint is bound before `ready` and answers scrapes
    /// until the server stops; ``boundMetricsAddress`` then says where.
    public func run(stop: StopSignal, ready: @Sendable (_ clientEndpoint: String, _ workerEndpoint: String) -> Void = { _, _ in }) throws {
        BLASThreads.set(1)
        let services = ServiceGroup(logger: logger)
        // Whatever throws below, everything already started stops, last started first: the
        // workers and the model manager, then the log (flushed), then the ZeroMQ context.
        defer { services.stopAll() }
        let context = try Context()
        services.add("ZeroMQ context", ServiceHandle(stop: { context.shutdown() }, join: { try? context.terminate() }))
        // Bound before the broker's sockets, so that no handshake finds the handler missing.
        if let security = configuration.broker.curve {
            let authenticator = try CurveAuthenticator(context: context, security: security)
            services.add("ZAP handler", ServiceHandle(stop: { context.shutdown() }, join: { authenticator.join() }))
        }
        let log = try EventLogAppender(directory: configuration.logDirectory, configuration: configuration.eventLog)
        services.add("event log", ServiceHandle { [logger] in
            do {
                try log.close()
            } catch {
                logger.error("event log close failed: \(error)")
            }
        })
        let metrics = configuration.metricsAddress == nil ? nil : ServiceMetrics()

        let broker = try Broker(
            context: context, configuration: configuration.broker, models: models,
            log: log, logDirectory: configuration.logDirectory, installer: installer, metrics: metrics
        )
        // Before the context is terminated, which waits for every socket to close.
        defer { broker.close() }
        var workerCount = 0
        let idleCores = configuration.splitsRequestsOverIdleWorkers && configuration.workerCount > 1
            ? IdleWorkerCores(workers: configuration.workerCount) : nil
        if let workerEndpoint = configuration.broker.workerEndpoints.first(where: { $0.hasPrefix("inproc://") }) {
            for index in 0..<configuration.workerCount {
                var settings = configuration.worker
                settings.idleCores = idleCores
                settings.brokerEndpoint = workerEndpoint
                settings.protocolLimits = configuration.broker.protocolLimits
                settings.name = "local-\(index)"
                settings.heartbeatIntervalMilliseconds = configuration.broker.heartbeatIntervalMilliseconds
                settings.heartbeatLiveness = configuration.broker.heartbeatLiveness
                let worker = WorkerThread(ServingWorker(context: context, models: models, configuration: settings, metrics: metrics))
                services.add(settings.name, ServiceHandle(stop: { context.shutdown() }, join: { worker.join() }))
                workerCount += 1
            }
        }
        // Always running: it carries out control requests, off the broker's thread.
        let manager = ModelManager(context: context, installer: installer, configuration: configuration.modelUpdates)
            .start(until: stop.fileDescriptor, controlEndpoint: broker.controlEndpoint)
        services.add("model manager", ServiceHandle(stop: { stop.trigger() }, join: { manager.join() }))
        let startedAt = ContinuousClock.now
        var metricsServer: MetricsHTTPServer?
        if let metrics, let address = configuration.metricsAddress {
            let server = try MetricsHTTPServer(address: address, stopDescriptor: stop.fileDescriptor) { [models, installer] in
                let model = models.model
                return MetricsExposition.render(metrics, log: log.statistics, updates: installer.status, modelVersion: models.version,
                                                int8Lists: model.flatMap { $0.itemPrecision == .int8 ? ($0.configuration.modelVersion, $0.scorer.reducedCounts) : nil },
                                                uptime: startedAt.duration(to: .now))
            }
            services.add("metrics endpoint", ServiceHandle(stop: { stop.trigger() }, join: { server.join() }))
            metricsServer = server
        }
        boundMetrics.withLock { $0 = metricsServer?.boundAddress }
        logger.info("serving", metadata: [
            "clients": "\(configuration.broker.clientEndpoints.joined(separator: ","))",
            "workers": "\(workerCount)", "model": "\(models.version)",
            "itemTable": "\(models.model.map { "\($0.itemPrecision)" } ?? "none")",
            "curve": "\(configuration.broker.curve == nil ? "off" : "on")",
            "metrics": "\(metricsServer.map { "http://\($0.boundAddress)/metrics" } ?? "off")",
        ])
        ready(try broker.boundClientEndpoint, try broker.boundWorkerEndpoint)

        try broker.run(until: stop.fileDescriptor)
        // The broker has answered what was in flight; nothing new reaches the log.
        services.stopAll()
        logger.info("stopped")
    }
}

/// A worker on its own OS thread: it blocks in `zmq_poll`, so it must not occupy a Swift
/// concurrency thread.
final class WorkerThread: Sendable {
    private let thread: OwnedThread

    init(_ worker: ServingWorker) {
        thread = OwnedThread(name: worker.configuration.name) {
            do {
                try worker.run()
            } catch {
                worker.logger.error("worker failed: \(error)")
            }
        }
    }

    func join() {
        thread.join()
    }
}
