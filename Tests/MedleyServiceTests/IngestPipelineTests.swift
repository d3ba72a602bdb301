import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleyTestSupport
import Testing

@testable import MedleyService

/// The broker's ingest pipeline on a real event log: what a completion asks the broker to send.
@Suite struct IngestPipelineTests {
    /// Ingests made durable by the same syncs are forwarded as one step, before any reply, with
    /// every record in log order: one message per worker, not one per ingest.
    @Test func durableIngestsAreForwardedInOneStepBeforeTheirReplies() throws {
        let directory = try TestDirectories.make(prefix: "ingest-pipeline").path
        var logger = Logger(label: "ingest-pipeline-test")
        logger.logLevel = .warning
        let log = try EventLogAppender(directory: directory, logger: logger)
        defer { try? log.close() }
        var pipeline = try IngestPipeline(
            models: ServingModel(try ServiceFixtures.model()), log: log, logDirectory: directory,
            configuration: BrokerConfiguration(), logger: logger)
        let users = ["ann", "bob", "ann", "cid"]
        for (index, user) in users.enumerated() {
            var request = Medley_V1_IngestRequest()
            request.events = (0..<3).map { ServiceFixtures.event(user: "\(user)-\($0 % 2)", item: "news-\($0)", domain: "news", at: 1_700_000_000_000 + Int64($0)) }
            let address = ClientAddress(envelope: [[UInt8(index)], []], requestID: UInt64(index + 1), arrivedAt: .now)
            #expect(pipeline.submit(request, from: address) == nil, "on its way to the log")
        }
        // Every batch synced and its completion posted, then one drain takes them all.
        let deadline = Date().addingTimeInterval(30)
        while log.lastSyncedSequence < 12, Date() < deadline { usleep(1_000) }
        #expect(log.lastSyncedSequence == 12)
        usleep(200_000)
        let steps = pipeline.complete()

        guard case .forward(let records)? = steps.first else {
            Issue.record("the first step is not a forward: \(steps)")
            return
        }
        #expect(records.map(\.sequence) == Array(1...12))
        #expect(records.map(\.userID) == users.flatMap { user in (0..<3).map { "\(user)-\($0 % 2)" } })
        let replies = steps.dropFirst().compactMap { step -> UInt64? in
            if case .reply(let reply, _) = step { reply.requestID } else { nil }
        }
        #expect(replies == [1, 2, 3, 4])
        #expect(steps.count == 1 + 4, "one forward and four replies")
        #expect(pipeline.isIdle && pipeline.eventsLogged == 12)
    }
}
