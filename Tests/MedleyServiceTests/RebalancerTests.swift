import Foundation
import MedleyEventLog
import MedleyModel
import MedleyProtocol
import MedleySystem
import Synchronization
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyModelDistribution
@testable import MedleyService

/// Rebuilding sessions after a pool change reads the log off the broker's poll thread.
@Suite("Rebalancing off the poll thread", .serialized)
struct RebalancerTests {
    /// A replay that never ends (a log far larger than any test could write) keeps the
    /// broker's replay busy for as long as the test runs.
    @Test func theBrokerAnswersHealthAndStopsWhileAReplayIsInProgress() throws {
        let source = EndlessReplaySource()
        let broker = try ReplayingBroker(source: source)
        defer { broker.tearDown() }

        // The worker's READY starts the replay.
        #expect(within { source.recordsRead > 0 }, "the replay never started")
        do {
            let client = try ServiceClient(context: broker.context, endpoint: broker.run.clientEndpoint)
            let health = try client.health()
            #expect(health.status == .serving)
            #expect(source.recordsRead > 0 && !source.exhausted, "the replay is still in progress")
        }
        #expect(broker.stop(), "the broker did not stop during the replay")
    }
}

/// A replay that sends one batch of a user's old events, then waits for the test, then
/// gives one event of the user's current session.
final class PausedReplaySource: SessionReplaySource, Sendable {
    static let user = "waiting"
    let oldSessionStartMs = ServiceFixtures.nowMs - 2 * 60 * 60 * 1000
    let currentSessionStartMs = ServiceFixtures.nowMs - 60 * 1000
    /// Signalled when the source waits for ``release``.
    let paused = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    private let read = Atomic<Int>(0)

    func next() throws -> (userID: String, record: [UInt8])? {
        let sequence = read.add(1, ordering: .relaxed).newValue
        let timestampMs: Int64
        switch sequence {
        case ...512: timestampMs = oldSessionStartMs + Int64(sequence)
        case 513:
            paused.signal()
            release.wait()
            timestampMs = currentSessionStartMs
        default: return nil
        }
        var record = Medley_V1_EventLogRecord()
        record.sequence = UInt64(sequence)
        record.receivedAtMs = timestampMs
        record.event = ServiceFixtures.event(user: Self.user, item: "news-\(sequence % 20 + 1)", domain: "news", at: timestampMs)
        return (Self.user, try record.serializedBytes())
    }
}

/// Records for a few users with rising sequence numbers, without end; after the first
/// thousand, one per millisecond, so that the replay does not take the machine from the
/// tests that run beside it.
final class EndlessReplaySource: SessionReplaySource, Sendable {
    private let read = Atomic<Int>(0)
    var recordsRead: Int { read.load(ordering: .relaxed) }
    let exhausted = false

    func next() throws -> (userID: String, record: [UInt8])? {
        let sequence = read.add(1, ordering: .relaxed).newValue
        if sequence > 1000 { usleep(1000) }
        var record = Medley_V1_EventLogRecord()
        record.sequence = UInt64(sequence)
        record.receivedAtMs = ServiceFixtures.nowMs
        record.event = ServiceFixtures.event(user: "replayed-\(sequence % 7)", item: "music-\(sequence % 20 + 1)", domain: "music", at: ServiceFixtures.nowMs)
        return ("replayed-\(sequence % 7)", try record.serializedBytes())
    }
}

