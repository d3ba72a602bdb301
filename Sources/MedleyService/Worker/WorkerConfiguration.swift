import MedleyModel
import MedleyProtocol
import ZeroMQ

/// Settings of one serving worker.
public struct WorkerConfiguration: Sendable {
    /// The broker's worker endpoint: `inproc://medley-workers` in `medley serve`,
    /// `tcp://HOST:PORT` for `medley worker`.
    public var brokerEndpoint: String
    /// A name for logs and stats.
    public var name: String
    /// How often the worker says it is alive, and expects to hear from the broker.
    public var heartbeatIntervalMilliseconds: Int = 1000
    /// Heartbeat intervals of silence after which the broker is presumed gone and the
    /// worker reconnects.
    public var heartbeatLiveness: Int = 3
    /// The most recommend requests scored in one batch.
    public var maxBatchSize: Int = 32
    /// Under load only, how long the first request of a batch may wait for others to join it,
    /// in microseconds (``AdaptiveBatching``): a request reaching an idle worker is scored at
    /// once whatever this says, and the requests that arrive while a batch is scored form the
    /// next batch without any delay, so 0 is the right value unless measurements say otherwise.
    public var maxBatchDelayMicroseconds: Int = 0
    /// Microseconds a worker keeps asking its socket for the next message, without sleeping,
    /// after it answered a batch; 0 (the default) sleeps at once. A sleeping thread is woken by
    /// the kernel when a request arrives, which on a virtual machine costs about 0.1 ms of a
    /// lone request's latency (BENCHMARKS.md); polling instead spends a core for up to this
    /// long after each batch, so it is for machines with a core per worker beside the broker's.
    public var busyPollMicroseconds: Int = 0
    /// The list length when a request says 0.
    public var defaultListLength: Int = 10
    /// The longest list a request may ask for.
    public var maxListLength: Int = 1000
    /// The checks a recommend request's body passes when the worker decodes it: nesting depth
    /// (and, in the responder, identifier length). `medley serve` gives its worker threads the
    /// broker's limits.
    public var protocolLimits = ProtocolLimits.default
    /// The worker's session store.
    public var sessions = SessionConfiguration()
    /// The busy count this worker shares with the other worker threads of its process: while
    /// some are idle, its batches may score their large item blocks over their share of
    /// threads. Nil: always on its own thread (a `medley worker` process).
    public var idleCores: IdleWorkerCores?
    /// CURVE towards a broker whose worker socket requires it; nil: none.
    public var curve: CurveRole?

    public init(brokerEndpoint: String, name: String) {
        self.brokerEndpoint = brokerEndpoint
        self.name = name
    }
}
