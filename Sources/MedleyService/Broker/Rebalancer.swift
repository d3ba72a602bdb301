import Foundation
import Logging
import MedleyModel
import MedleySystem
import Synchronization
import ZeroMQ

/// Rebuilds sessions when users move between workers, off the broker's poll thread.
///
/// A pool change (a worker joined, left, or registered again) is replayed from the recent
/// log on a thread of its own, which reads the log, works out which users moved
/// (``SessionReplay``), and hands the broker FORGET and EVENTS messages for the workers
/// through an in-process ZeroMQ socket (its PUSH to the broker's PULL) that the broker polls
/// beside its other sockets; the broker only sends them on. Meanwhile it keeps answering
/// (health, stats, ingests, stop), and holds the events and requests bound for the workers
/// the replay fills, so that none overtakes the older events it replays. Pool changes during
/// a replay are replayed after it, in order.
final class Rebalancer {
    /// A change of the worker pool.
    struct PoolChange: Sendable {
        let before: [[UInt8]]
        let after: [[UInt8]]
        /// A worker that lost all its sessions (it registered again) and needs all its users.
        let reset: [UInt8]?

        /// The workers the replay may send events to.
        var targets: Set<[UInt8]> {
            Set(before == after ? reset.map { [$0] } ?? [] : after)
        }
    }

    /// What the broker sends on for the replay.
    enum Delivery {
        /// A worker message, as frames without the routing id.
        case send(worker: [UInt8], frames: [[UInt8]])
        /// A message the replay held back, now due.
        case release(worker: [UInt8], WorkerMessage)
    }

    /// Poll for readability; then call ``receive(burst:throughSequence:)``.
    let socket: Socket
    private let context: Context
    private let endpoint: String
    private let source: SessionReplaySourceFactory
    private let windowMs: Int64
    private let logger: Logger
    private var running: (thread: OwnedThread, cancelled: ReplayCancellation)?
    private var queued: [PoolChange] = []
    /// Messages for the replay's targets that arrived during it, in order.
    private var held: [(worker: [UInt8], message: WorkerMessage)] = []
    private var targets: Set<[UInt8]> = []
    /// Set by ``stop()``: a stopping broker starts no replay.
    private var stopped = false

    /// `windowMs`: how far back a replay reads the log.
    init(context: Context, source: @escaping SessionReplaySourceFactory, windowMs: Int64, logger: Logger) throws(ZMQError) {
        self.context = context
        self.source = source
        self.windowMs = windowMs
        self.logger = logger
        endpoint = "inproc://medley-replay-\(UUID().uuidString)"
        // PULL, not PAIR: a PAIR takes one peer, and the connection of a finished replay may
        // still be closing when the next replay connects.
        socket = try context.socket(.pull)
        try socket.set(.lingerMilliseconds, 0)
        try socket.bind(endpoint)
    }

    /// Replays `change` now, or after the replays before it. `throughSequence`: the last
    /// record handed to workers so far.
    func poolChanged(_ change: PoolChange, throughSequence: UInt64) {
        guard !change.after.isEmpty, !stopped else { return }
        targets.formUnion(change.targets)
        if running == nil {
            start(change, throughSequence: throughSequence)
        } else {
            queued.append(change)
        }
    }

    /// Holds `message` for `worker` if a replay is filling that worker; returns whether it did.
    func hold(_ message: WorkerMessage, for worker: [UInt8]) -> Bool {
        guard running != nil, targets.contains(worker) else { return false }
        held.append((worker, message))
        return true
    }

    /// Drops what is held for a worker that left.
    func workerLeft(_ worker: [UInt8]) {
        held.removeAll { $0.worker == worker }
    }

    /// What the replay thread handed over, in order; once the last replay has ended, the
    /// messages held during it follow.
    func receive(burst: Int, throughSequence: UInt64) throws(ZMQError) -> [Delivery] {
        var deliveries: [Delivery] = []
        for _ in 0..<burst {
            guard let frames = try socket.tryReceiveMultipart(), let worker = frames.first else { break }
            guard worker.isEmpty else {
                deliveries.append(.send(worker: worker, frames: Array(frames.dropFirst())))
                continue
            }
            ended(ReplayOutcome(frames: Array(frames.dropFirst())))
            if !queued.isEmpty {
                start(queued.removeFirst(), throughSequence: throughSequence)
            } else {
                deliveries += held.map { .release(worker: $0.worker, $0.message) }
                held = []
                targets = []
                break
            }
        }
        return deliveries
    }

