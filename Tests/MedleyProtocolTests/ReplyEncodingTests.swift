import Foundation
import SwiftProtobuf
import Testing

@testable import MedleyProtocol

/// Workers write recommend replies and the broker ingest acknowledgements by hand
/// (`Medley_V1_Reply.serializedFrame()`); clients decode them with their protobuf libraries,
/// so they must be SwiftProtobuf's bytes.
@Suite struct ReplyEncodingTests {
    @Test func handWrittenRepliesAreSwiftProtobufsDeterministicBytes() throws {
        var random = SplitMix64(seed: 0x7265_706C_79)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        for index in 0..<2_000 {
            let reply = Self.randomReply(&random, unknownFields: index % 7 == 0)
            let expected: [UInt8] = try reply.serializedBytes(options: options)
            #expect(try reply.serializedFrame() == expected, "reply \(index)")
        }
    }

    @Test func handWrittenAcknowledgementsAreSwiftProtobufsBytes() throws {
        var random = SplitMix64(seed: 0x61_636B)
        for index in 0..<2_000 {
            var reply = Medley_V1_Reply()
            if random.next() % 4 != 0 { reply.protocolVersion = 1 }
            reply.requestID = random.next() % 3 == 0 ? 0 : random.next()
            if random.next() % 5 == 0 { reply.modelVersion = random.next() % 100 }
            var ack = Medley_V1_IngestAck()
            ack.accepted = random.next() % 3 == 0 ? 0 : UInt32(truncatingIfNeeded: random.next() >> (random.next() % 64))
            if random.next() % 4 != 0 {
                ack.durablePosition = .with {
                    $0.sequence = random.next() % 5 == 0 ? 0 : random.next() >> (random.next() % 64)
                    $0.segment = random.next() % 2 == 0 ? 0 : random.next() % 1_000_000
                    $0.offset = random.next() % 3 == 0 ? 0 : random.next() % (1 << 30)
                }
            }
            if index % 7 == 0 {
                ack = try Medley_V1_IngestAck(serializedBytes: (try ack.serializedBytes() as [UInt8]) + [0xF8, 0x01, 0x02])
            }
            reply.ingest = ack
            #expect(try reply.serializedFrame() == reply.serializedBytes(), "reply \(index)")
            #expect(reply.handWrittenFrame() != nil)
        }
    }

    @Test func otherBodiesAreLeftToSwiftProtobuf() throws {
        let error = Medley_V1_Reply.error(.invalidArgument, message: "no", requestID: 9)
        #expect(error.handWrittenFrame() == nil)
        #expect(try error.serializedFrame() == error.serializedBytes())
        var rejected = Medley_V1_Reply()
        rejected.requestID = 4
        rejected.ingest.accepted = 3
        rejected.ingest.rejections = [.with { $0.index = 2; $0.reason = .missingID; $0.message = "user_id is empty" }]
        #expect(rejected.handWrittenFrame() == nil)
        #expect(try rejected.serializedFrame() == rejected.serializedBytes())
    }

    // MARK: - Helpers

    static func randomString(_ random: inout SplitMix64) -> String {
        let pieces = ["", "a", "item-", "é", "🎵", "中", String(repeating: "x", count: 130)]
        return (0..<Int(random.next() % 4)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    static func randomItem(_ random: inout SplitMix64) -> Medley_V1_RankedItem {
        var item = Medley_V1_RankedItem()
        item.itemID = randomString(&random)
        item.domain = ["", "news", "video", "music"][Int(random.next() % 4)]
        if random.next() % 3 != 0 {
            item.score = [Float(0), -0.0, 1.5, -7.25, .infinity, .nan, .leastNonzeroMagnitude][Int(random.next() % 7)]
        }
        return item
    }

    static func randomReply(_ random: inout SplitMix64, unknownFields: Bool) -> Medley_V1_Reply {
        var recommend = Medley_V1_RecommendReply()
        recommend.domains = (0..<Int(random.next() % 4)).map { _ in
            var ranking = Medley_V1_DomainRanking()
            ranking.domain = ["", "news", "video"][Int(random.next() % 3)]
            ranking.items = (0..<Int(random.next() % 12)).map { _ in randomItem(&random) }
            return ranking
        }
        recommend.sessionNext = (0..<Int(random.next() % 12)).map { _ in randomItem(&random) }
        recommend.blended = (0..<Int(random.next() % 12)).map { _ in randomItem(&random) }
        // ASCII names, which SwiftProtobuf's deterministic order and byte order agree on; an
        // empty name and a zero probability are still written.
        for domain in ["", "music", "news", "video", "a-long-domain-name"] where random.next() % 2 == 0 {
            recommend.nextDomainProbability[domain] = [Float(0), 0.25, 1, .nan][Int(random.next() % 4)]
        }
        if random.next() % 2 == 0 { recommend.modelVersion = random.next() >> (random.next() % 64) }
        if random.next() % 2 == 0 { recommend.sessionID = randomString(&random) }
        if random.next() % 2 == 0 { recommend.requestTimeMs = Int64(bitPattern: random.next() >> (random.next() % 64)) }
        var reply = Medley_V1_Reply()
        if random.next() % 4 != 0 { reply.protocolVersion = 1 }
        reply.requestID = random.next() % 3 == 0 ? 0 : random.next()
        if random.next() % 2 == 0 { reply.modelVersion = random.next() % 1000 }
        if unknownFields {
            // Fields from a newer schema at every level, kept by decoding.
            var item = randomItem(&random)
            item = try! Medley_V1_RankedItem(serializedBytes: (try! item.serializedBytes() as [UInt8]) + [0xF8, 0x01, 0x05])
            recommend.blended.append(item)
            recommend = try! Medley_V1_RecommendReply(serializedBytes: (try! recommend.serializedBytes() as [UInt8]) + [0xF8, 0x01, 0x06])
        }
        reply.recommend = recommend
        if unknownFields {
            reply = try! Medley_V1_Reply(serializedBytes: (try! reply.serializedBytes() as [UInt8]) + [0xF8, 0x01, 0x07])
        }
        return reply
    }
}
