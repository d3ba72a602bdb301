import MedleyProtocol
import MedleySystem
import Synchronization

/// What `medley serve` counts for `--metrics`, beside what its parts already keep (the event
/// log's statistics, the model installer's status): requests by kind, broker-made errors by
/// code, reply latency, batch sizes of in-process workers, and each worker's last heartbeat.
///
/// Written by the broker's and the workers' threads, read by the metrics endpoint's; one lock,
/// taken for a few additions per request.
public final class ServiceMetrics: Sendable {
    struct State {
        var requestsByKind: [String: UInt64] = [:]
        var errorsByCode: [String: UInt64] = [:]
        var replyLatency = Histogram.latencySeconds()
        var batchSizes = Histogram.sizes()
        /// By the broker's worker index: name and last heartbeat figures.
        var workers: [UInt32: (name: String, stats: Medley_V1_WorkerStats)] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// A client request arrived; `kind` is its body's name (`ingest`, `recommend`, …) or
    /// `malformed` when it could not be decoded.
    func requestReceived(kind: String) {
        state.withLock { $0.requestsByKind[kind, default: 0] += 1 }
    }

    /// The broker answered a request with an error of its own making.
    func errorReplied(code: Medley_V1_ErrorCode) {
        state.withLock { $0.errorsByCode[Self.name(of: code), default: 0] += 1 }
    }

    /// A reply left for its client this long after the request arrived.
    func replied(after duration: Duration) {
        state.withLock { $0.replyLatency.record(duration) }
    }

    /// An in-process worker scored a batch of recommend requests.
    func batchScored(size: Int) {
        state.withLock { $0.batchSizes.record(Double(size)) }
    }

    /// A worker's heartbeat figures (in-process or remote), by the broker's index for it.
    func workerReported(index: UInt32, name: String, stats: Medley_V1_WorkerStats) {
        state.withLock { $0.workers[index] = (name, stats) }
    }

    /// A worker left the pool.
    func workerLeft(index: UInt32) {
        state.withLock { _ = $0.workers.removeValue(forKey: index) }
    }

    var snapshot: State { state.withLock { $0 } }

    /// The protobuf enum's name without its prefix, in lower case: `invalid_argument`.
    static func name(of code: Medley_V1_ErrorCode) -> String {
        let text = String(describing: code)
        // SwiftProtobuf's description is the Swift case name (`invalidArgument`).
        var name = ""
        for character in text {
            if character.isUppercase { name += "_" + character.lowercased() } else { name.append(character) }
        }
        return name
    }
}
