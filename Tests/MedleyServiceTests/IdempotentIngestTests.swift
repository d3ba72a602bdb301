import Foundation
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyEventLog
@testable import MedleyService

@Suite("idempotent ingest", .serialized)
struct IdempotentIngestTests {
    private func events(_ user: String, count: Int) -> [Medley_V1_SessionEvent] {
        (0..<count).map { ServiceFixtures.event(user: user, item: "news-\($0 + 1)", domain: "news", at: 1_000_000 + Int64($0)) }
    }

    /// A server on `logDirectory` with two workers, and a client that has seen it serving.
    private func serving(_ logDirectory: String) throws -> (RunningServer, Context, ServiceClient) {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: logDirectory)
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        return (server, context, client)
    }

    private func loggedCount(_ directory: String) throws -> Int {
        let reader = EventLogReader(directory: directory)
        var count = 0
        while try reader.next() != nil { count += 1 }
        return count
    }

    @Test func aRetryIsAnsweredWithTheFirstAcknowledgementAndStoredOnce() throws {
        let logDirectory = try ServiceFixtures.temporaryDirectory()
        let (server, context, client) = try serving(logDirectory)
        defer { try? server.shutDown() }

        let first = try client.ingest(events("ana", count: 3), idempotencyKey: "batch-1")
        #expect(first.accepted == 3)
        // The acknowledgement was lost, say: the client sends the same request again.
        let retry = try client.ingest(events("ana", count: 3), idempotencyKey: "batch-1")
        #expect(retry == first)
        #expect(try loggedCount(logDirectory) == 3)

        // Two copies sent back to back, before the first is durable, are stored once too.
        let socket = try context.socket(.dealer)
        try socket.connect(server.clientEndpoint)
        for requestID in [UInt64(7), 8] {
            var request = Medley_V1_Request()
            request.protocolVersion = ProtocolVersion.current
            request.requestID = requestID
            request.ingest.events = events("bo", count: 2)
            request.ingest.idempotencyKey = "batch-2"
            try socket.send(multipart: [[], try request.serializedBytes()])
        }
        try socket.set(.receiveTimeoutMilliseconds, 5000)
        let replies = try (0..<2).map { _ in try Medley_V1_Reply(serializedBytes: socket.receiveMultipart().last!) }
        #expect(Set(replies.map(\.requestID)) == [7, 8])
        #expect(replies[0].ingest == replies[1].ingest)
        #expect(replies[0].ingest.accepted == 2)
        #expect(try loggedCount(logDirectory) == 5)

        // Without a key, a repeat is a new request.
        _ = try client.ingest(events("cy", count: 1))
        _ = try client.ingest(events("cy", count: 1))
        #expect(try loggedCount(logDirectory) == 7)
    }

    @Test func aKeyReusedForOtherEventsIsRefused() throws {
        let logDirectory = try ServiceFixtures.temporaryDirectory()
        let (server, _, client) = try serving(logDirectory)
        defer { try? server.shutDown() }

        _ = try client.ingest(events("ana", count: 2), idempotencyKey: "k")
        do {
            _ = try client.ingest(events("ana", count: 3), idempotencyKey: "k")
            Issue.record("a key reused for other events was accepted")
        } catch ServiceClientError.service(let error) {
            #expect(error.code == .conflict)
            #expect(error.message.contains("was used for other events"))
        }
        do {
            _ = try client.ingest(events("ana", count: 1), idempotencyKey: String(repeating: "x", count: 257))
            Issue.record("an over-long key was accepted")
        } catch ServiceClientError.service(let error) {
            #expect(error.code == .invalidArgument)
        }
        #expect(try loggedCount(logDirectory) == 2)
    }

    @Test func aRetryAcrossARestartIsStillRecognised() throws {
        let logDirectory = try ServiceFixtures.temporaryDirectory()
        let first: Medley_V1_IngestAck
        do {
            let (server, _, client) = try serving(logDirectory)
            _ = try client.ingest(events("zed", count: 4))
            first = try client.ingest(events("ana", count: 3), idempotencyKey: "before-restart")
            try server.shutDown()
        }
        let (server, _, client) = try serving(logDirectory)
        defer { try? server.shutDown() }
        let retry = try client.ingest(events("ana", count: 3), idempotencyKey: "before-restart")
        #expect(retry == first)
        #expect(retry.durablePosition.sequence == 7)
        #expect(try loggedCount(logDirectory) == 7)
    }

    @Test func receiptsAgeOutAndStayBounded() {
        var receipts = IngestReceipts(windowMs: 1000, maxKeys: 3)
        let receipt = IngestReceipts.Receipt(fingerprint: [1], ack: Medley_V1_IngestAck(), receivedAtMs: 100)
        receipts.remember("a", receipt, nowMs: 100)
        #expect(receipts.lookup("a", nowMs: 1099) != nil)
        #expect(receipts.lookup("a", nowMs: 1100) == nil, "out of the window")
        for (index, key) in ["b", "c", "d", "e"].enumerated() {
            var later = receipt
            later.receivedAtMs = 200 + Int64(index)
            receipts.remember(key, later, nowMs: 300)
        }
        #expect(receipts.count == 3)
        #expect(receipts.lookup("a", nowMs: 300) == nil && receipts.lookup("b", nowMs: 300) == nil, "the oldest go first")
        #expect(receipts.lookup("e", nowMs: 300) != nil)
        receipts.forget(before: 203)
        #expect(receipts.count == 1)
        #expect(IngestReceipts.fingerprint(events("u", count: 2)) == IngestReceipts.fingerprint(events("u", count: 2)))
        #expect(IngestReceipts.fingerprint(events("u", count: 2)) != IngestReceipts.fingerprint(events("u", count: 3)))
    }
}
