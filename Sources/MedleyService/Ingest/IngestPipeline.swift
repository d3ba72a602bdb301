import Foundation
import Logging
import MedleyEventLog
import MedleyModel
import MedleyModelDistribution
import MedleyProtocol
import MedleySystem

/// The way of an ingest request through `medley serve`, from the broker's poll thread:
/// validation against the served model's domains, idempotency keys (receipts of answered
/// ingests, and retries of ingests still on their way to disk), submission to the event log,
/// completion once the events are durable, per-user ordering of the requests that must not
/// overtake them, the log's failure state, and the records to forward to the users' workers.
///
/// It owns no socket: ``submit(_:from:)`` and ``complete()`` return what the broker is to
/// send, in the order it is to send it.
struct IngestPipeline {
    /// One logged event as the workers take it.
    struct LoggedRecord {
        let userID: String
        let sequence: UInt64
        /// The records of its ingest as the log wrote them, and which of them it is.
        let written: WrittenRecords
        let index: Int

        /// The `EventLogRecord` protobuf.
        var bytes: ArraySlice<UInt8> { written[index] }
    }

    /// What the broker does with the outcome of a completion, in order.
    enum Step {
        /// Logged records for the workers that own their users, in log order.
        case forward([LoggedRecord])
        case reply(Medley_V1_Reply, to: ClientAddress)
        /// A request that waited for an ingest of its user and may go to its worker now.
        case release(HeldRequest)
    }

    private struct PendingIngest {
        let client: ClientAddress
        let events: [Medley_V1_SessionEvent]
        let rejections: [Medley_V1_EventRejection]
        let receivedAtMs: Int64
        /// The idempotency key and the request's fingerprint, when the client gave a key.
        let idempotency: (key: String, fingerprint: [UInt8])?
        /// Retries of this request that arrived before it was durable: answered with it.
        var retries: [ClientAddress] = []
    }

    private let models: ServingModel
    private let log: EventLogAppender
    private let limits: ProtocolLimits
    private let logger: Logger
    /// Wakes the broker's poll loop when batches are durable; poll ``fileDescriptor``.
    private let mailbox: EventLogCompletionMailbox<UInt64>
    private var ordering = UserOrdering<HeldRequest>()
    private var pending: [UInt64: PendingIngest] = [:]
    /// Idempotency keys of the ingests in `pending`, to their tokens.
    private var pendingKeys: [String: UInt64] = [:]
    /// How ingests with idempotency keys were answered (protocol/README.md, "Retrying an ingest").
    private var receipts: IngestReceipts
    private var nextToken: UInt64 = 1
    private var logFailureLine = RepeatedLogLine()
    /// The validator of the served model's domains, made again when a swap changes them.
    private var validator: (domains: [String], validator: IngestValidator)?

    /// Why the latest batch could not be stored, until one is stored again (health is DEGRADED).
    private(set) var logWriteFailure: String?
    /// Events acknowledged durable since start.
    private(set) var eventsLogged: UInt64 = 0

    /// Rebuilds the idempotency receipts from the log in `logDirectory`.
    init(models: ServingModel, log: EventLogAppender, logDirectory: String, configuration: BrokerConfiguration, logger: Logger) throws {
        self.models = models
        self.log = log
        self.limits = configuration.protocolLimits
        self.logger = logger
        receipts = try IngestReceipts.rebuilt(
            fromLogIn: logDirectory, windowMs: configuration.idempotencyWindowMilliseconds,
            maxKeys: configuration.maxIdempotencyKeys, nowMs: wallClockMilliseconds())
        mailbox = try EventLogCompletionMailbox<UInt64>()
    }

    /// Readable when ``complete()`` has work.
    var fileDescriptor: CInt { mailbox.fileDescriptor }

    /// Ingests on their way to disk.
    var pendingCount: Int { pending.count }

    /// Whether no ingest is on its way to disk and no request waits for one.
    var isIdle: Bool { pending.isEmpty && ordering.isIdle }

    /// Takes a recommend request: returns it if it may go to its worker now, or holds it until
    /// the ingests of its user before it are durable (then ``complete()`` releases it).
    mutating func admit(_ request: HeldRequest) -> HeldRequest? {
        guard ordering.mustHold(request.userID) else { return request }
        ordering.hold(request, for: request.userID)
        return nil
    }

