/// The shape of a model: everything except the learned values and the vocabularies.
/// Stored in a model file's metadata (models/README.md).
public struct ModelConfiguration: Sendable, Equatable {
    /// The shared encoder's form.
    public enum Architecture: Sendable, Equatable {
        /// One MLP shared by every task (hard parameter sharing).
        case mlp
        /// Multi-gate mixture of experts: `experts` MLPs shared by all tasks, and one softmax
        /// gate per task that mixes their outputs.
        case mmoe(experts: Int)
        /// Progressive Layered Extraction: at each of `levels` levels, `sharedExperts` MLPs
        /// shared by all tasks and `taskExperts` MLPs of each task's own, one gate per task over
        /// its own and the shared experts, and (below the top level) a shared gate over all of
        /// them that feeds the next level (``ProgressiveLayeredExtraction``).
        case ple(sharedExperts: Int, taskExperts: Int, levels: Int)
    }

    /// The model file format version this code writes: the vocabularies as tensors. It reads
    /// version 1 too (``ModelFile/VocabularyLayout``).
    public static let formatVersion = ModelFile.VocabularyLayout.tensors.formatVersion

    /// A number that identifies this model among those the trainer publishes.
    public var modelVersion: UInt64
    /// Domain names, in the order used by the next-domain classifier and the item table.
    public var domains: [String]
    /// The dimension of item and user vectors and of every query vector.
    public var embeddingDimension: Int
    /// The length of the context feature vector (see ``ContextFeatures``).
    public var contextDimension: Int
    /// How many of the most recent session items each get their own input slot.
    public var lastItemSlots: Int
    /// Output sizes of the shared encoder's layers (each followed by ReLU); not empty.
    public var hiddenDimensions: [Int]
    /// Hidden layer sizes of every head's tower (each followed by ReLU), before its output layer.
    public var towerHiddenDimensions: [Int]
    /// MLP or MMoE.
    public var architecture: Architecture
    /// Session-encoder weight of each event type.
    public var eventWeights: EventWeights
    /// An event this many seconds older than the newest counts half as much.
    public var recencyHalfLifeSeconds: Float
    /// The order-aware session encoder (causal self-attention over the newest session items),
    /// whose output joins the encoder input; nil for none (the format's original input).
    public var sessionEncoder: SessionEncoderShape?

    public init(
        modelVersion: UInt64 = 1,
        domains: [String] = ["news", "video", "music"],
        embeddingDimension: Int = 32,
        contextDimension: Int = ContextFeatures.dimension,
        lastItemSlots: Int = 3,
        hiddenDimensions: [Int] = [64],
        towerHiddenDimensions: [Int] = [],
        architecture: Architecture = .mlp,
        eventWeights: EventWeights = .defaults,
        recencyHalfLifeSeconds: Float = 1800,
        sessionEncoder: SessionEncoderShape? = nil
    ) {
        self.modelVersion = modelVersion
        self.domains = domains
        self.embeddingDimension = embeddingDimension
        self.contextDimension = contextDimension
        self.lastItemSlots = lastItemSlots
        self.hiddenDimensions = hiddenDimensions
        self.towerHiddenDimensions = towerHiddenDimensions
        self.architecture = architecture
        self.eventWeights = eventWeights
        self.recencyHalfLifeSeconds = recencyHalfLifeSeconds
        self.sessionEncoder = sessionEncoder
    }

    /// The encoder input: [user vector; session vector; last-item slots; context], then the
    /// session attention's output when there is one.
    public var encoderInputDimension: Int {
        embeddingDimension * (2 + lastItemSlots + (sessionEncoder == nil ? 0 : 1)) + contextDimension
    }

    /// The size of the shared representation each head reads.
    public var representationDimension: Int { hiddenDimensions.last ?? encoderInputDimension }

    /// The tasks, in the order used for gates and heads: one per domain, then session, then next domain.
    public var tasks: [Task] { domains.indices.map { Task.domain($0) } + [.session, .nextDomain] }

    /// Checks that the numbers make a model; throws naming the first that does not.
    public func validate() throws(ModelFileError) {
        func bad(_ key: String, _ reason: String) -> ModelFileError { .invalidMetadata(key: key, reason: reason) }
        guard !domains.isEmpty else { throw bad("domains", "no domains") }
        for name in domains {
            guard let first = name.unicodeScalars.first, ("a"..."z").contains(first),
                  name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            else { throw bad("domains", "domain name \"\(name)\" is not [a-z][a-z0-9_]*") }
        }
        guard Set(domains).count == domains.count else { throw bad("domains", "duplicate domain name") }
        guard embeddingDimension > 0 else { throw bad("embedding_dim", "must be positive") }
        guard contextDimension >= 0 else { throw bad("context_dim", "must not be negative") }
        guard lastItemSlots >= 0 else { throw bad("last_item_slots", "must not be negative") }
        guard !hiddenDimensions.isEmpty, hiddenDimensions.allSatisfy({ $0 > 0 }) else {
            throw bad("hidden_dims", "must be a non-empty list of positive sizes")
        }
        guard towerHiddenDimensions.allSatisfy({ $0 > 0 }) else { throw bad("tower_hidden_dims", "sizes must be positive") }
        if case .mmoe(let experts) = architecture, experts < 1 { throw bad("experts", "must be at least 1") }
        if case .ple(let shared, let own, let levels) = architecture {
            guard shared >= 1, shared <= 1024 else { throw bad("shared_experts", "must be between 1 and 1024") }
            guard own >= 1, own <= 1024 else { throw bad("task_experts", "must be between 1 and 1024") }
            guard levels >= 1, levels <= 8 else { throw bad("levels", "must be between 1 and 8") }
        }
        guard recencyHalfLifeSeconds.isFinite, recencyHalfLifeSeconds > 0 else {
            throw bad("recency_half_life_seconds", "must be positive and finite")
        }
        try sessionEncoder?.validate(embeddingDimension: embeddingDimension)
        // Sizes large enough to overflow index arithmetic are refused before any allocation.
        let limit = 1 << 20
        guard embeddingDimension <= limit, contextDimension <= limit, lastItemSlots <= 1024,
              (hiddenDimensions + towerHiddenDimensions).allSatisfy({ $0 <= limit }), domains.count <= 1024
        else { throw bad("dimensions", "implausibly large") }
        if case .mmoe(let experts) = architecture, experts > 1024 { throw bad("experts", "implausibly large") }
    }
}

/// One of the model's outputs.
public enum Task: Sendable, Hashable, CustomStringConvertible {
    /// The head that scores the items of one domain (index into ``ModelConfiguration/domains``).
    case domain(Int)
    /// The head that scores the next item across all domains.
    case session
    /// The classifier of which domain comes next.
    case nextDomain

    public var description: String {
        switch self {
        case .domain(let d): return "domain \(d)"
        case .session: return "session"
        case .nextDomain: return "next_domain"
        }
    }
}
