import MedleyModel
import MedleyProtocol
import MedleyTraining

/// A trained ``MultitaskModel`` as a ``Scorer`` for the evaluations.
///
/// The evaluation numbers users and items its own way (``SequenceDataset``); the model has its
/// own rows. The scorer maps one to the other by id: an item by its id and domain name, a user
/// by their id. For a query it builds the model input exactly as training and serving do, with
/// ``MultitaskModel/input(forUser:history:requestTimeMilliseconds:rules:)`` and the trainer's
/// ``SessionRules``, from the user's earlier interactions in the data set (items, event types
/// and times) up to the target; the request time is the target's time, as in the trainer's
/// examples. A user the model has no vector for is folded in from that history, as the service
/// does.
///
/// Items the model does not know (not in its catalogue, or of a domain it does not have) score
/// −infinity: they rank below every known item and tie with each other, so a target the model
/// cannot know ranks last, never by luck.
///
/// Scoring is batched: a batch of queries is one forward pass each and one matrix product per
/// head (``MultitaskModel/itemScores(_:)``); the evaluation runs batches on every core. Set
/// OpenBLAS to one thread meanwhile (``BLASThreads``), as the evaluations' model entry points
/// do, so that its threads do not compete with the evaluation's.
public struct ModelScorer: Scorer {
    /// Which of the model's outputs ranks the items.
    public enum Head: Sendable, Equatable {
        /// Each item is scored by the head of its own domain (within a domain, that domain
        /// head's list). Scores of different domains come from different heads and are not
        /// comparable: only per-domain rankings mean something.
        case domains
        /// Every item is scored by the session head (the cross-domain "what next" list).
        case session
    }

    public let name: String
    /// The head this scorer reads.
    public let head: Head
    private let dataset: SequenceDataset
    private let rules: SessionRules
    /// Per domain of the data set: the index into `models` that scores that domain's items.
    private let modelOfDomain: [Int]
    private let models: [MultitaskModel]
    /// Per model, per data-set item: the model's row of the item, or nil when unknown.
    private let itemRows: [[Int?]]
    /// Interactions before the target passed to the model: enough for its session and history.
    private let window: Int

    /// Scores with one model's `head`.
    public init(name: String, model: MultitaskModel, head: Head, dataset: SequenceDataset,
                rules: SessionRules = SessionRules()) {
        self.init(name: name, head: head, models: [model], modelOfDomain: dataset.domains.map { _ in 0 },
                  dataset: dataset, rules: rules)
    }

    /// Scores each domain's items with the domain head of that domain's own model: the
    /// single-task baselines, one model trained per domain head. A domain without a model
    /// scores −infinity.
    public init(name: String, domainModels: [String: MultitaskModel], dataset: SequenceDataset,
                rules: SessionRules = SessionRules()) {
        var models: [MultitaskModel] = []
        var modelOfDomain: [Int] = []
        for domain in dataset.domains {
            if let model = domainModels[domain] {
                if let known = models.firstIndex(where: { $0 === model }) {
                    modelOfDomain.append(known)
                } else {
                    modelOfDomain.append(models.count)
                    models.append(model)
                }
            } else {
                modelOfDomain.append(-1)
            }
        }
        self.init(name: name, head: .domains, models: models, modelOfDomain: modelOfDomain, dataset: dataset, rules: rules)
    }

    private init(name: String, head: Head, models: [MultitaskModel], modelOfDomain: [Int],
                 dataset: SequenceDataset, rules: SessionRules) {
        self.name = name
        self.head = head
        self.dataset = dataset
        self.rules = rules
        self.models = models
        self.modelOfDomain = modelOfDomain
        self.itemRows = models.map { model in
            let domainIndex = Dictionary(uniqueKeysWithValues: model.configuration.domains.enumerated().map { ($1, $0) })
            return dataset.itemIDs.indices.map { item in
                domainIndex[dataset.domains[dataset.itemDomain[item]]].flatMap { model.catalog.row(domain: $0, id: dataset.itemIDs[item]) }
            }
        }
        self.window = max(rules.maxHistoryItems, rules.maxSessionLength)
    }

