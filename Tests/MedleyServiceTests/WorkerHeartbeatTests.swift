import Foundation
import MedleyModelDistribution
import MedleyProtocol
import MedleySystem
import Testing
import ZeroMQ

@testable import MedleyService

/// A worker working through a long backlog of events (a replay after a restart) must keep
/// sending heartbeats, or the broker declares it silent and replays to it again.
@Suite("Worker heartbeats under a backlog", .serialized)
struct WorkerHeartbeatTests {
    @Test func aWorkerSendsHeartbeatsWhileItAppliesABacklogOfEvents() throws {
        let context = try Context()
        defer { try? context.terminate() }
        let broker = try context.socket(.router)
        defer { broker.close() }
        try broker.set(.lingerMilliseconds, 0)
        try broker.set(.receiveTimeoutMilliseconds, 30_000)
        let endpoint = "inproc://heartbeat-backlog-\(UUID().uuidString)"
        try broker.bind(endpoint)

        var configuration = WorkerConfiguration(brokerEndpoint: endpoint, name: "backlog")
        configuration.heartbeatIntervalMilliseconds = 20
        configuration.heartbeatLiveness = 10_000   // this broker never sends heartbeats itself
        let worker = ServingWorker(context: context, models: ServingModel(), configuration: configuration)
        let stop = StopSignal()
        let thread = OwnedThread(name: "backlog-worker") { try? worker.run(until: stop.fileDescriptor) }
        defer {
            stop.trigger()
            thread.join()
        }

        let ready = try broker.receiveMultipart()
        let routing = ready[0]
        #expect(try WorkerMessage(frames: Array(ready.dropFirst())) == .ready(name: "backlog", modelVersion: nil))

        // 100 messages of 2,000 events each, far more work than one 20 ms heartbeat interval,
        // sent at once; then a request the worker answers at once (it is not a recommend
        // request), so its reply marks the end of the backlog.
        for batch in 0..<100 {
            let records = (0..<2_000).map { i -> [UInt8] in
                var record = Medley_V1_EventLogRecord()
                record.sequence = UInt64(batch * 2_000 + i + 1)
                record.receivedAtMs = 1_000
                record.event = .with {
                    $0.userID = "user-\(i % 500)"
                    $0.itemID = "item-\(i)"
                    $0.domain = "video"
                    $0.type = .view
                    $0.timestampMs = 1_000 + Int64(batch)
                }
                return try! record.serializedBytes()
            }
            try broker.send(multipart: [routing] + WorkerMessage.events(EventRecordPack(records)).frames)
        }
        try broker.send(multipart: [routing] + WorkerMessage.request(ticket: 7, requestID: 1, recommendation: [0xFF]).frames)

        var heartbeats = 0
        while true {
            let frames = try broker.receiveMultipart()
            let message = try WorkerMessage(frames: Array(frames.dropFirst()))
            if case .reply(let ticket, _) = message {
                #expect(ticket == 7)
                break
            }
            if case .heartbeat = message { heartbeats += 1 }
        }
        // Before, the worker read its whole backlog before it looked at the clock again: at
        // most the one heartbeat it may have sent before the backlog arrived.
        #expect(heartbeats >= 3, "heartbeats while the backlog was applied: \(heartbeats)")
    }
}
