import Foundation
import MedleyProtocol
import MedleySystem
import ZeroMQ

/// How a load run offers its requests.
public enum LoadPattern: Sendable, Equatable {
    /// Each of `clients` connections keeps `inFlight` requests outstanding: a new request goes
    /// out as soon as a reply comes back. Measures the service's peak throughput.
    case closedLoop(clients: Int, inFlight: Int)
    /// Requests go out at a fixed total rate, spread over `clients` connections, whatever the
    /// replies do, so queueing shows in the latencies. Latency is counted from the time a
    /// request was due, not from when it left (no coordinated omission).
    case openLoop(clients: Int, requestsPerSecond: Double)

    var clients: Int {
        switch self {
        case .closedLoop(let clients, _), .openLoop(let clients, _): clients
        }
    }
}

/// Settings of a load run against any server speaking the request protocol.
public struct LoadConfiguration: Sendable {
    public var endpoint: String
    public var pattern: LoadPattern
    /// Seconds measured, after the warm-up.
    public var seconds: Double = 10
    /// Seconds of traffic before measuring; their replies are not counted.
    public var warmUpSeconds: Double = 1
    /// Distinct user ids the requests cycle through (`load-user-N`).
    public var users: Int = 1000
    /// Items per list (`RecommendRequest.k`).
    public var k: UInt32 = 10
    /// Context events per request, drawn from `items`.
    public var contextEvents: Int = 5
    /// Items (domain, id) the context events name; empty: requests carry no context.
    public var items: [(domain: String, id: String)] = []
    /// How long the run waits for the replies still outstanding at its end.
    public var drainSeconds: Double = 5
    /// The seed of the request mix.
    public var seed: UInt64 = 7
    /// 0: recommend requests. More: ingest requests of this many events each (on `items`,
    /// for random users), acknowledged once durable.
    public var ingestEventsPerRequest: Int = 0

    public init(endpoint: String, pattern: LoadPattern) {
        self.endpoint = endpoint
        self.pattern = pattern
    }
}

/// What a load run measured; encodes as the JSON `medley bench load` prints.
public struct LoadReport: Sendable, Codable {
    public struct Latency: Sendable, Codable {
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var p999Ms: Double
        public var maxMs: Double
        public var meanMs: Double
    }

    public var endpoint: String
    public var mode: String
    public var clients: Int
    public var inFlight: Int?
    public var offeredRequestsPerSecond: Double?
    public var seconds: Double
    /// Requests sent in the measured window.
    public var sent: UInt64
    /// "recommend" or "ingest".
    public var requests: String = "recommend"
    /// Of those, answered with a recommend reply or an ingest acknowledgement.
    public var completed: UInt64
    /// Of those, answered with an error reply (by error code name).
    public var errors: [String: UInt64]
    /// Of those, not answered by the end of the drain time.
    public var unanswered: UInt64
    /// Completed requests per second of the measured window.
    public var throughput: Double
    /// Ingest runs: events acknowledged durable per second of the measured window.
    public var eventsPerSecond: Double?
    /// Of completed requests, from send (closed loop) or due time (open loop) to reply.
    public var latency: Latency
    public var conditions: [String: String]
}

/// Generates recommend load over the client protocol: one DEALER socket and one thread per
/// client, replies matched by request id.
public enum LoadGenerator {
    public static func run(_ configuration: LoadConfiguration) throws -> LoadReport {
        precondition(configuration.pattern.clients > 0 && configuration.seconds > 0, "a load run needs clients and time")
        let context = try Context()
        defer { context.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        let window = LoadWindow(
            measureFrom: start.advanced(by: .seconds(configuration.warmUpSeconds)),
            stopSendingAt: start.advanced(by: .seconds(configuration.warmUpSeconds + configuration.seconds)),
            giveUpAt: start.advanced(by: .seconds(configuration.warmUpSeconds + configuration.seconds + configuration.drainSeconds))
        )
        let clientCount = configuration.pattern.clients
        let results = ClientResults(count: clientCount)
        let threads = (0..<clientCount).map { index in
            OwnedThread(name: "load-client-\(index)") {
                var client = LoadClient(index: index, configuration: configuration, window: window)
                do {
                    try client.run(context: context)
                } catch {
                    client.tally.failure = "\(error)"
                }
                results.store(client.tally, at: index)
            }
        }
        for thread in threads { thread.join() }
        let tallies = results.all()
        if let failure = tallies.compactMap(\.failure).first { throw LoadGenerationError.clientFailed(failure) }
        var total = ClientTally()
        for tally in tallies { total.merge(tally) }
        return total.report(configuration: configuration)
    }
}

public enum LoadGenerationError: Error, CustomStringConvertible {
    case clientFailed(String)

    public var description: String {
        switch self {
        case .clientFailed(let detail): "a load client failed: \(detail)"
        }
    }
}

/// The phases of a run, shared by every client.
struct LoadWindow: Sendable {
    let measureFrom: ContinuousClock.Instant
    let stopSendingAt: ContinuousClock.Instant
    let giveUpAt: ContinuousClock.Instant
}

/// What one client counted.
struct ClientTally: Sendable {
    var histogram = LatencyHistogram()
    var sent: UInt64 = 0
    var completed: UInt64 = 0
    var errors: [String: UInt64] = [:]
    var unanswered: UInt64 = 0
    var eventsAccepted: UInt64 = 0
    var failure: String?

    mutating func merge(_ other: ClientTally) {
        histogram.merge(other.histogram)
        sent += other.sent
        completed += other.completed
        errors.merge(other.errors, uniquingKeysWith: +)
        unanswered += other.unanswered
        eventsAccepted += other.eventsAccepted
    }

    func report(configuration c: LoadConfiguration) -> LoadReport {
        func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
        let h = histogram
        var report = LoadReport(
            endpoint: c.endpoint, mode: "", clients: c.pattern.clients, seconds: c.seconds,
            sent: sent, completed: completed, errors: errors, unanswered: unanswered,
            throughput: Double(completed) / c.seconds,
            latency: .init(p50Ms: ms(h.value(atQuantile: 0.5)), p90Ms: ms(h.value(atQuantile: 0.9)),
                           p99Ms: ms(h.value(atQuantile: 0.99)), p999Ms: ms(h.value(atQuantile: 0.999)),
                           maxMs: ms(h.maximum), meanMs: h.mean / 1e6),
            conditions: MachineConditions.current()
        )
        if c.ingestEventsPerRequest > 0 {
            report.requests = "ingest"
            report.eventsPerSecond = Double(eventsAccepted) / c.seconds
        }
        switch c.pattern {
        case .closedLoop(_, let inFlight):
            report.mode = "closed"
            report.inFlight = inFlight
        case .openLoop(_, let rate):
            report.mode = "open"
            report.offeredRequestsPerSecond = rate
        }
        return report
    }
}

/// One slot per client thread, filled once when the thread ends.
final class ClientResults: @unchecked Sendable {
    // Guarded by `lock`; each slot written once by its own thread, read after all have ended.
    private var tallies: [ClientTally]
    private let lock = NSLock()

    init(count: Int) { tallies = Array(repeating: ClientTally(), count: count) }

    func store(_ tally: ClientTally, at index: Int) { lock.withLock { tallies[index] = tally } }
    func all() -> [ClientTally] { lock.withLock { tallies } }
}

/// The machine's state, recorded with every figure.
public enum MachineConditions {
    public static func current() -> [String: String] {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
        return ["cpu": cpu, "cores": "\(ProcessInfo.processInfo.activeProcessorCount)", "loadAverage": load]
    }
}