extension RebalancerTests {
    /// The replay sends the worker one batch of 512 old events before it pauses; a request
    /// for the user that arrives then waits for the rest, so that it is answered from the
    /// session the replay rebuilds, not from half of it.
    @Test func aRequestForAUserBeingReplayedWaitsForTheReplay() throws {
        let source = PausedReplaySource()
        let broker = try ReplayingBroker(source: source)
        var released = false
        defer {
            if !released { source.release.signal() }
            broker.tearDown()
        }
        #expect(source.paused.wait(timeout: .now() + 30) == .success, "the replay never paused")

        let raw = try RawClient(context: broker.context, endpoint: broker.run.clientEndpoint)
        defer { raw.socket.close() }
        var recommend = Medley_V1_RecommendRequest()
        recommend.userID = PausedReplaySource.user
        try raw.send(1, .recommend(recommend))
        // The broker reads one connection's requests in order: health's reply coming first
        // shows that the recommend request arrived and waits.
        try raw.send(2, .health(Medley_V1_HealthRequest()))
        let first = try raw.receiveReply()
        #expect(first.requestID == 2, "the request overtook the replay")

        source.release.signal()
        released = true
        let answer = first.requestID == 1 ? first : try raw.receiveReply()
        #expect(answer.requestID == 1)
        #expect(answer.recommend.sessionID == "\(PausedReplaySource.user)@\(source.currentSessionStartMs)",
                "answered from the session the whole replay rebuilt")
    }
}

/// A broker whose replays read `source`, and one worker thread on its in-process endpoint,
/// whose READY starts a replay.
final class ReplayingBroker {
    let context: Context
    let run: BrokerRun
    private let log: EventLogAppender
    private let workerStop = StopSignal()
    private let workerDone = DispatchSemaphore(value: 0)
    private var stopped: Bool?

    init(source: any SessionReplaySource & Sendable) throws {
        context = try Context()
        let logDirectory = try ServiceFixtures.temporaryDirectory()
        log = try EventLogAppender(directory: logDirectory)
        let models = ServingModel(try ServiceFixtures.model())
        run = try BrokerRun(context: context, models: models, log: log, logDirectory: logDirectory, replaySource: { _, _ in source })
        let worker = ServingWorker(context: context, models: models, configuration: WorkerConfiguration(brokerEndpoint: run.workerEndpoint, name: "filled"))
        let workerStop = workerStop, workerDone = workerDone
        Thread {
            try? worker.run(until: workerStop.fileDescriptor)
            workerDone.signal()
        }.start()
    }

    /// Stops the broker; returns whether it stopped.
    func stop() -> Bool {
        if let stopped { return stopped }
        run.stop.trigger()
        let result = run.finished.wait(timeout: .now() + 30) == .success
        stopped = result
        return result
    }

    /// Stops the broker and the worker, as `medley serve` does.
    func tearDown() {
        let brokerStopped = stop()
        // The worker may be blocked sending to the closed broker.
        workerStop.trigger()
        context.shutdown()
        _ = workerDone.wait(timeout: .now() + 30)
        try? log.close()
        // A broker that never stopped still holds its sockets, and terminating would wait for it.
        if brokerStopped { try? context.terminate() }
    }
}

/// A broker running on its own thread, as `medley serve` runs it, on loopback and an
/// in-process worker endpoint.
final class BrokerRun: @unchecked Sendable {
    // Sound: the endpoints are written before `ready` is signalled and only read after.
    let stop = StopSignal()
    let finished = DispatchSemaphore(value: 0)
    private(set) var clientEndpoint = ""
    private(set) var workerEndpoint = ""

    init(context: Context, models: ServingModel, log: EventLogAppender, logDirectory: String, replaySource: @escaping SessionReplaySourceFactory) throws {
        var configuration = BrokerConfiguration()
        configuration.clientEndpoints = ["tcp://127.0.0.1:*"]
        configuration.workerEndpoints = ["inproc://medley-workers-\(UUID().uuidString)"]
        configuration.heartbeatIntervalMilliseconds = 100
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: (any Error)?
        Thread { [self, stop, finished, configuration] in
            defer { finished.signal() }
            let broker: Broker
            do {
                broker = try Broker(
                    context: context, configuration: configuration, models: models, log: log, logDirectory: logDirectory,
                    installer: nil, metrics: nil, replaySource: replaySource, logger: .init(label: "medley.broker"))
                clientEndpoint = try broker.boundClientEndpoint
                workerEndpoint = try broker.boundWorkerEndpoint
            } catch {
                failure = error
                ready.signal()
                return
            }
            ready.signal()
            try? broker.run(until: stop.fileDescriptor)
        }.start()
        #expect(ready.wait(timeout: .now() + 30) == .success, "the broker did not start")
        if let failure { throw failure }
    }
}
