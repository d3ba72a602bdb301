import Logging

/// A part of a process that runs on threads of its own once started: the event log's
/// thread, the ZAP handler, a worker, the model manager, the metrics endpoint.
package protocol Service: Sendable {
    /// Asks the service to stop. Returns at once; safe to call more than once.
    func stop()
    /// Waits until the service's threads have ended; called once, after ``stop()``.
    func join()
}

/// A service made of two closures, for parts whose stop and join are calls on other types.
package struct ServiceHandle: Service {
    private let stopBody: @Sendable () -> Void
    private let joinBody: @Sendable () -> Void

    package init(stop: @escaping @Sendable () -> Void = {}, join: @escaping @Sendable () -> Void) {
        stopBody = stop
        joinBody = join
    }

    package func stop() { stopBody() }
    package func join() { joinBody() }
}

/// The services of a process, started in order and stopped in reverse: each one is stopped
/// and joined before the one started ahead of it, so nothing outlives what it uses.
///
/// Stop the group under `defer` right after making it: a start-up step or the foreground
/// loop that throws then still stops everything already running, in the right order.
package final class ServiceGroup {
    private var services: [(name: String, service: any Service)] = []
    private let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    /// Adds a started service; it will be stopped before every service added earlier.
    @discardableResult
    package func add<S: Service>(_ name: String, _ service: S) -> S {
        services.append((name, service))
        return service
    }

    /// Stops and joins every service, last added first. Calling it again does nothing.
    package func stopAll() {
        while let (name, service) = services.popLast() {
            logger.debug("stopping \(name)")
            service.stop()
            service.join()
        }
    }
}
