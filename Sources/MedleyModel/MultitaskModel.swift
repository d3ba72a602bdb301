import Foundation

/// A loaded model, ready to serve: immutable and shared by every worker. The item table is one
/// contiguous array, stored once and only read.
public final class MultitaskModel: Sendable {
    /// The file's contents: configuration, vocabularies and parameters.
    public let contents: ModelFileContents
    public let network: Network
    public let inputEncoder: InputEncoder
    public let scorer: ItemScorer
    /// How the domain lists mix in the session head (its share λ, and the blend it takes λ of).
    public let domainListBlend: DomainListBlend

    public var configuration: ModelConfiguration { contents.configuration }
    public var catalog: ItemCatalog { contents.catalog }
    public var users: UserVocabulary { contents.users }
    public var parameters: ModelParameters { contents.parameters }

    // The same storage as the parameters' tensors (arrays share storage), held for scoring.
    private let embeddings: [Float]
    private let biases: [Float]
    /// The item table the scoring pass reads.
    public let itemPrecision: ItemPrecision
    private let reducedEmbeddings: ReducedItemTable?
    /// How lists are found; with `.ivf`, the index of each large enough domain block.
    public let index: ItemIndexKind
    private let domainIndexes: [IVFIndex?]

    /// Wraps contents after checking that the parameters match the layout exactly and are finite
    /// (as ``ModelFile/decode(_:)-([UInt8])`` does), so a trainer's model is held to the file's rules.
    public init(_ contents: ModelFileContents, backend: ScoringBackend = .automatic,
                itemPrecision: ItemPrecision = .float32, index: ItemIndexKind = .exact) throws(ModelFileError) {
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
        guard contents.domainListSessionShare >= 0, contents.domainListSessionShare <= 1 else {
            throw .invalidMetadata(key: ModelFile.Key.domainListsSessionShare,
                                   reason: "\(contents.domainListSessionShare) is not in [0, 1]")
        }
        domainListBlend = DomainListBlend(share: contents.domainListSessionShare, rules: contents.sequentialRules)
        embeddings = contents.parameters[ParameterLayout.itemEmbedding].scalars
        biases = contents.parameters[ParameterLayout.itemBias].scalars
        self.itemPrecision = itemPrecision
        reducedEmbeddings = ReducedItemTable(itemPrecision, embeddings: embeddings, dimension: contents.configuration.embeddingDimension)
        self.index = index
        switch index {
        case .exact:
            domainIndexes = contents.catalog.domainRanges.map { _ in nil }
        case .ivf(_, let minimumBlockRows):
            let (e, b, d) = (embeddings, biases, contents.configuration.embeddingDimension)
            domainIndexes = contents.catalog.domainRanges.map { rows in
                rows.count >= minimumBlockRows ? IVFIndex(embeddings: e, biases: b, rows: rows, dimension: d, precision: itemPrecision) : nil
            }
        }
    }

    /// Loads and validates a model file.
    public convenience init(contentsOf url: URL, backend: ScoringBackend = .automatic,
                            itemPrecision: ItemPrecision = .float32, index: ItemIndexKind = .exact) throws(ModelFileError) {
        try self.init(ModelFile.read(url), backend: backend, itemPrecision: itemPrecision, index: index)
    }

    /// Writes the model atomically.
    public func write(to url: URL) throws(ModelFileError) {
        try ModelFile.write(contents, to: url)
    }

    /// Resolves an input against this model's vocabularies.
    public func encode(_ input: ModelInput, excludeSessionItems: Bool = true) throws(ModelInputError) -> EncodedInput {
        try inputEncoder.encode(input, excludeSessionItems: excludeSessionItems)
    }

    /// The forward pass for one input: queries and next-domain logits. The session encoder,
    /// if any, computes only the newest position's output (all that serving reads).
    public func forward(_ input: EncodedInput) -> Network.ForwardPass {
        guard let encoder = network.sessionEncoder else { return network.forward(input, parameters: contents.parameters) }
        return network.forward(input, parameters: contents.parameters,
                               attentionOutput: encoder.lastOutput(input.sequenceRows, parameters: contents.parameters))
    }

