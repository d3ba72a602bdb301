import Foundation

/// A loaded model, ready to serve: immutable and shared by every worker. The item table is one
/// contiguous array, stored once and only read.
public final class MultitaskModel: Sendable {
    /// The file's contents: configuration, vocabularies and parameters.
    public let contents: ModelFileContents
    public let network: Network
    public let inputEncoder: InputEncoder
    public let scorer: ItemScorer

    public var configuration: ModelConfiguration { contents.configuration }
    public var catalog: ItemCatalog { contents.catalog }
    public var users: UserVocabulary { contents.users }
    public var parameters: ModelParameters { contents.parameters }

    // The same storage as the parameters' tensors (arrays share storage), held for scoring.
    private let embeddings: [Float]
    private let biases: [Float]

    /// Wraps contents after checking that the parameters match the layout exactly and are finite
    /// (as ``ModelFile/decode(_:)-([UInt8])`` does), so a trainer's model is held to the file's rules.
    public init(_ contents: ModelFileContents, backend: ScoringBackend = .automatic) throws(ModelFileError) {
        try contents.configuration.validate()
        let layout = contents.layout
        for entry in layout.entries {
            guard let tensor = contents.parameters.tensors[entry.name] else { throw .missingTensor(entry.name) }
            guard tensor.shape == entry.shape else {
                throw .shapeMismatch(tensor: entry.name, expected: entry.shape, actual: tensor.shape)
            }
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw .nonFiniteValue(tensor: entry.name, index: bad)
            }
        }
        if let extra = Set(contents.parameters.tensors.keys).subtracting(layout.entries.map(\.name)).sorted().first {
            throw .unexpectedTensor(extra)
        }
        self.contents = contents
        network = Network(configuration: contents.configuration)
        inputEncoder = InputEncoder(configuration: contents.configuration, catalog: contents.catalog, users: contents.users)
        scorer = ItemScorer(backend: backend)
        embeddings = contents.parameters[ParameterLayout.itemEmbedding].scalars
        biases = contents.parameters[ParameterLayout.itemBias].scalars
    }

    /// Loads and validates a model file.
    public convenience init(contentsOf url: URL, backend: ScoringBackend = .automatic) throws(ModelFileError) {
        try self.init(ModelFile.read(url), backend: backend)
    }

    /// Writes the model atomically.
    public func write(to url: URL) throws(ModelFileError) {
        try ModelFile.write(contents, to: url)
    }

    /// Resolves an input against this model's vocabularies.
    public func encode(_ input: ModelInput, excludeSessionItems: Bool = true) throws(ModelInputError) -> EncodedInput {
        try inputEncoder.encode(input, excludeSessionItems: excludeSessionItems)
    }

    /// The forward pass for one input: queries and next-domain logits. The session attention,
    /// if any, computes only the newest position's output (all that serving reads).
    public func forward(_ input: EncodedInput) -> Network.ForwardPass {
        guard let attention = network.attention else { return network.forward(input, parameters: contents.parameters) }
        return network.forward(input, parameters: contents.parameters,
                               attentionOutput: attention.lastOutput(input.sequenceRows, parameters: contents.parameters))
    }

    /// Recommendations for a batch of inputs. Each head's queries for the whole batch are
    /// scored as one matrix product per tile of items (``ItemScorer``).
    public func recommend(_ inputs: [EncodedInput], options: RecommendationOptions = RecommendationOptions()) -> [Recommendations] {
        let c = contents.configuration
        let d = c.embeddingDimension
        let passes = inputs.map(forward)
        let exclusions = inputs.map(\.excludedRows)
        func topK(_ query: (Network.ForwardPass) -> [Float], rows: Range<Int>, k: Int) -> [[Recommendation]] {
            let queries = passes.flatMap(query)
            return scorer.topK(queries: queries, queryCount: passes.count, dimension: d, embeddings: embeddings,
                               biases: biases, rows: rows, k: k, excluding: exclusions)
                .map { $0.map(recommendation) }
        }
        let perDomain = c.domains.indices.map { t in
            topK({ $0.domainQuery(t) }, rows: contents.catalog.domainRanges[t], k: options.perDomain)
        }
        let session = topK({ $0.sessionQuery }, rows: 0..<contents.catalog.count, k: options.session)
        return passes.indices.map { b in
            let lists = perDomain.map { $0[b] }
            let p = passes[b].nextDomainProbabilities
            return Recommendations(domains: c.domains, perDomain: lists, session: session[b], nextDomainProbabilities: p,
                                   blended: Recommendations.blend(lists: lists, probabilities: p, count: options.blended))
        }
    }

    private func recommendation(_ scored: ScoredItem) -> Recommendation {
        let catalog = contents.catalog
        let item = ItemReference(domain: contents.configuration.domains[catalog.domainOfItem[scored.index]],
                                 id: catalog.ids[scored.index])
        return Recommendation(item: item, row: scored.index, score: scored.score)
    }
}
