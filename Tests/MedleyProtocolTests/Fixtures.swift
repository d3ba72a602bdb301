import Foundation
import MedleyProtocol
import Testing

/// A test argument with a short name, so that test logs show the name rather
/// than the whole message.
struct Labeled<Value: Sendable>: Sendable, CustomTestStringConvertible {
    let label: String
    let value: Value

    var testDescription: String { label }
}

/// One fully populated instance of each message, so that a round trip exercises
/// every field, including the optional ones.
enum Fixtures {
    static var event: Medley_V1_SessionEvent {
        var event = Medley_V1_SessionEvent()
        event.userID = "u-42"
        event.sessionID = "s-7"
        event.itemID = "news:1234"
        event.domain = "news"
        event.type = .complete
        event.timestampMs = 1_764_374_400_000
        event.dwellMs = 93_000
        event.weight = 1.5
        return event
    }

    static var ingestRequest: Medley_V1_IngestRequest {
        var second = event
        second.clearSessionID()
        second.clearWeight()
        second.type = .skip
        var request = Medley_V1_IngestRequest()
        request.events = [event, second]
        return request
    }

    static var ingestAck: Medley_V1_IngestAck {
        var rejection = Medley_V1_EventRejection()
        rejection.index = 1
        rejection.reason = .unknownDomain
        rejection.message = "domain \"podcasts\" is not served; known: news, video, music"
        var position = Medley_V1_LogPosition()
        position.sequence = 9_000_000_001
        position.segment = 12
        position.offset = 4096
        var ack = Medley_V1_IngestAck()
        ack.accepted = 1
        ack.rejections = [rejection]
        ack.durablePosition = position
        return ack
    }

    static var eventLogRecord: Medley_V1_EventLogRecord {
        var record = Medley_V1_EventLogRecord()
        record.sequence = 9_000_000_001
        record.receivedAtMs = 1_764_374_400_123
        record.event = event
        return record
    }

    static var recommendRequest: Medley_V1_RecommendRequest {
        var request = Medley_V1_RecommendRequest()
        request.userID = "u-42"
        request.sessionID = "s-7"
        request.context = [event]
        request.k = 10
        request.domains = ["video", "music"]
        request.includeSeen = true
        request.includeScores = true
        return request
    }

    static func rankedItem(_ id: String, _ domain: String, _ score: Float) -> Medley_V1_RankedItem {
        var item = Medley_V1_RankedItem()
        item.itemID = id
        item.domain = domain
        item.score = score
        return item
    }

    static var recommendReply: Medley_V1_RecommendReply {
        var video = Medley_V1_DomainRanking()
        video.domain = "video"
        video.items = [rankedItem("video:9", "video", 3.25), rankedItem("video:3", "video", -0.5)]
        var music = Medley_V1_DomainRanking()
        music.domain = "music"
        music.items = [rankedItem("music:1", "music", 1.0)]
        var reply = Medley_V1_RecommendReply()
        reply.domains = [video, music]
        reply.sessionNext = [rankedItem("news:77", "news", 2.0)]
        reply.nextDomainProbability = ["news": 0.5, "video": 0.3, "music": 0.2]
        reply.blended = [rankedItem("video:9", "video", 0.9), rankedItem("news:77", "news", 0.8)]
        reply.modelVersion = 17
        reply.sessionID = "s-7"
        return reply
    }

    static var latency: Medley_V1_LatencySummary {
        var latency = Medley_V1_LatencySummary()
        latency.count = 1000
        latency.p50Us = 800
        latency.p90Us = 1500
        latency.p99Us = 4000
        latency.p999Us = 9000
        latency.maxUs = 12000
        return latency
    }