    /// Takes an ingest request: returns its reply when it is answered at once (refused, all
    /// events rejected, or a retry of an answered request), or nil when it is on its way to
    /// the log (or waits for an earlier request with its key that is).
    mutating func submit(_ ingest: Medley_V1_IngestRequest, from client: ClientAddress) -> Medley_V1_Reply? {
        let requestID = client.requestID
        guard let model = models.model else {
            var reply = Medley_V1_Reply.error(.unavailable, message: "no model is loaded, so the service cannot check event domains yet; retry shortly", requestID: requestID)
            reply.error.retryAfterMs = 1000
            return reply
        }
        let nowMs = wallClockMilliseconds()
        var idempotency: (key: String, fingerprint: [UInt8])?
        if !ingest.idempotencyKey.isEmpty {
            let key = ingest.idempotencyKey
            guard key.utf8.count <= limits.maxIDBytes else {
                return .error(.invalidArgument, message: "idempotency_key is \(key.utf8.count) bytes; at most \(limits.maxIDBytes), as for every identifier", requestID: requestID)
            }
            let fingerprint = IngestReceipts.fingerprint(ingest.events)
            // The earlier request with this key: answered (a receipt) or still on its way to disk.
            let done = receipts.lookup(key, nowMs: nowMs)
            let earlierToken = pendingKeys[key]
            if let earlier = done?.fingerprint ?? earlierToken.flatMap({ pending[$0]?.idempotency?.fingerprint }), earlier != fingerprint {
                return .error(.conflict, message: "idempotency_key \"\(key)\" was used for other events; use a new key for a new request", requestID: requestID)
            }
            if let done { return Medley_V1_Reply(requestID: requestID, body: .ingest(done.ack)) }
            if let earlierToken {
                pending[earlierToken]?.retries.append(client)
                return nil
            }
            idempotency = (key, fingerprint)
        }
        let (accepted, rejections) = validator(for: model).validate(ingest.events, nowMs: nowMs)
        guard !accepted.isEmpty else {
            var ack = Medley_V1_IngestAck()
            ack.rejections = rejections
            // Nothing is stored, so the receipt lives in memory only: a retry is refused alike.
            if let idempotency {
                receipts.remember(idempotency.key, .init(fingerprint: idempotency.fingerprint, ack: ack, receivedAtMs: nowMs), nowMs: nowMs)
            }
            return Medley_V1_Reply(requestID: requestID, body: .ingest(ack))
        }
        // Every event accepted (the usual case): the request's array itself, not a copy.
        let events = rejections.isEmpty ? ingest.events : accepted.map { ingest.events[$0] }
        let token = nextToken
        nextToken += 1
        pending[token] = PendingIngest(
            client: client, events: events, rejections: rejections, receivedAtMs: nowMs, idempotency: idempotency
        )
        ordering.ingestStarted(userIDs: events.lazy.map(\.userID), ingest: token)
        let receipt = idempotency.map { idempotency in
            Medley_V1_IngestReceipt.with {
                $0.idempotencyKey = idempotency.key
                $0.requestSha256 = Data(idempotency.fingerprint)
                $0.ack.accepted = UInt32(events.count)
                $0.ack.rejections = rejections
            }
        }
        if let idempotency { pendingKeys[idempotency.key] = token }
        log.submit(EventLogBatch(events: events, receivedAtMs: nowMs, receipt: receipt), token: token, to: mailbox)
        return nil
    }

    /// The validator for `model`'s domains: the one of the last request unless they changed.
    private mutating func validator(for model: MultitaskModel) -> IngestValidator {
        let domains = model.configuration.domains
        if let validator, validator.domains == domains { return validator.validator }
        let made = IngestValidator(domains: Set(domains), maxIDBytes: limits.maxIDBytes)
        validator = (domains, made)
        return made
    }

    /// Acknowledges the ingests whose events are durable (or refuses those whose batch failed),
    /// and says what to forward and which held requests to release. Completions arrive in
    /// submission order. The records of all of them come first, in log order, as one forward
    /// step (one message per worker however many ingests one sync made durable); then each
    /// ingest's replies and releases.
    mutating func complete() -> [Step] {
        var forwarded: [LoggedRecord] = []
        var steps: [Step] = []
        for completion in mailbox.drain() {
            guard let ingest = pending.removeValue(forKey: completion.token) else { continue }
            if let key = ingest.idempotency?.key { pendingKeys[key] = nil }
            let answered = [ingest.client] + ingest.retries
            switch completion.result {
            case .success(let positions):
                if let failure = logWriteFailure {
                    logger.notice("the event log is writable again", metadata: ["after": "\(failure)"])
                    logWriteFailure = nil
                    logFailureLine.reset()
                }
                appendRecords(of: ingest, at: positions, written: completion.records, to: &forwarded)
                var ack = Medley_V1_IngestAck()
                ack.accepted = UInt32(ingest.events.count)
                ack.rejections = ingest.rejections
                if let last = positions.last { ack.durablePosition = last }
                eventsLogged += UInt64(ingest.events.count)
                if let idempotency = ingest.idempotency {
                    receipts.remember(idempotency.key, .init(fingerprint: idempotency.fingerprint, ack: ack, receivedAtMs: ingest.receivedAtMs),
                                      nowMs: wallClockMilliseconds())
                }
                for client in answered {
                    steps.append(.reply(Medley_V1_Reply(requestID: client.requestID, body: .ingest(ack)), to: client))
                }
            case .failure(let error):
                // Until a batch is stored again, health says so; the line is logged once per interval.
                logWriteFailure = "\(error)"
                if let notLogged = logFailureLine.admit() {
                    logger.error("event log write failed; ingests are refused", metadata: ["error": "\(error)", "failures_not_logged": "\(notLogged)"])
                }
                for client in answered {
                    var reply = Medley_V1_Reply.error(.unavailable, message: "the event log could not store the batch (\(error)); none of its events was stored", requestID: client.requestID)
                    reply.error.retryAfterMs = 1000
                    steps.append(.reply(reply, to: client))
                }
            }
            for held in ordering.ingestFinished(completion.token) { steps.append(.release(held)) }
        }
        return forwarded.isEmpty ? steps : [.forward(forwarded)] + steps
    }

    /// The ingest's events as the records the log wrote, in log order: the log's own bytes,
    /// not an encoding of their own.
    private func appendRecords(of ingest: PendingIngest, at positions: [Medley_V1_LogPosition], written: WrittenRecords,
                               to records: inout [LoggedRecord]) {
        for (index, (event, position)) in zip(ingest.events, positions).enumerated() where index < written.count {
            records.append(LoggedRecord(userID: event.userID, sequence: position.sequence, written: written, index: index))
        }
    }
}
