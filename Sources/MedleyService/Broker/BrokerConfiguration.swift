import MedleyProtocol
import MedleySecurity
import ZeroMQ

/// Settings of the broker: where clients and workers connect, and the limits it enforces.
public struct BrokerConfiguration: Sendable {
    /// Endpoints the client ROUTER binds.
    public var clientEndpoints: [String] = ["tcp://127.0.0.1:5555"]
    /// Endpoints the worker ROUTER binds: the in-process one for the workers of
    /// `medley serve`, plus `tcp://...` ones for `medley worker` processes.
    public var workerEndpoints: [String] = ["inproc://medley-workers"]
    /// How often the broker and workers exchange heartbeats.
    public var heartbeatIntervalMilliseconds: Int = 1000
    /// Missed heartbeat intervals after which a worker is taken out of rotation.
    public var heartbeatLiveness: Int = 3
    /// Size limits for request bodies (the protocol's 4 MiB by default).
    public var protocolLimits = ProtocolLimits.default
    /// The most frames of one client message: routing ids of a proxy chain, the delimiter and
    /// the body. More is refused as malformed.
    public var maxFramesPerMessage: Int = 16
    /// libzmq's hard per-frame cap on the client socket: a peer sending a larger frame is
    /// disconnected before the frame is buffered whole. Above the body limit, so that an
    /// oversized body still gets an error reply.
    public var socketMaxMessageBytes: Int64 = 64 << 20
    /// Messages queued per client connection before libzmq drops replies to a slow reader.
    public var clientHighWaterMark: Int32 = 10_000
    /// How far back the log is replayed to rebuild sessions when users move between workers.
    public var sessionReplayWindowMilliseconds: Int64 = 24 * 60 * 60 * 1000
    /// Messages taken from one socket before the broker looks at the others (fairness).
    public var burst: Int = 256
    /// The longest a stopping broker waits for requests in flight.
    public var drainTimeoutMilliseconds: Int = 10_000
    /// After the drain, the client socket is read until it has been quiet this long; what
    /// arrives meanwhile is refused with UNAVAILABLE rather than left unanswered.
    public var finalDrainQuietMilliseconds: Int = 50
    /// How long a worker process may serve another model version after it was sent the
    /// current one before it is sent it again and health reports it (protocol/README.md,
    /// "Model sync").
    public var workerModelResendMilliseconds: Int = 30_000
    /// How long an ingest's idempotency key is remembered (its retries are answered with its
    /// acknowledgement and not stored again).
    public var idempotencyWindowMilliseconds: Int64 = 24 * 60 * 60 * 1000
    /// The most idempotency keys remembered; beyond it the oldest are forgotten first. Each
    /// costs about 200 bytes plus the key.
    public var maxIdempotencyKeys: Int = 1_000_000
    /// Where `control` requests find model files: `<directory>/<version>.safetensors`.
    public var modelDirectory: String?
    /// CURVE on the client and worker sockets (in-process workers are not affected); nil:
    /// no encryption or authentication. The process must run a ``CurveAuthenticator``.
    public var curve: CurveServerSecurity?

    public init() {}
}