    /// The forward pass for a batch of inputs: the encoder and heads run one matrix product per
    /// layer over the batch (``BatchedForward``); the session encoder, if any, computes each
    /// input's newest position on its own (its sequences differ in length).
    public func forward(batch inputs: [EncodedInput]) -> BatchedForward {
        let attentionOutputs = inputs.map { input in
            network.sessionEncoder?.lastOutput(input.sequenceRows, parameters: contents.parameters)
        }
        return network.forward(batch: inputs, attentionOutputs: attentionOutputs, parameters: contents.parameters)
    }

    /// Recommendations for a batch of inputs, after one batched forward pass, in one pass over
    /// the item table: for each domain block, the domain head's queries and the session head's
    /// queries of every input are scored together (one matrix product per tile of items,
    /// ``ItemScorer``), and the session lists accumulate across the blocks, which together
    /// cover the catalogue. With `threads` > 1, a block of at least twice
    /// ``SplitScoring/minimumRowsPerPart`` rows scored exactly is split over up to that many
    /// threads (the lists are the same).
    public func recommend(_ inputs: [EncodedInput], options: RecommendationOptions = RecommendationOptions(),
                          threads: Int = 1) -> [Recommendations] {
        recommend(inputs, forward: forward(batch: inputs), options: options, threads: threads)
    }

    /// Recommendations for a batch of inputs whose forward pass is given.
    func recommend(_ inputs: [EncodedInput], forward passes: BatchedForward, options: RecommendationOptions,
                   threads: Int = 1) -> [Recommendations] {
        precondition(passes.count == inputs.count, "\(inputs.count) inputs, a forward pass of \(passes.count)")
        let c = contents.configuration
        let d = c.embeddingDimension
        let count = passes.count
        let exclusions = inputs.map(\.excludedRows)
        let bothHeadsExclusions = exclusions + exclusions
        let sessionQueries = passes.sessionQueries
        // What the blend changes, once per input: it sizes the model's session list (a negative
        // repeat bias can push items of the model's own list down, so the list holds enough
        // more for the blended list to stay exact) and is blended in after scoring.
        let additions = inputs.map { contents.sequentialRules?.additions(for: $0) ?? [] }
        var sessionLists = inputs.indices.map { b in
            TopKAccumulator(capacity: max(0, options.session)
                + (contents.sequentialRules?.demotedCount(among: additions[b], excluded: exclusions[b]) ?? 0))
        }
        var perDomain: [[[Recommendation]]] = []
        for t in c.domains.indices {
            let rows = contents.catalog.domainRanges[t]
            // Each domain list's query, and the session blend's changes within the domain's
            // block, which the list takes its share of (none when the share is 0).
            let listQueries = domainListBlend.queries(domain: passes.domainQueries[t], session: sessionQueries,
                                                      count: count, dimension: d)
            let listAdditions = additions.map { domainListBlend.additions($0, in: rows) }
            var accumulators = (0..<count).map { b in
                TopKAccumulator(capacity: max(0, options.perDomain)
                    + domainListBlend.demotedCount(among: listAdditions[b], excluded: exclusions[b]))
            } + sessionLists
            let queries = listQueries + sessionQueries
            if let ivf = domainIndexes[t], case .ivf(let probes, _) = index {
                ivf.offer(queries: queries, queryCount: 2 * count, probes: probes, into: &accumulators, excluding: bothHeadsExclusions)
            } else {
                let parts = SplitScoring.parts(rows: rows.count, threads: threads)
                SplitScoring.offer(rows: rows, parts: parts, into: &accumulators) { part, partAccumulators in
                    if let reducedEmbeddings {
                        scorer.offer(queries: queries, queryCount: 2 * count, dimension: d, reduced: reducedEmbeddings, embeddings: embeddings,
                                     biases: biases, rows: part, into: &partAccumulators, excluding: bothHeadsExclusions)
                    } else {
                        scorer.offer(queries: queries, queryCount: 2 * count, dimension: d, embeddings: embeddings,
                                     biases: biases, rows: part, into: &partAccumulators, excluding: bothHeadsExclusions)
                    }
                }
            }
            perDomain.append((0..<count).map { b in
                // The query is read only for changed items outside the model's list.
                let query = listAdditions[b].isEmpty ? [] : Array(listQueries[(b * d)..<((b + 1) * d)])
                return blendChanges(into: accumulators[b].sorted(), additions: listAdditions[b], excluded: exclusions[b],
                                    query: query, capacity: options.perDomain, blended: domainListBlend.blended)
                    .map(recommendation)
            })
            sessionLists = Array(accumulators[count...])
        }
        let session = sessionLists.indices.map { b in
            let rules = contents.sequentialRules
            return blendChanges(into: sessionLists[b].sorted(), additions: rules == nil ? [] : additions[b][...],
                                excluded: exclusions[b], query: passes.sessionQuery(b), capacity: options.session) {
                rules!.blended($0, $1)
            }
            .map(recommendation)
        }
        return inputs.indices.map { b in
            let lists = perDomain.map { $0[b] }
            let p = passes.nextDomainProbabilities(b)
            return Recommendations(domains: c.domains, perDomain: lists, session: session[b], nextDomainProbabilities: p,
                                   blended: Recommendations.blend(lists: lists, probabilities: p, count: options.blended))
        }
    }

