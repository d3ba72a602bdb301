import MedleyModel
import ZeroMQ

/// How `medley serve` takes new models while it runs: from a trainer's publications, from
/// files that appear in its model directory, or both. Control requests work either way.
public struct ModelUpdateConfiguration: Sendable {
    /// The trainer's sockets (protocol/README.md): where announcements are published and
    /// where snapshots are answered.
    public struct Subscription: Sendable {
        /// The trainer's PUB endpoint, for example `tcp://trainer:5560`.
        public var publicationEndpoint: String
        /// The trainer's snapshot ROUTER endpoint; nil: no snapshots, so a server that starts
        /// late waits for the next publication.
        public var snapshotEndpoint: String?
        /// CURVE towards a trainer whose sockets require it; nil: none.
        public var curve: CurveRole?

        public init(publicationEndpoint: String, snapshotEndpoint: String? = nil, curve: CurveRole? = nil) {
            self.publicationEndpoint = publicationEndpoint
            self.snapshotEndpoint = snapshotEndpoint
            self.curve = curve
        }
    }

    /// Subscribe to a trainer's publications; nil: no subscription.
    public var subscription: Subscription?
    /// The trainer's public key. When set, a publication must carry its signature, and a file
    /// loaded from the model directory (watched or by control request) its detached signature
    /// (``ModelSignatureFile``); when nil, signatures are not checked.
    public var trainerKey: ModelVerificationKey?
    /// Load `<model directory>/<version>.safetensors` files newer than the serving model as
    /// they appear (by atomic rename).
    public var watchModelDirectory = false
    /// How often the model directory is scanned.
    public var watchIntervalMilliseconds = 1000
    /// Larger models are refused before they are hashed. libzmq disconnects a publisher that
    /// sends a frame over twice this (or 64 MiB, whichever is more), so that a runaway frame is
    /// never buffered whole.
    public var maxModelBytes = 1 << 30
    /// Forward passes (each a batch of representative requests) a new model runs before it
    /// serves: they fault its pages in and check that its outputs are finite.
    public var warmUpPasses = 3
    /// How each new model's item table is chosen (the serving process's `--item-precision`):
    /// by default int8 for catalogues where it is faster, float32 below (``ItemPrecisionChoice``).
    public var itemPrecision: ItemPrecisionChoice = .automatic
    /// The index new models score with (the serving process's `--index`).
    public var itemIndex: ItemIndexKind = .exact
    /// Domains every model must serve, besides those of the model serving now (whose events
    /// the service accepts).
    public var requiredDomains: [String] = []
    /// A snapshot request unanswered this long is abandoned and sent again.
    public var snapshotTimeoutMilliseconds = 5000
    /// While the trainer has no model (it answered NOT_FOUND) and no publication has arrived,
    /// the snapshot is asked for again this often, so a publication lost to the PUB socket's
    /// slow-joiner window is still caught.
    public var snapshotRetryMilliseconds = 1000

    public init() {}

    /// Whether anything needs the model manager's thread.
    public var needsManager: Bool { subscription != nil || watchModelDirectory }

    /// The hard frame cap for the subscription sockets (see ``maxModelBytes``).
    var socketMaxMessageBytes: Int64 { max(Int64(maxModelBytes) * 2, 64 << 20) }
}
