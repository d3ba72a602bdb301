import MedleyProtocol
import MedleySystem
import Testing

@testable import MedleyClient

/// The load generator writes its ingest and recommend requests and reads their acknowledgements and
/// recommend replies by hand; all must agree with SwiftProtobuf byte for byte and field for field.
@Suite struct LoadWireTests {
    static let items: [(domain: String, id: String)] = [
        ("news", "n1"), ("video", String(repeating: "v", count: 200)), ("music", "mü-ß"), ("news", "a b/c"),
    ]

    /// What SwiftProtobuf writes for the same request.
    static func expected(requestID: UInt64, events: [(user: UInt64, item: Int)], timestampMs: Int64) throws -> [UInt8] {
        var request = Medley_V1_Request()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = requestID
        request.body = .ingest(.with { ingest in
            ingest.events = events.map { user, item in
                .with {
                    $0.userID = "load-user-\(user)"
                    $0.itemID = items[item].id
                    $0.domain = items[item].domain
                    $0.type = .play
                    $0.timestampMs = timestampMs
                }
            }
        })
        return try request.serializedBytes()
    }

    @Test(arguments: [Int64(0), 1_700_000_000_000, -5])
    func ingestRequestsAreSwiftProtobufsBytes(timestampMs: Int64) throws {
        let writer = LoadRequestWriter(items: Self.items, timestampMs: timestampMs, encodeItemsAhead: true)
        let users: [UInt64] = [0, 9, 10, 99, 100, 12_345, 1 << 40, .max]
        for requestID in [UInt64(0), 1, 300, .max] {
            for count in [0, 1, 10, 200] {
                let events = (0..<count).map { (user: users[$0 % users.count], item: ($0 * 7) % Self.items.count) }
                let written = writer.ingest(requestID: requestID, events: events)
                #expect(written == (try Self.expected(requestID: requestID, events: events, timestampMs: timestampMs)),
                        "request \(requestID), \(count) events")
            }
        }
    }

    /// Recommend requests, their context's items encoded ahead or as they are written, with
    /// and without a context (its first event at the writer's time, each next a minute earlier).
    @Test(arguments: [false, true], [Int64(0), 1_700_000_000_000])
    func recommendRequestsAreSwiftProtobufsBytes(encodeItemsAhead: Bool, timestampMs: Int64) throws {
        let writer = LoadRequestWriter(items: Self.items, timestampMs: timestampMs, contextEvents: 7, encodeItemsAhead: encodeItemsAhead)
        for requestID in [UInt64(0), 1, .max] {
            for (user, k) in [(UInt64(0), UInt32(10)), (12_345, 0), (.max, .max)] {
                for count in [0, 1, 7] {
                    let context = (0..<count).map { ($0 * 3) % Self.items.count }
                    var request = Medley_V1_Request()
                    request.protocolVersion = ProtocolVersion.current
                    request.requestID = requestID
                    request.body = .recommend(.with { recommend in
                        recommend.userID = "load-user-\(user)"
                        recommend.k = k
                        recommend.context = context.enumerated().map { minutesAgo, item in
                            .with {
                                $0.userID = "load-user-\(user)"
                                $0.itemID = Self.items[item].id
                                $0.domain = Self.items[item].domain
                                $0.type = .play
                                $0.timestampMs = timestampMs - Int64(minutesAgo) * 60_000
                            }
                        }
                    })
                    #expect(writer.recommend(requestID: requestID, user: user, k: k, context: context) == (try request.serializedBytes()),
                            "request \(requestID), user \(user), \(count) events")
                }
            }
        }
    }

    @Test func decimalDigitsCountAsTheStandardLibrarySpells() {
        for value in [UInt64(0), 1, 9, 10, 11, 99, 100, 999_999, 1_000_000, .max - 1, .max] {
            #expect(LoadRequestWriter.decimalDigits(value) == "\(value)".count, "\(value)")
        }
    }

    static func acknowledgement(requestID: UInt64, accepted: UInt32, modelVersion: UInt64, position: Medley_V1_LogPosition?) -> Medley_V1_Reply {
        var reply = Medley_V1_Reply()
        reply.protocolVersion = ProtocolVersion.current
        reply.requestID = requestID
        reply.modelVersion = modelVersion
        reply.body = .ingest(.with { ack in
            ack.accepted = accepted
            if let position { ack.durablePosition = position }
        })
        return reply
    }

    @Test func plainAcknowledgementsAreReadAsSwiftProtobufReadsThem() throws {
        let positions: [Medley_V1_LogPosition?] = [nil, .init(), .with { $0.sequence = 1 }, .with { $0.sequence = .max; $0.segment = 3; $0.offset = 1 << 33 }]
        for requestID in [UInt64(0), 1, 1 << 35, .max] {
            for accepted in [UInt32(0), 10, .max] {
                for modelVersion in [UInt64(0), 7] {
                    for position in positions {
                        let reply = Self.acknowledgement(requestID: requestID, accepted: accepted, modelVersion: modelVersion, position: position)
                        let bytes: [UInt8] = try reply.serializedBytes()
                        #expect(IngestAckReader.read(bytes) == .init(requestID: requestID, accepted: accepted))
                        #expect(LoadClient.outcome(of: bytes)?.outcome == .ingested(accepted: accepted, rejected: 0))
                    }
                }
            }
        }
    }

    @Test func otherRepliesAreLeftToSwiftProtobuf() throws {
        var rejected = Self.acknowledgement(requestID: 4, accepted: 2, modelVersion: 1, position: .with { $0.sequence = 9 })
        rejected.ingest.rejections = [.with { $0.index = 1; $0.reason = .unknownDomain; $0.message = "no such domain" }]
        let error = Medley_V1_Reply.error(.invalidArgument, message: "bad", requestID: 5)
        var recommend = Medley_V1_Reply()
        recommend.requestID = 6
        recommend.body = .recommend(.init())
        var unknown = Self.acknowledgement(requestID: 7, accepted: 1, modelVersion: 0, position: nil)
        unknown.unknownFields = try Medley_V1_Reply(serializedBytes: [0xF8, 0x3E, 0x01]).unknownFields  // field 1000
        let cases: [(Medley_V1_Reply, LoadClient.ReplyOutcome)] = [
            (rejected, .ingested(accepted: 2, rejected: 1)), (error, .failed("\(Medley_V1_ErrorCode.invalidArgument)")),
            (recommend, .recommended), (unknown, .ingested(accepted: 1, rejected: 0)),
        ]
        for (reply, outcome) in cases {
            let bytes: [UInt8] = try reply.serializedBytes()
            #expect(IngestAckReader.read(bytes) == nil, "\(reply)")
            #expect(LoadClient.outcome(of: bytes).map { $0.requestID } == reply.requestID)
            #expect(LoadClient.outcome(of: bytes)?.outcome == outcome)
        }
        // A field seen twice: SwiftProtobuf keeps the last, the plain form has each once.
        var twice: [UInt8] = try Self.acknowledgement(requestID: 8, accepted: 1, modelVersion: 0, position: nil).serializedBytes()
        twice += [0x10, 0x09]
        #expect(IngestAckReader.read(twice) == nil)
        #expect(LoadClient.outcome(of: twice)?.requestID == 9)
    }

    /// `bytes` with one byte changed, a tail cut or one byte inserted.
    static func damaged(_ bytes: [UInt8], random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        switch random.next() % 3 {
        case 0: bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
        case 1: bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
        default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: Int(random.next() % UInt64(bytes.count + 1)))
        }
        return bytes
    }

    /// Whatever the hand reader reads from damaged bytes, SwiftProtobuf reads alike.
    @Test func damagedAcknowledgementsAreReadAlikeOrLeft() throws {
        var random = SplitMix64(seed: 11)
        let seeds: [[UInt8]] = try [
            Self.acknowledgement(requestID: 300, accepted: 10, modelVersion: 2, position: .with { $0.sequence = 77; $0.offset = 5 }).serializedBytes(),
            Self.acknowledgement(requestID: .max, accepted: .max, modelVersion: 0, position: nil).serializedBytes(),
        ]
        var readByHand = 0
        for trial in 0..<20_000 {
            let bytes = Self.damaged(seeds[trial % seeds.count], random: &random)
            guard let ack = IngestAckReader.read(bytes) else { continue }
            readByHand += 1
            let reply = try? Medley_V1_Reply(serializedBytes: bytes)
            #expect(reply?.requestID == ack.requestID, "\(bytes)")
            #expect(reply?.ingest.accepted == ack.accepted, "\(bytes)")
            #expect(reply?.ingest.rejections.isEmpty == true, "\(bytes)")
            if case .ingest? = reply?.body {} else { Issue.record("not an acknowledgement for SwiftProtobuf: \(bytes)") }
        }
        #expect(readByHand > 1_000)
    }

    /// A recommend reply as the service writes it: lists per domain, the session list, the
    /// next-domain probabilities, the blended list, strings with 2-byte lengths and non-ASCII.
    static func recommendReply(requestID: UInt64, itemsPerList: Int) -> Medley_V1_Reply {
        var reply = Medley_V1_Reply()
        reply.protocolVersion = ProtocolVersion.current
        reply.requestID = requestID
        reply.modelVersion = 3
        let ranked = (0..<itemsPerList).map { i -> Medley_V1_RankedItem in
            .with {
                $0.itemID = i % 3 == 0 ? String(repeating: "é", count: 100) : "item-\(i)"
                $0.domain = Self.items[i % Self.items.count].domain
                if i % 4 != 1 { $0.score = Float(i) * -0.5 }
            }
        }
        reply.body = .recommend(.with { body in
            body.domains = ["news", "video", "music"].map { domain in .with { $0.domain = domain; $0.items = ranked } }
            body.sessionNext = ranked
            body.nextDomainProbability = ["news": 0.2, "video": 0.5, "music": 0.3]
            body.blended = Array(ranked.reversed())
            body.modelVersion = 3
            body.sessionID = "s-1"
            body.requestTimeMs = 1_700_000_000_000
        })
        return reply
    }

    @Test func plainRecommendRepliesAreReadAsSwiftProtobufReadsThem() throws {
        for requestID in [UInt64(0), 1, 1 << 35, .max] {
            for itemsPerList in [0, 1, 10, 50] {
                var reply = Self.recommendReply(requestID: requestID, itemsPerList: itemsPerList)
                for bare in [false, true] {
                    if bare { reply.recommend = .init() }
                    let bytes: [UInt8] = try reply.serializedBytes()
                    #expect(RecommendReplyReader.requestID(of: bytes) == requestID, "\(itemsPerList) items, bare \(bare)")
                    #expect(LoadClient.outcome(of: bytes)?.outcome == .recommended)
                }
            }
        }
        // Outside the plain form, left to SwiftProtobuf, which still counts them.
        var unknown = Self.recommendReply(requestID: 5, itemsPerList: 3)
        unknown.recommend.blended[0].unknownFields = try Medley_V1_RankedItem(serializedBytes: [0xF8, 0x3E, 0x01]).unknownFields
        var twice: [UInt8] = try Self.recommendReply(requestID: 6, itemsPerList: 2).serializedBytes()
        twice += [0x10, 0x07]
        for (bytes, requestID) in [(try unknown.serializedBytes(), UInt64(5)), (twice, 7)] as [([UInt8], UInt64)] {
            #expect(RecommendReplyReader.requestID(of: bytes) == nil)
            #expect(LoadClient.outcome(of: bytes)?.requestID == requestID)
            #expect(LoadClient.outcome(of: bytes)?.outcome == .recommended)
        }
        // Not recommend replies.
        let error: [UInt8] = try Medley_V1_Reply.error(.invalidArgument, message: "bad", requestID: 8).serializedBytes()
        let ack: [UInt8] = try Self.acknowledgement(requestID: 9, accepted: 1, modelVersion: 0, position: nil).serializedBytes()
        #expect(RecommendReplyReader.requestID(of: error) == nil && RecommendReplyReader.requestID(of: ack) == nil)
    }

    /// Whatever the hand reader reads from damaged bytes, SwiftProtobuf reads alike: a
    /// recommend reply with that request id.
    @Test func damagedRecommendRepliesAreReadAlikeOrLeft() throws {
        var random = SplitMix64(seed: 12)
        let seeds: [[UInt8]] = try [
            Self.recommendReply(requestID: 300, itemsPerList: 4).serializedBytes(),
            Self.recommendReply(requestID: .max, itemsPerList: 1).serializedBytes(),
        ]
        var readByHand = 0
        for trial in 0..<20_000 {
            let bytes = Self.damaged(seeds[trial % seeds.count], random: &random)
            guard let requestID = RecommendReplyReader.requestID(of: bytes) else { continue }
            readByHand += 1
            let reply = try? Medley_V1_Reply(serializedBytes: bytes)
            #expect(reply?.requestID == requestID, "\(bytes)")
            if case .recommend? = reply?.body {} else { Issue.record("not a recommend reply for SwiftProtobuf: \(bytes)") }
        }
        #expect(readByHand > 1_000)
    }
}