    static var statsReply: Medley_V1_StatsReply {
        var worker = Medley_V1_WorkerStats()
        worker.worker = 1
        worker.requests = 500
        worker.errors = 2
        worker.latency = latency
        worker.sessions = 40
        worker.modelVersion = 17
        worker.queueDepth = 3
        var stats = Medley_V1_StatsReply()
        stats.requests = 1000
        stats.errors = 4
        stats.latency = latency
        stats.sessions = 80
        stats.modelVersion = 17
        stats.eventsLogged = 123_456
        stats.uptimeMs = 3_600_000
        stats.workers = [worker]
        return stats
    }

    static var healthReply: Medley_V1_HealthReply {
        var health = Medley_V1_HealthReply()
        health.status = .degraded
        health.modelVersion = 17
        health.uptimeMs = 3_600_000
        health.detail = "model 18 rejected: checksum mismatch"
        return health
    }

    static var loadModelRequest: Medley_V1_ControlRequest {
        var load = Medley_V1_ControlRequest.LoadModel()
        load.version = 18
        var control = Medley_V1_ControlRequest()
        control.action = .loadModel(load)
        return control
    }

    static var rollbackRequest: Medley_V1_ControlRequest {
        var control = Medley_V1_ControlRequest()
        control.action = .rollbackModel(Medley_V1_ControlRequest.RollbackModel())
        return control
    }

    static var controlReply: Medley_V1_ControlReply {
        var reply = Medley_V1_ControlReply()
        reply.previousVersion = 17
        reply.currentVersion = 18
        return reply
    }

    static var error: Medley_V1_Error {
        var error = Medley_V1_Error()
        error.code = .overloaded
        error.message = "all workers busy"
        error.retryAfterMs = 250
        error.supportedProtocolVersions = [1]
        return error
    }

    static var announcement: Medley_V1_ModelAnnouncement {
        var announcement = Medley_V1_ModelAnnouncement()
        announcement.version = 18
        announcement.sha256 = Data(repeating: 0xAB, count: 32)
        announcement.sizeBytes = 1_048_576
        announcement.dimensions = ["embedding": 64, "items": 3706, "users": 6040]
        announcement.domains = ["news", "video", "music"]
        announcement.architecture = "mlp-shared"
        announcement.signature = Data(repeating: 0x5A, count: 64)
        announcement.createdAtMs = 1_764_374_400_000
        return announcement
    }

    static var snapshotRequest: Medley_V1_SnapshotRequest {
        var request = Medley_V1_SnapshotRequest()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = 5
        return request
    }

    static var snapshotReply: Medley_V1_SnapshotReply {
        var reply = Medley_V1_SnapshotReply()
        reply.protocolVersion = ProtocolVersion.current
        reply.requestID = 5
        reply.result = .announcement(announcement)
        return reply
    }

    static func request(_ body: Medley_V1_Request.OneOf_Body, id: UInt64 = 7) -> Medley_V1_Request {
        var request = Medley_V1_Request()
        request.protocolVersion = ProtocolVersion.current
        request.requestID = id
        request.body = body
        return request
    }

    static var requestBodies: [Labeled<Medley_V1_Request.OneOf_Body>] {
        [
            Labeled(label: "ingest", value: .ingest(ingestRequest)),
            Labeled(label: "recommend", value: .recommend(recommendRequest)),
            Labeled(label: "stats", value: .stats(Medley_V1_StatsRequest())),
            Labeled(label: "health", value: .health(Medley_V1_HealthRequest())),
            Labeled(label: "control.loadModel", value: .control(loadModelRequest)),
            Labeled(label: "control.rollbackModel", value: .control(rollbackRequest)),
        ]
    }

    static var replyBodies: [Labeled<Medley_V1_Reply.OneOf_Body>] {
        [
            Labeled(label: "error", value: .error(error)),
            Labeled(label: "ingest", value: .ingest(ingestAck)),
            Labeled(label: "recommend", value: .recommend(recommendReply)),
            Labeled(label: "stats", value: .stats(statsReply)),
            Labeled(label: "health", value: .health(healthReply)),
            Labeled(label: "control", value: .control(controlReply)),
        ]
    }
}
