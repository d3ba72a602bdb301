import MedleyProtocol
import SwiftProtobuf
import Testing

/// Every message survives encode → decode unchanged, with every field set.
@Suite struct RoundTripTests {
    private func roundTrip<M: SwiftProtobuf.Message>(_ message: M) throws -> M {
        let bytes: [UInt8] = try message.serializedBytes()
        return try M(serializedBytes: bytes)
    }

    @Test(arguments: Fixtures.requestBodies)
    func requestEnvelope(body: Labeled<Medley_V1_Request.OneOf_Body>) throws {
        let request = Fixtures.request(body.value)
        let frame: [UInt8] = try request.serializedBytes()
        #expect(try Medley_V1_Request(validating: frame) == request)
    }

    @Test(arguments: Fixtures.replyBodies)
    func replyEnvelope(body: Labeled<Medley_V1_Reply.OneOf_Body>) throws {
        let reply = Medley_V1_Reply(requestID: 9, modelVersion: 17, body: body.value)
        #expect(reply.protocolVersion == ProtocolVersion.current)
        let decoded = try Medley_V1_Reply(serializedBytes: reply.serializedFrame())
        #expect(decoded == reply)
        #expect(decoded.body == body.value)
    }

    @Test func sessionEventKeepsOptionalPresence() throws {
        let full = try roundTrip(Fixtures.event)
        #expect(full == Fixtures.event)
        #expect(full.hasSessionID && full.hasWeight)

        var bare = Fixtures.event
        bare.clearSessionID()
        bare.clearWeight()
        let decoded = try roundTrip(bare)
        #expect(!decoded.hasSessionID && !decoded.hasWeight)

        // An explicit 0 weight is a value, not "unset".
        var zeroWeight = bare
        zeroWeight.weight = 0
        #expect(try roundTrip(zeroWeight).hasWeight)
    }

    @Test func standaloneMessages() throws {
        #expect(try roundTrip(Fixtures.ingestRequest) == Fixtures.ingestRequest)
        #expect(try roundTrip(Fixtures.ingestAck) == Fixtures.ingestAck)
        #expect(try roundTrip(Fixtures.eventLogRecord) == Fixtures.eventLogRecord)
        #expect(try roundTrip(Fixtures.recommendRequest) == Fixtures.recommendRequest)
        #expect(try roundTrip(Fixtures.recommendReply) == Fixtures.recommendReply)
        #expect(try roundTrip(Fixtures.latency) == Fixtures.latency)
        #expect(try roundTrip(Fixtures.statsReply) == Fixtures.statsReply)
        #expect(try roundTrip(Fixtures.healthReply) == Fixtures.healthReply)
        #expect(try roundTrip(Fixtures.loadModelRequest) == Fixtures.loadModelRequest)
        #expect(try roundTrip(Fixtures.rollbackRequest) == Fixtures.rollbackRequest)
        #expect(try roundTrip(Fixtures.controlReply) == Fixtures.controlReply)
        #expect(try roundTrip(Fixtures.error) == Fixtures.error)
        #expect(try roundTrip(Fixtures.announcement) == Fixtures.announcement)
        #expect(try roundTrip(Fixtures.snapshotRequest) == Fixtures.snapshotRequest)
        #expect(try roundTrip(Fixtures.snapshotReply) == Fixtures.snapshotReply)

        var notFound = Fixtures.snapshotReply
        notFound.result = .error(Fixtures.error)
        #expect(try roundTrip(notFound) == notFound)
    }

    @Test func optionalScoreAndSignaturePresence() throws {
        var unscored = Fixtures.rankedItem("video:9", "video", 0)
        unscored.clearScore()
        #expect(try !roundTrip(unscored).hasScore)

        var unsigned = Fixtures.announcement
        unsigned.clearSignature()
        #expect(try !roundTrip(unsigned).hasSignature)
    }

    /// Pins the field numbers clients in other languages rely on: a renumbering
    /// changes these bytes.
    @Test func envelopeWireBytesArePinned() throws {
        let request = Fixtures.request(.health(Medley_V1_HealthRequest()), id: 3)
        let bytes: [UInt8] = try request.serializedBytes()
        // field 1 varint 1, field 2 varint 3, field 19 (health) empty message.
        #expect(bytes == [0x08, 0x01, 0x10, 0x03, 0x9A, 0x01, 0x00])

        let reply = Medley_V1_Reply.error(.overloaded, message: "", requestID: 3)
        // field 1 varint 1, field 2 varint 3, field 15 (error) with code 7.
        #expect(try reply.serializedFrame() == [0x08, 0x01, 0x10, 0x03, 0x7A, 0x02, 0x08, 0x07])
    }
}

@Suite("Event type names")
struct EventTypeNameTests {
    @Test func everyKnownTypeHasANameThatMapsBack() {
        let known: [Medley_V1_EventType] = [.view, .click, .play, .complete, .like, .share, .skip, .dislike]
        for type in known {
            let name = type.name
            #expect(name != nil)
            #expect(Medley_V1_EventType(name: name ?? "") == type)
            #expect(Medley_V1_EventType(name: (name ?? "").uppercased()) == type)
        }
        #expect(Set(Medley_V1_EventType.byName.values) == Set(known))
        #expect(Medley_V1_EventType.unspecified.name == nil)
        #expect(Medley_V1_EventType.UNRECOGNIZED(42).name == nil)
        #expect(Medley_V1_EventType(name: "watch") == nil)
    }
}