    /// The share of the data set's items the model knows (the first model, for single-task
    /// scorers: the share each knows of its own domain is what matters there).
    public var knownItemFraction: Double {
        guard let rows = itemRows.first, !rows.isEmpty else { return 0 }
        return Double(rows.lazy.filter { $0 != nil }.count) / Double(rows.count)
    }

    /// Without a position in the data set there are no event times or types: `history` is
    /// taken as one session of views at the user's last known time, in order.
    public func scores(forHistory history: [Int], user: Int) -> [Float] {
        let time = dataset.timestamps[user].last ?? 0
        let events = history.map { item in event(user: user, item: item, type: .view, time: time) }
        return score(inputs: [(dataset.userIDs[user], events, time)])[0]
    }

    /// With several models (the single-task domain heads), a query goes through its target's
    /// domain's model alone: a domain-heads scorer's target is ranked among its own domain's
    /// items, so the other domains' scores (−infinity here) are never read, and scoring them
    /// tripled the cost of the single-task comparison.
    public func scores(for queries: [ScoringQuery]) -> [[Float]] {
        let inputs = queries.map { query in
            let u = query.user
            let start = max(0, query.targetPosition - window)
            let events = (start..<query.targetPosition).map { p in
                event(user: u, item: dataset.sequences[u][p], type: dataset.eventTypes[u][p], time: dataset.timestamps[u][p])
            }
            return (user: dataset.userIDs[u], events: events, time: dataset.timestamps[u][query.targetPosition])
        }
        return score(inputs: inputs, targetDomains: queries.map { dataset.itemDomain[dataset.sequences[$0.user][$0.targetPosition]] })
    }

    private func event(user: Int, item: Int, type: Medley_V1_EventType, time: Int64) -> Medley_V1_SessionEvent {
        var event = Medley_V1_SessionEvent()
        event.userID = dataset.userIDs[user]
        event.itemID = dataset.itemIDs[item]
        event.domain = dataset.domains[dataset.itemDomain[item]]
        event.type = type
        event.timestampMs = time
        return event
    }

    /// `targetDomains`: per input, the data-set domain of its target, when known; a model then
    /// scores only the inputs whose target's domain it scores.
    private func score(inputs: [(user: String, events: [Medley_V1_SessionEvent], time: Int64)],
                       targetDomains: [Int]? = nil) -> [[Float]] {
        var out = [[Float]](repeating: [Float](repeating: -.infinity, count: dataset.itemCount), count: inputs.count)
        for (m, model) in models.enumerated() {
            let members = targetDomains.map { domains in inputs.indices.filter { modelOfDomain[domains[$0]] == m } }
                ?? Array(inputs.indices)
            guard !members.isEmpty else { continue }
            let encoded = members.map { inputs[$0] }.map { input in
                do {
                    return try model.encode(model.input(forUser: input.user, history: input.events,
                                                        requestTimeMilliseconds: input.time, rules: rules))
                } catch {
                    // `input(forUser:…)` makes the context from the model's own configuration,
                    // so the encoder's only checks (context size, finite features) cannot fail.
                    preconditionFailure("the model refused its own input: \(error)")
                }
            }
            let scored = model.itemScores(encoded)
            let rows = itemRows[m]
            let domainStarts = model.catalog.domainRanges.map(\.lowerBound)
            let modelDomainOfRow = model.catalog.domainOfItem
            for (j, scores) in scored.enumerated() {
                out[members[j]].withUnsafeMutableBufferPointer { o in
                    for (domain, range) in dataset.domainRanges.enumerated() where modelOfDomain[domain] == m || head == .session {
                        for item in range {
                            guard let row = rows[item] else { continue }
                            switch head {
                            case .session:
                                o[item] = scores.session[row]
                            case .domains:
                                let d = modelDomainOfRow[row]
                                o[item] = scores.domains[d][row - domainStarts[d]]
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
