import Foundation
import Logging
import MedleySystem
import ZeroMQ

/// The model manager of `medley serve`: on a thread of its own, off the request path, it
/// follows the trainer's publications (``ModelSubscription``) and watches the model directory
/// (``ModelDirectoryWatcher``), and hands every model it finds to the ``ModelInstaller``,
/// which verifies, warms up and swaps. It also carries out the broker's control requests
/// (``ModelControl``), so that no model is verified and warmed on the broker's poll thread.
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
        try run(until: stopDescriptor, control: nil)
    }

    /// As ``run(until:)``, and answers the control requests that arrive on `control`.
    func run(until stopDescriptor: CInt, control: Socket?) throws(ZMQError) {
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
                let controlIndex = try control.map { socket throws(ZMQError) in try poller.register(socket) }
                var publicationIndex: Int?
                var snapshotIndex: Int?
                if let subscription {
                    publicationIndex = try poller.register(subscription.subscriber)
                    if let socket = subscription.snapshotSocket { snapshotIndex = try poller.register(socket) }
                }
                let wake = [nextScan, subscription?.nextDeadline].compactMap { $0 }.min()
                if try poller.poll(timeout: wake.map { max(.zero, clock.now.duration(to: $0)) }) > 0 {
                    if let control, let controlIndex, poller.isReadable(controlIndex) { try answerControl(on: control) }
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

    /// Connects to the broker's in-process control socket.
    func connectControl(_ endpoint: String) throws(ZMQError) -> Socket {
        let socket = try context.socket(.pair)
        try socket.set(.lingerMilliseconds, 0)
        try socket.connect(endpoint)
        return socket
    }

    /// Answers control requests only, until `stopDescriptor` becomes readable: what is left
    /// of the manager after model updates failed, so that control requests are still answered.
    func answerControl(until stopDescriptor: CInt, on socket: Socket) throws(ZMQError) {
        do {
            var poller = Poller()
            let stopIndex = poller.register(fileDescriptor: stopDescriptor)
            let controlIndex = try poller.register(socket)
            while true {
                guard try poller.poll(timeout: nil) > 0 else { continue }
                if poller.isReadable(controlIndex) { try answerControl(on: socket) }
                if poller.isReadable(stopIndex) { return }
            }
        } catch where error.kind == .contextTerminated {
            return
        }
    }

    /// Carries out the control requests waiting on `socket` and sends their outcomes back.
    private func answerControl(on socket: Socket) throws(ZMQError) {
        while let frames = try socket.tryReceiveMultipart() {
            guard let (token, action) = ModelControl.request(frames: frames) else {
                logger.error("dropping a control message that is not a control request")
                continue
            }
            try socket.send(multipart: ModelControl.outcomeFrames(token: token, ModelControl.perform(action, with: installer)))
        }
    }

    /// Runs the manager on a new thread until `stopDescriptor` becomes readable or the context
    /// shuts down; ``ModelManagerThread/join()`` waits for it.
    public func start(until stopDescriptor: CInt, controlEndpoint: String? = nil) -> ModelManagerThread {
        ModelManagerThread(self, stopDescriptor: stopDescriptor, controlEndpoint: controlEndpoint)
    }
}

/// The model manager's OS thread: it blocks in `zmq_poll`, so it must not occupy a Swift
/// concurrency thread.
public final class ModelManagerThread: Sendable {
    private let thread: OwnedThread

    init(_ manager: ModelManager, stopDescriptor: CInt, controlEndpoint: String?) {
        thread = OwnedThread(name: "medley-models") {
            var control: Socket?
            do {
                control = try controlEndpoint.map { endpoint throws(ZMQError) in try manager.connectControl(endpoint) }
                try manager.run(until: stopDescriptor, control: control)
            } catch {
                manager.logger.error("model manager failed; models are no longer updated: \(error)")
                manager.installer.updatesStopped(because: "\(error)")
                if let control { try? manager.answerControl(until: stopDescriptor, on: control) }
            }
            control?.close()
        }
    }

    /// Waits for the manager to return.
    public func join() {
        thread.join()
    }
}
