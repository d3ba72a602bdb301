import MedleyProtocol

/// Checks the events of an ingest request one by one, so that a batch with some bad events
/// still stores the good ones.
public struct IngestValidator: Sendable {
    /// The domains events may name: the served model's.
    public var domains: Set<String> {
        didSet { domainList = Array(domains) }
    }
    /// The same, searched in order: a model has a few domains, and comparing an event's
    /// domain with each costs less than hashing it.
    private var domainList: [String]
    /// The longest user, item or session id accepted, in UTF-8 bytes (the protocol's one limit).
    public var maxIDBytes: Int = ProtocolLimits.default.maxIDBytes
    /// How far ahead of the service's clock a timestamp may be (clients' clocks drift).
    public var maxFutureMilliseconds: Int64 = 24 * 60 * 60 * 1000

    public init(domains: Set<String>, maxIDBytes: Int = ProtocolLimits.default.maxIDBytes, maxFutureMilliseconds: Int64 = 24 * 60 * 60 * 1000) {
        self.domains = domains
        domainList = Array(domains)
        self.maxIDBytes = maxIDBytes
        self.maxFutureMilliseconds = maxFutureMilliseconds
    }

    /// The events' verdicts: the indexes of the accepted ones and a rejection for each other.
    public func validate(_ events: [Medley_V1_SessionEvent], nowMs: Int64) -> (accepted: [Int], rejections: [Medley_V1_EventRejection]) {
        var accepted: [Int] = []
        var rejections: [Medley_V1_EventRejection] = []
        accepted.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            if let (reason, message) = problem(with: event, nowMs: nowMs) {
                var rejection = Medley_V1_EventRejection()
                rejection.index = UInt32(index)
                rejection.reason = reason
                rejection.message = message
                rejections.append(rejection)
            } else {
                accepted.append(index)
            }
        }
        return (accepted, rejections)
    }

    /// The first thing wrong with an event, or nil.
    public func problem(with event: Medley_V1_SessionEvent, nowMs: Int64) -> (Medley_V1_RejectionReason, String)? {
        if event.userID.isEmpty { return (.missingID, "user_id is empty") }
        if event.itemID.isEmpty { return (.missingID, "item_id is empty") }
        // Each id checked in turn: this runs for every ingested event, so no array of them is made.
        let limits = ProtocolLimits(maxIDBytes: maxIDBytes)
        if let problem = limits.idProblem(field: "user_id", event.userID) { return (.idTooLong, problem) }
        if let problem = limits.idProblem(field: "item_id", event.itemID) { return (.idTooLong, problem) }
        if let problem = limits.idProblem(field: "session_id", event.sessionID) { return (.idTooLong, problem) }
        if !domainList.contains(event.domain) {
            let known = domains.sorted().joined(separator: ", ")
            return (.unknownDomain, "domain \"\(event.domain.prefix(64))\" is not served; use one of: \(known)")
        }
        switch event.type {
        case .unspecified:
            return (.unspecifiedEventType, "type is not set; say what happened (view, click, play, ...)")
        case .UNRECOGNIZED(let number):
            return (.unknownEventType, "event type \(number) is not known to this service")
        default:
            break
        }
        if event.timestampMs <= 0 {
            return (.invalidTimestamp, "timestamp_ms \(event.timestampMs) is not a time after 1970 in milliseconds")
        }
        if event.timestampMs > nowMs + maxFutureMilliseconds {
            return (.invalidTimestamp, "timestamp_ms \(event.timestampMs) is more than \(maxFutureMilliseconds / 3_600_000) h ahead of the service's clock; is it in microseconds?")
        }
        if event.hasWeight && !(event.weight.isFinite && event.weight >= 0) {
            return (.invalidWeight, "weight \(event.weight) must be finite and not negative")
        }
        return nil
    }
}
