import Foundation
import Logging
import MedleySystem
import ZeroMQ

/// The model manager of `medley serve`: on a thread of its own, off the request path, it
/// follows the trainer's publications (``ModelSubscription``) and watches the model directory
/// (``ModelDirectoryWatcher``), and hands every model it finds to the ``ModelInstaller``,
/// which verifies, warms up and swaps.
public final class ModelManager: Sendable {
    public let configuration: ModelUpdateConfiguration
    let context: Context
    let installer: ModelInstaller
    let logger: Logger

    public init(context: Context, installer: ModelInstaller, configuration: ModelUpdateConfiguration,
                logger: Logger = Logger(label: "medley.models")) {
        self.context = context
        self.installer = installer
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until `stopDescriptor` becomes readable or the context shuts down. Blocks the
    /// calling thread, which owns the manager's sockets.
    public func run(until stopDescriptor: CInt) throws(ZMQError) {
        let clock = ContinuousClock()
        var watcher = configuration.watchModelDirectory ? installer.modelDirectory.map(ModelDirectoryWatcher.init) : nil
        if configuration.watchModelDirectory && watcher == nil {
            logger.warning("not watching for model files: the server has no model directory")
        }
        let scanInterval = Duration.milliseconds(configuration.watchIntervalMilliseconds)
        var nextScan = watcher.map { _ in clock.now }
        do {
            let subscription = try configuration.subscription.map { endpoints throws(ZMQError) in
                try ModelSubscription(context: context, endpoints: endpoints, configuration: configuration, installer: installer, logger: logger)
            }
            defer { subscription?.close() }
            while true {
                // Rebuilt each time: the snapshot socket is replaced after a time-out.
                var poller = Poller()
                let stopIndex = poller.register(fileDescriptor: stopDescriptor)
                var publicationIndex: Int?
                var snapshotIndex: Int?
                if let subscription {
                    publicationIndex = try poller.register(subscription.subscriber)
                    if let socket = subscription.snapshotSocket { snapshotIndex = try poller.register(socket) }
                }
                let wake = [nextScan, subscription?.nextDeadline].compactMap { $0 }.min()
                if try poller.poll(timeout: wake.map { max(.zero, clock.now.duration(to: $0)) }) > 0 {
                    if poller.isReadable(stopIndex) { return }
                    if let publicationIndex, poller.isReadable(publicationIndex) { try subscription?.receivePublications() }
                    if let snapshotIndex, poller.isReadable(snapshotIndex) { try subscription?.receiveSnapshot() }
                }
                let now = clock.now
                try subscription?.tick(now: now)
                if let scan = nextScan, now >= scan {
                    watcher?.scan(installer: installer, logger: logger)
                    nextScan = clock.now.advanced(by: scanInterval)
                }
            }
        } catch where error.kind == .contextTerminated {
            logger.debug("model manager stopping: context shut down")
        }
    }

    /// Runs the manager on a new thread until `stopDescriptor` becomes readable or the context
    /// shuts down; ``ModelManagerThread/join()`` waits for it.
    public func start(until stopDescriptor: CInt) -> ModelManagerThread {
        ModelManagerThread(self, stopDescriptor: stopDescriptor)
    }
}

/// The model manager's OS thread: it blocks in `zmq_poll`, so it must not occupy a Swift
/// concurrency thread.
public final class ModelManagerThread: Sendable {
    private let thread: OwnedThread

    init(_ manager: ModelManager, stopDescriptor: CInt) {
        thread = OwnedThread(name: "medley-models") {
            do {
                try manager.run(until: stopDescriptor)
            } catch {
                manager.logger.error("model manager failed; models are no longer updated: \(error)")
                manager.installer.updatesStopped(because: "\(error)")
            }
        }
    }

    /// Waits for the manager to return.
    public func join() {
        thread.join()
    }
}
