import MedleyEventLog
import MedleyModel
import MedleyModelDistribution

/// Everything `medley serve` needs to know.
public struct ServerConfiguration: Sendable {
    /// The broker's endpoints and limits.
    public var broker = BrokerConfiguration()
    /// Worker threads in this process; more can connect as `medley worker` processes.
    public var workerCount: Int = 2
    /// Whether a worker thread scoring a lone request on a large catalogue borrows the cores of
    /// the worker threads that are idle (``IdleWorkerCores``). Off by default: idle workers do
    /// not mean idle cores on a shared machine, and no gain was measured on one (BENCHMARKS.md).
    public var splitsRequestsOverIdleWorkers = false
    /// Settings every in-process worker gets (its endpoint and name are set per worker).
    public var worker = WorkerConfiguration(brokerEndpoint: "inproc://medley-workers", name: "worker")
    /// Where the event log's segment files live.
    public var logDirectory: String = "data/log"
    /// The event log's sync policy and segment size.
    public var eventLog = EventLogConfiguration()
    /// New models while running: a trainer subscription, model-directory watching, and the
    /// checks every new model passes (docs/hot-reload.md).
    public var modelUpdates = ModelUpdateConfiguration()
    /// `HOST:PORT` where Prometheus scrapes `/metrics`; nil: no metrics endpoint.
    public var metricsAddress: String?

    public init() {}
}