    /// A list with the session head's blend applied (the sequential rules and the repeat bias,
    /// or a domain list's share of them, ``DomainListBlend``): the model's top items and the
    /// changed items (``SequentialRulesTable/additions(for:)``), each changed item scored with
    /// `query` and then `blended`. Exact: an item neither in the model's list nor changed keeps
    /// its model score, and the model's list holds `capacity` items plus as many as the repeat
    /// bias can push down (``SequentialRulesTable/demotedCount(among:excluded:)``), so that
    /// `capacity` unchanged items of it beat every item outside it.
    private func blendChanges(into top: [ScoredItem], additions: ArraySlice<BlendAddition>, excluded excludedRows: Set<Int>,
                              query: [Float], capacity: Int, blended: (Float, BlendAddition) -> Float) -> [ScoredItem] {
        guard capacity > 0 else { return [] }
        guard !additions.isEmpty else { return Array(top.prefix(capacity)) }
        let d = contents.configuration.embeddingDimension
        // The additions are in row order: walk the model's list and the excluded rows in row
        // order beside them, rather than hashing every changed item.
        let inTop = top.sorted { $0.index < $1.index }
        let excluded = excludedRows.sorted()
        var best = TopKAccumulator(capacity: capacity)
        var t = 0, x = 0
        embeddings.withUnsafeBufferPointer { e in
            for addition in additions {
                let row = addition.row
                while t < inTop.count && inTop[t].index < row {
                    best.offer(index: inTop[t].index, score: inTop[t].score)
                    t += 1
                }
                while x < excluded.count && excluded[x] < row { x += 1 }
                if x < excluded.count && excluded[x] == row { continue }
                if t < inTop.count && inTop[t].index == row {
                    best.offer(index: row, score: blended(inTop[t].score, addition))
                    t += 1
                } else {
                    let modelScore = ScoringKernels.dot(query, e.baseAddress! + row * d, d) + biases[row]
                    best.offer(index: row, score: blended(modelScore, addition))
                }
            }
        }
        for item in inTop[t...] { best.offer(index: item.index, score: item.score) }
        return best.sorted()
    }

    private func recommendation(_ scored: ScoredItem) -> Recommendation {
        let catalog = contents.catalog
        let item = ItemReference(domain: contents.configuration.domains[catalog.domainOfItem[scored.index]],
                                 id: catalog.ids[scored.index])
        return Recommendation(item: item, row: scored.index, score: scored.score)
    }
}
