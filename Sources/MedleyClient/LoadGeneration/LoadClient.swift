import MedleyProtocol
import MedleySystem
import ZeroMQ

/// One connection of a load run, on its own thread: sends recommend requests by the run's
/// pattern, matches replies by request id and records their latency in its histogram.
struct LoadClient {
    let index: Int
    let configuration: LoadConfiguration
    let window: LoadWindow
    var tally = ClientTally()
    /// Request id → the instant its latency counts from, and whether it is measured.
    private var outstanding: [UInt64: (start: ContinuousClock.Instant, measured: Bool)] = [:]
    private var nextRequestID: UInt64 = 1
    private var random: SplitMix64
    private var receiveTimestampMs: Int64
    /// Writes the requests; `draws` holds an ingest request's (user, item) draws, `contextDraws`
    /// a recommend request's context items.
    private let writer: LoadRequestWriter
    private var draws: [(user: UInt64, item: Int)] = []
    private var contextDraws: [Int] = []

    init(index: Int, configuration: LoadConfiguration, window: LoadWindow) {
        self.index = index
        self.configuration = configuration
        self.window = window
        random = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9)
        receiveTimestampMs = wallClockMilliseconds()
        writer = LoadRequestWriter(items: configuration.items, timestampMs: receiveTimestampMs, contextEvents: configuration.contextEvents,
                                   encodeItemsAhead: configuration.ingestEventsPerRequest > 0)
        draws.reserveCapacity(configuration.ingestEventsPerRequest)
        contextDraws.reserveCapacity(configuration.contextEvents)
    }

    mutating func run(context: Context) throws {
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.set(.lingerMilliseconds, 0)
        try socket.connect(configuration.endpoint)
        var poller = Poller()
        try poller.register(socket)
        let clock = ContinuousClock()
        switch configuration.pattern {
        case .closedLoop(_, let inFlight):
            for _ in 0..<inFlight { try send(on: socket, due: clock.now) }
            while clock.now < window.giveUpAt {
                if clock.now >= window.stopSendingAt && outstanding.isEmpty { break }
                let wait = min(Duration.milliseconds(50), clock.now.duration(to: window.giveUpAt))
                guard try poller.poll(timeout: max(.zero, wait)) > 0 else { continue }
                let answered = try receiveReplies(from: socket)
                if clock.now < window.stopSendingAt {
                    for _ in 0..<answered { try send(on: socket, due: clock.now) }
                }
            }
        case .openLoop(let clients, let rate):
            let interval = Duration.seconds(Double(clients) / rate)
            // Clients start staggered so that their requests interleave evenly.
            var due = clock.now.advanced(by: interval * (Double(index) / Double(clients)))
            while clock.now < window.giveUpAt {
                let sending = due < window.stopSendingAt
                if !sending && outstanding.isEmpty { break }
                let wake = sending ? min(due, window.giveUpAt) : window.giveUpAt
                if try poller.poll(timeout: max(.zero, min(clock.now.duration(to: wake), .milliseconds(50)))) > 0 {
                    _ = try receiveReplies(from: socket)
                }
                while due < window.stopSendingAt && clock.now >= due {
                    try send(on: socket, due: due)
                    due = due.advanced(by: interval)
                }
            }
        }
        tally.unanswered += UInt64(outstanding.values.filter(\.measured).count)
    }

    /// Sends one request whose latency counts from `due`.
    private mutating func send(on socket: Socket, due: ContinuousClock.Instant) throws {
        let bytes: [UInt8]
        if configuration.ingestEventsPerRequest > 0 {
            // Per event the user, then the item, as for a recommend request's context.
            draws.removeAll(keepingCapacity: true)
            for _ in 0..<configuration.ingestEventsPerRequest {
                let user = nextUserNumber()
                draws.append((user, Int(random.next() % UInt64(writer.itemCount))))
            }
            bytes = writer.ingest(requestID: nextRequestID, events: draws)
        } else {
            // The user, then each context event's item.
            let user = nextUserNumber()
            contextDraws.removeAll(keepingCapacity: true)
            if !configuration.items.isEmpty {
                for _ in 0..<configuration.contextEvents { contextDraws.append(Int(random.next() % UInt64(configuration.items.count))) }
            }
            bytes = writer.recommend(requestID: nextRequestID, user: user, k: configuration.k, context: contextDraws)
        }
        let measured = due >= window.measureFrom && due < window.stopSendingAt
        outstanding[nextRequestID] = (due, measured)
        nextRequestID += 1
        if measured { tally.sent += 1 }
        try socket.send(multipart: [[], bytes])
    }

    /// Takes every reply waiting; returns how many outstanding requests they answered.
    private mutating func receiveReplies(from socket: Socket) throws -> Int {
        var answered = 0
        let clock = ContinuousClock()
        while let frames = try socket.tryReceiveMultipart() {
            let now = clock.now
            guard frames.count == 2, frames[0].isEmpty, let (requestID, outcome) = Self.outcome(of: frames[1]),
                  let entry = outstanding.removeValue(forKey: requestID) else { continue }
            answered += 1
            guard entry.measured else { continue }
            switch outcome {
            case .recommended:
                tally.completed += 1
                tally.histogram.record(entry.start.duration(to: now))
            case .ingested(let accepted, let rejected):
                tally.completed += 1
                tally.eventsAccepted += UInt64(accepted)
                tally.histogram.record(entry.start.duration(to: now))
                if rejected > 0 { tally.errors["rejected events", default: 0] += UInt64(rejected) }
            case .failed(let code):
                tally.errors[code, default: 0] += 1
            case .unexpected:
                tally.errors["unexpected reply", default: 0] += 1
            }
        }
        return answered
    }

    enum ReplyOutcome: Equatable {
        case recommended
        case ingested(accepted: UInt32, rejected: Int)
        /// An error reply, by its code's name.
        case failed(String)
        case unexpected
    }

    /// A reply's request id and what it says, or nil when it cannot be read. A plain ingest
    /// acknowledgement or recommend reply, nearly every reply of a run, is read by hand
    /// (``IngestAckReader``, ``RecommendReplyReader``).
    static func outcome(of bytes: [UInt8]) -> (requestID: UInt64, outcome: ReplyOutcome)? {
        if let ack = IngestAckReader.read(bytes) { return (ack.requestID, .ingested(accepted: ack.accepted, rejected: 0)) }
        if let requestID = RecommendReplyReader.requestID(of: bytes) { return (requestID, .recommended) }
        guard let reply = try? Medley_V1_Reply(serializedBytes: bytes) else { return nil }
        switch reply.body {
        case .recommend: return (reply.requestID, .recommended)
        case .ingest(let ack): return (reply.requestID, .ingested(accepted: ack.accepted, rejected: ack.rejections.count))
        case .error(let error): return (reply.requestID, .failed("\(error.code)"))
        default: return (reply.requestID, .unexpected)
        }
    }

    private mutating func nextUserNumber() -> UInt64 {
        random.next() % UInt64(max(1, configuration.users))
    }
}