    /// Cancels the replay in progress and those waiting, waits for its thread, and returns the
    /// messages it held (their requests are unanswered). No replay starts afterwards.
    func stop() -> [(worker: [UInt8], message: WorkerMessage)] {
        stopped = true
        if let running {
            running.cancelled.cancel()
            running.thread.join()
            logger.notice("stopped rebuilding sessions from the log before the end of the replay")
        }
        running = nil
        queued = []
        targets = []
        defer { held = [] }
        return held
    }

    private func start(_ change: PoolChange, throughSequence: UInt64) {
        let cancelled = ReplayCancellation()
        let sinceMs = wallClockMilliseconds() - windowMs
        let (context, endpoint, source, logger) = (context, endpoint, source, logger)
        let thread = OwnedThread(name: "medley-replay") {
            let outcome: ReplayOutcome
            let socket: Socket
            do {
                socket = try context.socket(.push)
                // Nothing is kept for a broker that has stopped reading (a cancelled replay).
                try socket.set(.lingerMilliseconds, 0)
                // Bounded, so that a replay of a large log waits for the broker instead of
                // queueing the log in memory; the time-out lets it notice cancellation.
                try socket.set(.sendHighWaterMark, 16)
                try socket.set(.sendTimeoutMilliseconds, 100)
                try socket.connect(endpoint)
            } catch {
                // Only a context that is shutting down refuses an in-process socket: the
                // broker is stopping, and cancels what it held for the replay.
                logger.error("could not start replaying the event log: \(error)")
                return
            }
            defer { socket.close() }
            let send: ([[UInt8]]) throws -> Void = { frames in
                while true {
                    if cancelled.isCancelled { throw ReplayCancelled() }
                    do {
                        try socket.send(multipart: frames)
                        return
                    } catch let error as ZMQError where error.kind == .wouldBlock {
                        continue
                    }
                }
            }
            do {
                outcome = try SessionReplay(change: change).run(
                    open: { try source(sinceMs, throughSequence) }, isCancelled: { cancelled.isCancelled }
                ) { worker, message in try send([worker] + message.frames) }
            } catch is ReplayCancelled {
                return
            } catch {
                outcome = .failed("\(error)")
            }
            // Sent: the broker reads everything before this last message, so the close may
            // wait for it (bounded, in case the broker stops meanwhile).
            if (try? send([[]] + outcome.frames)) != nil { try? socket.set(.lingerMilliseconds, 1000) }
        }
        running = (thread, cancelled)
    }

    private func ended(_ outcome: ReplayOutcome?) {
        running?.thread.join()
        running = nil
        switch outcome {
        case .finished(let events, let users):
            if events > 0 { logger.info("rebuilt sessions from the log", metadata: ["events": "\(events)", "users": "\(users)"]) }
        case .failed(let message):
            logger.error("could not replay the event log to rebuild sessions: \(message)")
        case nil:
            logger.error("the log replay ended with a message the broker does not know")
        }
    }
}

@available(*, unavailable)
extension Rebalancer: Sendable {}

/// Set by the broker to end a replay early; read by the replay's thread.
final class ReplayCancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    func cancel() { flag.store(true, ordering: .relaxed) }
}

struct ReplayCancelled: Error {}

/// How a replay ended, as the last message it hands the broker.
enum ReplayOutcome: Equatable {
    case finished(events: UInt64, users: UInt64)
    case failed(String)

    var frames: [[UInt8]] {
        switch self {
        case .finished(let events, let users): [Array("finished".utf8), events.littleEndianBytes, users.littleEndianBytes]
        case .failed(let message): [Array("failed".utf8), Array(message.utf8)]
        }
    }

    init?(frames: [[UInt8]]) {
        switch frames.first.map({ String(decoding: $0, as: UTF8.self) }) {
        case "finished":
            guard frames.count == 3, let events = UInt64(littleEndianBytes: frames[1]), let users = UInt64(littleEndianBytes: frames[2]) else { return nil }
            self = .finished(events: events, users: users)
        case "failed":
            guard frames.count == 2 else { return nil }
            self = .failed(String(decoding: frames[1], as: UTF8.self))
        default:
            return nil
        }
    }
}
