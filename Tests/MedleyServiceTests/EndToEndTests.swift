import Foundation
import MedleyModel
import MedleyProtocol
import Testing
import ZeroMQ

@testable import MedleyClient
@testable import MedleyEventLog
@testable import MedleyService

@Suite("medley serve end to end", .serialized)
struct EndToEndTests {
    @Test func eventsGoInAndRecommendationsComeOut() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(version: 7), logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)

        let now = ServiceFixtures.nowMs
        let events = [
            ServiceFixtures.event(user: "ana", item: "m1", domain: "music", at: now - 3000),
            ServiceFixtures.event(user: "ana", item: "m2", domain: "music", at: now - 2000),
            ServiceFixtures.event(user: "ana", item: "n3", domain: "news", type: .view, at: now - 1000),
        ]
        let ack = try client.ingest(events)
        #expect(ack.accepted == 3)
        #expect(ack.rejections.isEmpty)
        #expect(ack.durablePosition.sequence == 3)

        var request = Medley_V1_RecommendRequest()
        request.userID = "ana"
        request.k = 5
        request.includeScores = true
        let reply = try client.recommend(request)
        #expect(reply.modelVersion == 7)
        #expect(reply.domains.map(\.domain) == ["news", "video", "music"])
        #expect(reply.domains.allSatisfy { $0.items.count == 5 })
        #expect(reply.sessionNext.count == 5)
        #expect(reply.blended.count == 5)
        #expect(reply.sessionID == "ana@\(now - 3000)")
        let probabilities = reply.nextDomainProbability
        #expect(Set(probabilities.keys) == ["news", "video", "music"])
        #expect(abs(probabilities.values.reduce(0, +) - 1) < 1e-4)
        // Seen items are left out unless asked for.
        let recommended = Set(reply.domains.flatMap(\.items).map(\.itemID) + reply.sessionNext.map(\.itemID))
        #expect(recommended.isDisjoint(with: ["m1", "m2", "n3"]))
        for ranking in reply.domains {
            #expect(ranking.items.allSatisfy { $0.domain == ranking.domain && $0.hasScore })
            let scores = ranking.items.map(\.score)
            #expect(scores == scores.sorted(by: >))
        }

        request.domains = ["music"]
        request.includeSeen = true
        request.includeScores = false
        let musicOnly = try client.recommend(request)
        #expect(musicOnly.domains.map(\.domain) == ["music"])
        #expect(musicOnly.domains[0].items.allSatisfy { !$0.hasScore })
    }

    @Test func badEventsAreRejectedAndTheRestStored() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        let now = ServiceFixtures.nowMs
        var weighted = ServiceFixtures.event(user: "u", item: "v1", domain: "video", at: now)
        weighted.weight = .nan
        let events = [
            ServiceFixtures.event(user: "u", item: "n1", domain: "news", at: now),
            ServiceFixtures.event(user: "u", item: "x", domain: "podcasts", at: now),
            ServiceFixtures.event(user: "", item: "n1", domain: "news", at: now),
            ServiceFixtures.event(user: "u", item: "n1", domain: "news", type: .unspecified, at: now),
            ServiceFixtures.event(user: "u", item: "n1", domain: "news", at: now * 1000),
            weighted,
            ServiceFixtures.event(user: "u", item: "m1", domain: "music", at: now),
        ]
        let ack = try client.ingest(events)
        #expect(ack.accepted == 2)
        #expect(ack.rejections.map(\.index) == [1, 2, 3, 4, 5])
        #expect(ack.rejections.map(\.reason) == [.unknownDomain, .missingID, .unspecifiedEventType, .invalidTimestamp, .invalidWeight])
        #expect(ack.rejections[0].message.contains("podcasts"))
        #expect(ack.durablePosition.sequence == 2)
    }

    @Test func requestsQueuedAtShutdownAreAnsweredBeforeTheSocketCloses() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory())
        let context = try Context()
        let raw = try RawClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: try ServiceClient(context: context, endpoint: server.clientEndpoint), workers: 2)
        let count = 400
        // Requests queued at the server's socket when it is told to stop: each must get a
        // reply of some kind (an answer, or UNAVAILABLE).
        for id in 1...count {
            var request = Medley_V1_Request()
            request.protocolVersion = 1
            request.requestID = UInt64(id)
            request.recommend = HotReloadFixtures.recommendRequest(user: "u\(id % 7)")
            try raw.socket.send(multipart: [[], try request.serializedBytes()])
        }
        server.stop.trigger()
        var answered = Set<UInt64>()
        while answered.count < count, let frames = try? raw.socket.receiveMultipart() {
            if let reply = try? Medley_V1_Reply(serializedBytes: frames.last ?? []) {
                if case .error(let error) = reply.body { #expect(error.code == .unavailable) }
                answered.insert(reply.requestID)
            }
        }
        try server.shutDown()
        #expect(answered.count == count, "\(count - answered.count) requests got no reply")
    }

    @Test func badFramesGetErrorRepliesAndTheServerKeepsServing() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let context = try Context()
        let raw = try RawClient(context: context, endpoint: server.clientEndpoint)

        let garbage = try raw.exchange([[], [0xff, 0x13, 0x37, 0x00, 0x42]])
        #expect(garbage.error.code == .malformedFrame)
        #expect(garbage.requestID == 0)

        let noDelimiter = try raw.exchange([Array("hello".utf8)])
        #expect(noDelimiter.error.code == .malformedFrame)

        let twoBodies = try raw.exchange([[], [1], [2]])
        #expect(twoBodies.error.code == .malformedFrame)

        let tooManyFrames = try raw.exchange([[1], [2], [3], [4], [5], [6], [7], [8], [9], [10], [11], [12], [13], [14], [15], [16], [], [1]])
        #expect(tooManyFrames.error.code == .malformedFrame)

        let oversized = try raw.exchange([[], [UInt8](repeating: 0x0a, count: 5 << 20)])
        #expect(oversized.error.code == .messageTooLarge)

        var request = Medley_V1_Request()
        request.protocolVersion = 99
        request.requestID = 5
        request.health = Medley_V1_HealthRequest()
        let newer = try raw.exchange([[], try request.serializedBytes()])
        #expect(newer.error.code == .unsupportedVersion)
        #expect(newer.requestID == 5)

        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        var recommend = Medley_V1_RecommendRequest()
        recommend.userID = "u"
        recommend.domains = ["podcasts"]
        #expect(throws: ServiceClientError.self) { try client.recommend(recommend) }
        do {
            _ = try client.recommend(recommend)
        } catch ServiceClientError.service(let error) {
            #expect(error.code == .unknownDomain)
            #expect(error.message.contains("news"))
        }
        recommend.domains = []
        recommend.k = 100_000
        do {
            _ = try client.recommend(recommend)
            Issue.record("k over the limit was accepted")
        } catch ServiceClientError.service(let error) {
            #expect(error.code == .invalidArgument)
        }

        // Still serving.
        try server.waitUntilServing(client: client, workers: 2)
        recommend.k = 3
        #expect(try client.recommend(recommend).domains.count == 3)
        // Workers report their errors with their heartbeats.
        var stats = try client.stats()
        for _ in 0..<200 where stats.errors < 8 {
            usleep(10_000)
            stats = try client.stats()
        }
        #expect(stats.errors >= 8)
        #expect(stats.requests >= 10)
    }

    /// The broker reads only a recommend request's envelope; the worker decodes the body once,
    /// with the checks the broker made before (nesting, UTF-8), and its refusal names the request.
    @Test func aMalformedRecommendBodyGetsTheSameErrorWithItsRequestID() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let (_, raw) = try server.servingClients()

        /// `bytes` with the first "Z" made a UTF-8 lead byte followed by ASCII.
        func breakingUTF8(_ bytes: [UInt8]) throws -> [UInt8] {
            var bytes = bytes
            bytes[try #require(bytes.firstIndex(of: UInt8(ascii: "Z")))] = 0xC3
            return bytes
        }

        let atTheLimit = try raw.exchange([[], try Self.recommendFrame(20, contextGroups: 13)])
        #expect(atTheLimit.requestID == 20)
        #expect(atTheLimit.recommend.domains.count == 3, "\(atTheLimit)")

        let tooDeep = try raw.exchange([[], try Self.recommendFrame(21, contextGroups: 14)])
        #expect(tooDeep.error.code == .malformedFrame)
        #expect(tooDeep.requestID == 21)
        #expect(tooDeep.error.message.contains("nested too deeply"), "\(tooDeep.error.message)")

        let badItem = try raw.exchange([[], try breakingUTF8(Self.recommendFrame(22))])
        #expect(badItem.error.code == .malformedFrame)
        #expect(badItem.requestID == 22)
        #expect(badItem.error.message.contains("not valid UTF-8"), "\(badItem.error.message)")

        // The user id routes the request: the broker refuses one that is not UTF-8.
        let badUser = try raw.exchange([[], try breakingUTF8(Self.recommendFrame(23, user: "ZZ"))])
        #expect(badUser.error.code == .malformedFrame)
        #expect(badUser.requestID == 23)
        #expect(badUser.error.message.contains("not valid UTF-8"), "\(badUser.error.message)")

        // Still serving.
        #expect(try raw.exchange([[], try Self.recommendFrame(24)]).recommend.domains.count == 3)
    }

    /// Worker threads decode with the broker's limits, not the default ones.
    @Test func workerThreadsCheckRecommendBodiesWithTheBrokersLimits() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.protocolLimits.maxMessageDepth = 5
        }
        defer { try? server.shutDown() }
        let (_, raw) = try server.servingClients()
        #expect(try raw.exchange([[], try Self.recommendFrame(30, contextGroups: 2)]).recommend.domains.count == 3)
        let tooDeep = try raw.exchange([[], try Self.recommendFrame(31, contextGroups: 3)])
        #expect(tooDeep.error.code == .malformedFrame)
        #expect(tooDeep.requestID == 31)
    }

    /// The identifier limit a server is given is the one its ingest checks and its health
    /// reply announces, not the default.
    @Test func ingestAndHealthUseTheServersIdentifierLimit() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory()) {
            $0.broker.protocolLimits.maxIDBytes = 16
        }
        defer { try? server.shutDown() }
        let (client, _) = try server.servingClients()
        #expect(try client.health().maxIDBytes == 16)
        let long = ServiceFixtures.event(user: String(repeating: "u", count: 17), item: "m1", domain: "music", at: ServiceFixtures.nowMs - 1000)
        let fits = ServiceFixtures.event(user: String(repeating: "u", count: 16), item: "m1", domain: "music", at: ServiceFixtures.nowMs - 1000)
        let ack = try client.ingest([long, fits])
        #expect(ack.accepted == 1)
        #expect(ack.rejections.map(\.index) == [0])
    }

    /// A recommend request for `user` whose context event holds `contextGroups` unknown groups
    /// (field 41) nested in each other: Request, RecommendRequest and SessionEvent are three
    /// levels of nesting, each group one more.
    static func recommendFrame(_ requestID: UInt64, user: String = "deep", contextGroups: Int = 0) throws -> [UInt8] {
        var event = ServiceFixtures.event(user: user, item: "ZZ", domain: "music", at: ServiceFixtures.nowMs - 1000)
        let groups = Array(repeating: [UInt8]([0xCB, 0x02]), count: contextGroups).flatMap { $0 }
            + Array(repeating: [UInt8]([0xCC, 0x02]), count: contextGroups).flatMap { $0 }
        event = try Medley_V1_SessionEvent(serializedBytes: try event.serializedBytes() + groups)
        var recommend = Medley_V1_RecommendRequest()
        recommend.userID = user
        recommend.context = [event]
        var request = Medley_V1_Request()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = requestID
        request.recommend = recommend
        return try request.serializedBytes()
    }

    @Test func pipelinedRequestsOfAUserKeepTheirOrder() throws {
        let server = try RunningServer(model: try ServiceFixtures.model(), logDirectory: try ServiceFixtures.temporaryDirectory())
        defer { try? server.shutDown() }
        let (_, raw) = try server.servingClients()
        let now = ServiceFixtures.nowMs

        // Ingest and recommend back to back, without waiting for the acknowledgement.
        var ingest = Medley_V1_Request()
        ingest.protocolVersion = 1
        ingest.requestID = 1
        ingest.ingest.events = (0..<5).map { ServiceFixtures.event(user: "pipelined", item: "v\($0)", domain: "video", at: now + Int64($0)) }
        var recommend = Medley_V1_Request()
        recommend.protocolVersion = 1
        recommend.requestID = 2
        recommend.recommend.userID = "pipelined"
        recommend.recommend.k = 20
        try raw.socket.send(multipart: [[], try ingest.serializedBytes()])
        try raw.socket.send(multipart: [[], try recommend.serializedBytes()])
        var replies: [UInt64: Medley_V1_Reply] = [:]
        for _ in 0..<2 {
            let frames = try raw.socket.receiveMultipart()
            let reply = try Medley_V1_Reply(serializedBytes: frames[1])
            replies[reply.requestID] = reply
        }
        #expect(replies[1]?.ingest.accepted == 5)
        let video = replies[2]?.recommend.domains.first { $0.domain == "video" }
        // The five videos were seen before the request, so none is recommended.
        #expect(video?.items.count == 15)
        let videoIDs = Set(video?.items.map(\.itemID) ?? [])
        #expect(videoIDs.isDisjoint(with: (0..<5).map { "v\($0)" }))
    }

    @Test func aRestartKeepsAcknowledgedEventsAndRebuildsSessions() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        let model = try ServiceFixtures.model()
        let context = try Context()
        let now = ServiceFixtures.nowMs
        var sessionID = ""
        do {
            let server = try RunningServer(model: model, logDirectory: directory)
            let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
            try server.waitUntilServing(client: client, workers: 2)
            for batch in 0..<10 {
                let events = (0..<10).map { index in
                    ServiceFixtures.event(user: "user-\(index)", item: "n\(batch)", domain: "news", at: now - 60_000 + Int64(batch * 100))
                }
                #expect(try client.ingest(events).accepted == 10)
            }
            var request = Medley_V1_RecommendRequest()
            request.userID = "user-3"
            sessionID = try client.recommend(request).sessionID
            try server.shutDown()
        }
        #expect(sessionID == "user-3@\(now - 60_000)")

        let reader = EventLogReader(directory: directory)
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 100)

        let restarted = try RunningServer(model: model, logDirectory: directory, workers: 3)
        defer { try? restarted.shutDown() }
        let client = try ServiceClient(context: context, endpoint: restarted.clientEndpoint)
        try restarted.waitUntilServing(client: client, workers: 3)
        var request = Medley_V1_RecommendRequest()
        request.userID = "user-3"
        request.k = 20
        let reply = try client.recommend(request)
        #expect(reply.sessionID == sessionID)
        let news = reply.domains.first { $0.domain == "news" }
        #expect(news?.items.count == 10, "the ten news items of the rebuilt session are excluded")
        #expect(try within(seconds: 3) { try client.stats().sessions == 10 })
        #expect(try client.ingest([ServiceFixtures.event(user: "user-3", item: "m1", domain: "music", at: now)]).durablePosition.sequence == 101)
    }

    @Test func aRestartGivesEachCappedWorkerItsOwnNewestUsers() throws {
        let directory = try ServiceFixtures.temporaryDirectory()
        let model = try ServiceFixtures.model()
        let context = try Context()
        let now = ServiceFixtures.nowMs
        let users = (0..<60).map { "capped-\($0)" }
        do {
            let server = try RunningServer(model: model, logDirectory: directory)
            let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
            try server.waitUntilServing(client: client, workers: 2)
            for (index, user) in users.enumerated() {
                #expect(try client.ingest([ServiceFixtures.event(user: user, item: "n1", domain: "news", at: now - 60_000 + Int64(index))]).accepted == 1)
            }
            try server.shutDown()
        }
        // Each worker holds 10 users; the first to join is sent the whole log, then loses half.
        let restarted = try RunningServer(model: model, logDirectory: directory, workers: 2) { $0.worker.sessions.maxUsers = 10 }
        defer { try? restarted.shutDown() }
        let client = try ServiceClient(context: context, endpoint: restarted.clientEndpoint)
        try restarted.waitUntilServing(client: client, workers: 2)
        let balanced = try within(seconds: 5) { try client.stats().workers.map(\.sessions) == [10, 10] }
        let perWorker = try client.stats().workers.map(\.sessions)
        #expect(balanced, "sessions per worker: \(perWorker)")
        // The newest users have their sessions, on whichever worker owns them.
        for user in users.suffix(4) {
            var request = Medley_V1_RecommendRequest()
            request.userID = user
            #expect(try client.recommend(request).sessionID == "\(user)@\(now - 60_000 + Int64(users.firstIndex(of: user)!))")
        }
    }

    @Test func aWorkerOverTCPServesUsers() throws {
        let model = try ServiceFixtures.model()
        let server = try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory(), workers: 0, remoteWorkers: true)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        var request = Medley_V1_RecommendRequest()
        request.userID = "remote-user"
        do {
            _ = try client.recommend(request)
            Issue.record("answered with no worker")
        } catch ServiceClientError.service(let error) {
            #expect(error.code == .unavailable)
        }

        let worker = try RemoteWorker(endpoint: server.workerEndpoint, model: model)
        try server.waitUntilServing(client: client, workers: 1)
        #expect(try client.ingest([ServiceFixtures.event(user: "remote-user", item: "m4", domain: "music", at: ServiceFixtures.nowMs)]).accepted == 1)
        let reply = try client.recommend(request)
        #expect(reply.sessionID.hasPrefix("remote-user@"))
        #expect(try within(seconds: 3) { try client.stats().workers.first?.sessions == 1 })

        // A worker that leaves says so, and its users get a clear "unavailable" at once.
        try worker.leave()
        var answered = false
        for _ in 0..<100 where !answered {
            do {
                _ = try client.recommend(request)
            } catch ServiceClientError.service(let error) where error.code == .unavailable {
                answered = true
            }
            usleep(10_000)
        }
        #expect(answered)
    }
}

