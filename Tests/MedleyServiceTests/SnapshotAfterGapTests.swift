import Foundation
import Logging
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyModelDistribution

/// A gap in the publications' numbering noticed while an earlier snapshot request is still
/// unanswered: that request's answer may predate the missed publication, so the subscription
/// must ask again once it arrives. The trainer here is the test's own PUB and ROUTER sockets,
/// so the order of the messages is fixed.
@Suite("a snapshot after a gap", .serialized)
struct SnapshotAfterGapTests {
    @Test func aGapNoticedWhileASnapshotIsPendingAsksAgainAfterTheAnswer() throws {
        let context = try Context()
        defer { try? context.terminate() }
        let publications = try context.socket(.publisher)
        defer { publications.close() }
        try publications.set(.lingerMilliseconds, 0)
        try publications.bind("tcp://127.0.0.1:*")
        let snapshots = try context.socket(.router)
        defer { snapshots.close() }
        try snapshots.set(.lingerMilliseconds, 0)
        try snapshots.bind("tcp://127.0.0.1:*")

        let models = ServingModel(try MultitaskModel(try HotReloadFixtures.contents(version: 1)))
        let installer = ModelInstaller(models: models, modelDirectory: nil)
        let subscription = try ModelSubscription(
            context: context,
            endpoints: .init(publicationEndpoint: try publications.lastEndpoint, snapshotEndpoint: try snapshots.lastEndpoint),
            configuration: ModelUpdateConfiguration(), installer: installer, logger: Logger(label: "test"))
        defer { subscription.close() }

        /// The next snapshot request the trainer receives, within 5 s: its envelope and id.
        func nextRequest() throws -> (envelope: [UInt8], requestID: UInt64)? {
            var poller = Poller()
            let index = try poller.register(snapshots)
            guard try poller.poll(timeout: .seconds(5)) > 0, poller.isReadable(index) else { return nil }
            let frames = try snapshots.receiveMultipart()
            let request = try Medley_V1_SnapshotRequest(serializedBytes: frames[2])
            return (frames[0], request.requestID)
        }
        func answer(_ request: (envelope: [UInt8], requestID: UInt64), with publication: ModelPublication?) throws {
            var reply = Medley_V1_SnapshotReply()
            reply.protocolVersion = ProtocolVersion.current
            reply.requestID = request.requestID
            if let publication {
                reply.announcement = publication.announcement
            } else {
                reply.error.code = .notFound
                reply.error.message = "no model has been published yet"
            }
            var frames = [request.envelope, [], try reply.serializedBytes() as [UInt8]]
            if let publication { frames.append(publication.modelBytes) }
            try snapshots.send(multipart: frames)
        }
        func publication(version: UInt64, sequence: UInt64) throws -> ModelPublication {
            var publication = try ModelPublication(contents: try HotReloadFixtures.contents(version: version), signingKey: nil)
            publication.announcement.sequence = sequence
            return publication
        }

        // The request made at start: held unanswered while the publications below arrive.
        let first = try #require(try nextRequest(), "no snapshot request at start")
        // Publication 1 (version 3), sent until the subscription has joined and taken it.
        let three = try publication(version: 3, sequence: 1)
        let deadline = Date().addingTimeInterval(20)
        while models.version != 3 && Date() < deadline {
            try publications.send(multipart: try three.publicationFrames())
            usleep(20_000)
            try subscription.receivePublications()
        }
        try #require(models.version == 3)
        // Publication 3 follows 1: the subscription missed one.
        try publications.send(multipart: try publication(version: 4, sequence: 3).publicationFrames())
        let arrived = Date().addingTimeInterval(5)
        while models.version != 4 && Date() < arrived {
            usleep(10_000)
            try subscription.receivePublications()
        }
        try #require(models.version == 4)
        // The start request is answered as it was asked: before any model existed.
        try answer(first, with: nil)
        var poller = Poller()
        let index = try poller.register(try #require(subscription.snapshotSocket))
        #expect(try poller.poll(timeout: .seconds(5)) > 0 && poller.isReadable(index))
        try subscription.receiveSnapshot()
        // So the subscription asks again, and the answer brings the missed model.
        let second = try #require(try nextRequest(), "the gap's snapshot was never asked for")
        #expect(second.requestID > first.requestID)
        try answer(second, with: try publication(version: 9, sequence: 3))
        let installed = Date().addingTimeInterval(5)
        while models.version != 9 && Date() < installed {
            usleep(10_000)
            try subscription.receiveSnapshot()
        }
        #expect(models.version == 9)
    }
}
