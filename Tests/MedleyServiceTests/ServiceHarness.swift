import Foundation
import MedleyModel
import MedleyProtocol
import MedleyTestSupport
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService
@testable import MedleySystem

/// A real `medley serve` (event log, broker, workers) on loopback with a temporary log
/// directory, for end-to-end tests.
final class RunningServer: @unchecked Sendable {
    // Sound: the fields are written once in init before the server thread starts reading.
    let server: MedleyServer
    let stop = StopSignal()
    let logDirectory: String
    private(set) var clientEndpoint = ""
    private(set) var workerEndpoint = ""
    private let finished = DispatchSemaphore(value: 0)
    private let failure = ErrorBox()

    init(model: MultitaskModel?, logDirectory: String, workers: Int = 2, remoteWorkers: Bool = false, configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.broker.clientEndpoints = ["tcp://127.0.0.1:*"]
        configuration.broker.workerEndpoints = ["inproc://medley-workers-\(UUID().uuidString)"] + (remoteWorkers ? ["tcp://127.0.0.1:*"] : [])
        configuration.broker.heartbeatIntervalMilliseconds = 100
        // A second of silence before a worker counts as gone: a test machine busy with builds
        // can hold a thread back for a few hundred milliseconds (no test here relies on silence).
        configuration.broker.heartbeatLiveness = 10
        configuration.workerCount = workers
        configuration.logDirectory = logDirectory
        configure(&configuration)
        self.logDirectory = logDirectory
        server = MedleyServer(configuration: configuration, model: model)
        let ready = DispatchSemaphore(value: 0)
        let endpoints = EndpointBox()
        let server = server, stop = stop, finished = finished, failure = failure
        let thread = Thread {
            do {
                try server.run(stop: stop) { client, worker in
                    endpoints.set(client, worker)
                    ready.signal()
                }
            } catch {
                failure.set(error)
                ready.signal()
            }
            finished.signal()
        }
        thread.start()
        #expect(ready.wait(timeout: .now() + 30) == .success, "server did not start")
        if let error = failure.get() { throw error }
        (clientEndpoint, workerEndpoint) = endpoints.get()
    }

    /// Stops the server as SIGTERM would, and waits for it to finish.
    func shutDown() throws {
        stop.trigger()
        #expect(finished.wait(timeout: .now() + 30) == .success, "server did not stop")
        if let error = failure.get() { throw error }
    }

    /// A client that has seen `workers` workers serving, and a raw client beside it (each
    /// socket keeps the context they share).
    func servingClients(workers: Int = 2) throws -> (client: ServiceClient, raw: RawClient) {
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: clientEndpoint)
        try waitUntilServing(client: client, workers: workers)
        return (client, try RawClient(context: context, endpoint: clientEndpoint))
    }

    /// Waits until the service reports `workers` workers and is serving.
    func waitUntilServing(client: ServiceClient, workers: Int) throws {
        let serving = try within(seconds: 6) {
            try client.health().status == .serving && client.stats().workers.count >= workers
        }
        if !serving { Issue.record("the service never reported \(workers) workers serving") }
    }
}

private final class EndpointBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ("", "")
    func set(_ client: String, _ worker: String) { lock.withLock { value = (client, worker) } }
    func get() -> (String, String) { lock.withLock { value } }
}

private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ error: any Error) { lock.withLock { self.error = error } }
    func get() -> (any Error)? { lock.withLock { error } }
}

/// Models and events for the service tests.
enum ServiceFixtures {
    static let domains = ["news", "video", "music"]

    /// A small model with seeded random weights: enough to exercise every path of the service.
    static func model(version: UInt64 = 1, itemsPerDomain: Int = 20, users: [String] = ["known-user"]) throws -> MultitaskModel {
        try MultitaskModel(HotReloadFixtures.contents(version: version, itemsPerDomain: itemsPerDomain, users: users))
    }

    static func event(user: String, item: String, domain: String, type: Medley_V1_EventType = .play, at timestampMs: Int64) -> Medley_V1_SessionEvent {
        var event = Medley_V1_SessionEvent()
        event.userID = user
        event.itemID = item
        event.domain = domain
        event.type = type
        event.timestampMs = timestampMs
        return event
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A new directory, removed when the tests exit.
    static func temporaryDirectory() throws -> String {
        try TestDirectories.make(prefix: "medley-service-tests").path
    }
}

/// A worker on its own thread connected over tcp, as `medley worker` would be.
final class RemoteWorker: Sendable {
    let context: Context
    let stop = StopSignal()
    private let done = DispatchSemaphore(value: 0)

    init(endpoint: String, model: MultitaskModel, name: String = "tcp-worker") throws {
        context = try Context()
        var settings = WorkerConfiguration(brokerEndpoint: endpoint, name: name)
        settings.heartbeatIntervalMilliseconds = 100
        settings.heartbeatLiveness = 10   // as the harness's broker: a second of silence
        let worker = ServingWorker(context: context, models: ServingModel(model), configuration: settings)
        let stop = stop, done = done
        Thread {
            try? worker.run(until: stop.fileDescriptor)
            done.signal()
        }.start()
    }

    /// Asks the worker to leave, waits for it, and terminates its context.
    func leave() throws {
        stop.trigger()
        #expect(done.wait(timeout: .now() + 10) == .success, "the worker did not stop")
        try context.terminate()
    }
}

/// A raw DEALER for sending frames no well-behaved client would.
final class RawClient {
    let socket: Socket

    init(context: Context, endpoint: String) throws {
        socket = try context.socket(.dealer)
        try socket.set(.lingerMilliseconds, 0)
        try socket.set(.receiveTimeoutMilliseconds, 5000)
        try socket.connect(endpoint)
    }

    /// Sends a well-formed request without waiting for its reply.
    func send(_ requestID: UInt64, _ body: Medley_V1_Request.OneOf_Body) throws {
        var request = Medley_V1_Request()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = requestID
        request.body = body
        try socket.send(multipart: [[], try request.serializedBytes()])
    }

    /// The next reply, decoded.
    func receiveReply() throws -> Medley_V1_Reply {
        try Medley_V1_Reply(serializedBytes: socket.receiveMultipart().last ?? [])
    }

    /// Sends frames and returns the reply's body decoded.
    func exchange(_ frames: [[UInt8]]) throws -> Medley_V1_Reply {
        try socket.send(multipart: frames)
        let reply = try socket.receiveMultipart()
        #expect(reply.count == 2 && reply[0].isEmpty, "a reply is [empty][Reply]")
        return try Medley_V1_Reply(serializedBytes: reply.last ?? [])
    }
}

/// Whether `condition` holds within `seconds`, polling every 10 ms. For waits on work done by
/// another thread (a swap, a refusal); generous, because the machine may be busy.
func within(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}