@Suite("Pool changes", .serialized)
struct PoolChangeTests {
    @Test func usersMovedToAJoiningWorkerKeepTheirSessions() throws {
        let model = try ServiceFixtures.model()
        let server = try RunningServer(model: model, logDirectory: try ServiceFixtures.temporaryDirectory(), workers: 2, remoteWorkers: true)
        defer { try? server.shutDown() }
        let context = try Context()
        let client = try ServiceClient(context: context, endpoint: server.clientEndpoint)
        try server.waitUntilServing(client: client, workers: 2)
        let now = ServiceFixtures.nowMs
        let users = (0..<24).map { "mover-\($0)" }
        for (index, user) in users.enumerated() {
            let events = (0..<3).map { ServiceFixtures.event(user: user, item: "m\(index % 20)", domain: "music", at: now - 10_000 + Int64($0)) }
            #expect(try client.ingest(events).accepted == 3)
        }
        func sessions() throws -> [String: String] {
            var result: [String: String] = [:]
            for user in users {
                var request = Medley_V1_RecommendRequest()
                request.userID = user
                result[user] = try client.recommend(request).sessionID
            }
            return result
        }
        let before = try sessions()
        #expect(before.values.allSatisfy { !$0.isEmpty })

        let worker = try RemoteWorker(endpoint: server.workerEndpoint, model: model, name: "joiner")
        try server.waitUntilServing(client: client, workers: 3)

        // Rendezvous hashing moves about a third of the users to the new worker.
        let after = try sessions()
        #expect(after == before, "every user's session survives the move")
        let stats = try client.stats()
        #expect(try within(seconds: 3) { try client.stats().workers.count == 3 && client.stats().workers.allSatisfy { $0.sessions > 0 } }, "\(stats.workers)")
        #expect(try within(seconds: 3) { try client.stats().sessions == UInt64(users.count) }, "moved users are dropped by their old worker")

        // And back again when the worker leaves.
        try worker.leave()
        #expect(try within(seconds: 3) { try client.stats().workers.count == 2 })
        #expect(try sessions() == before)
    }
}
