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
        let context = try Context()
        // Bound before the broker's sockets, so that no handshake finds the handler missing.
        let authenticator = try configuration.broker.curve.map { security throws(ZMQError) in
            try CurveAuthenticator(context: context, security: security)
        }
        let log = try EventLogAppender(directory: configuration.logDirectory, configuration: configuration.eventLog)
        let metrics = configuration.metricsAddress == nil ? nil : ServiceMetrics()

        let broker = try Broker(
            context: context, configuration: configuration.broker, models: models,
            log: log, logDirectory: configuration.logDirectory, installer: installer, metrics: metrics
        )
        let workerEndpoint = configuration.broker.workerEndpoints.first { $0.hasPrefix("inproc://") }
        var workers: [WorkerThread] = []
        if let workerEndpoint {
            for index in 0..<configuration.workerCount {
                var settings = configuration.worker
                settings.brokerEndpoint = workerEndpoint
                settings.name = "local-\(index)"
                settings.heartbeatIntervalMilliseconds = configuration.broker.heartbeatIntervalMilliseconds
                settings.heartbeatLiveness = configuration.broker.heartbeatLiveness
                workers.append(WorkerThread(ServingWorker(context: context, models: models, configuration: settings, metrics: metrics)))
            }
        }
        // Always running: it carries out control requests, off the broker's thread.
        let manager = ModelManager(context: context, installer: installer, configuration: configuration.modelUpdates)
            .start(until: stop.fileDescriptor, controlEndpoint: broker.controlEndpoint)
        let startedAt = ContinuousClock.now
        let metricsServer = try metrics.map { metrics throws in
            try MetricsHTTPServer(address: configuration.metricsAddress!, stopDescriptor: stop.fileDescriptor) { [models, installer] in
                MetricsExposition.render(metrics, log: log.statistics, updates: installer.status, modelVersion: models.version,
                                         uptime: startedAt.duration(to: .now))
            }
        }
        // The metrics thread stops on the stop signal; a broker that fails must not leave it running.
        defer {
            stop.trigger()
            metricsServer?.join()
        }
        boundMetrics.withLock { $0 = metricsServer?.boundAddress }
        logger.info("serving", metadata: [
            "clients": "\(configuration.broker.clientEndpoints.joined(separator: ","))",
            "workers": "\(workers.count)", "model": "\(models.version)",
            "curve": "\(configuration.broker.curve == nil ? "off" : "on")",
            "metrics": "\(metricsServer.map { "http://\($0.boundAddress)/metrics" } ?? "off")",
        ])
        ready(try broker.boundClientEndpoint, try broker.boundWorkerEndpoint)

        try broker.run(until: stop.fileDescriptor)

        // Reverse order: nothing new reaches the log, flush it, then stop the workers.
        do {
            try log.close()
        } catch {
            logger.error("event log close failed: \(error)")
        }
        context.shutdown()
        for worker in workers { worker.join() }
        manager.join()
        authenticator?.join()
        try context.terminate()
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
