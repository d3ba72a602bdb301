import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

private typealias F = TrainerFixtures

/// Sessions that walk the catalogue in order (v0, v1, v2, …): the next item is always the
/// last one's successor, which a rule learns at once and a barely trained model does not.
/// With `openers`, each user ends with a session of one event a day later: the successor of
/// their newest item, which only a rule reaching across the gap can start from.
private func successorWalks(items: Int = 40, users: Int = 30, sessions: Int = 4, length: Int = 5,
                            gap: Int64 = F.minute, openers: Bool = false) -> [Medley_V1_SessionEvent] {
    var events: [Medley_V1_SessionEvent] = []
    for u in 0..<users {
        var next = 0
        for s in 0..<sessions {
            let first = (u * 7 + s * 13) % items
            let start = Int64(s) * 24 * F.hour
            for k in 0..<length {
                events.append(F.event("user-\(u)", "video", "v\((first + k) % items)", at: start + Int64(k) * gap))
            }
            next = (first + length) % items
        }
        if openers { events.append(F.event("user-\(u)", "video", "v\(next)", at: Int64(sessions) * 24 * F.hour)) }
    }
    return events.enumerated().sorted { ($0.element.timestampMs, $0.offset) < ($1.element.timestampMs, $1.offset) }.map(\.element)
}

private func configuration() -> TrainingConfiguration {
    var c = F.configuration(domains: ["video"], epochs: 1)
    c.validation = .lastEventsPerUser(1)
    return c
}

@Suite("sequential rules blend")
struct SequentialRulesBlendTests {
    @Test func rulesThatPredictTheNextItemAreKeptWithTheWeightThatHelpsMost() throws {
        let result = try Trainer(configuration: configuration()).train(events: successorWalks(), modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.weight > 0)
        #expect(fit.ndcgByWeight[fit.weight]! > fit.ndcgByWeight[0]! + 0.2, "\(fit.ndcgByWeight)")
        let rules = try #require(result.model.sequentialRules)
        #expect(rules.weight == fit.weight)
        let row = { (id: String) in result.model.catalog.row(domain: 0, id: id)! }
        #expect(rules.targets[rules.rules(from: row("v3")).first!] == Int32(row("v4")))
        #expect(result.summary.description.contains("sequential rules:"))
    }

    /// Every validation target opens a session a day after the user's last: the rules start
    /// from the user's newest item, before the gap (`session_rules_anchor` = `newest_item`), so
    /// they help there too and the model keeps them.
    @Test func theRulesStartFromTheUsersNewestItemAcrossTheGap() throws {
        let events = successorWalks(openers: true)
        let result = try Trainer(configuration: configuration()).train(events: events, modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.weight > 0)
        #expect(fit.ndcgByWeight[fit.weight]! > fit.ndcgByWeight[0]! + 0.2, "\(fit.ndcgByWeight)")
        let rules = try #require(result.model.sequentialRules)
        #expect(rules.anchor == .newestItem)
        let bytes = ModelFile.encode(result.model)
        #expect(try ModelFile.decode(bytes).sequentialRules?.anchor == .newestItem)

        // Served: the user's newest item is in the history, the new session has no item yet.
        let model = try MultitaskModel(result.model)
        let user = events.filter { $0.userID == "user-0" }
        let input = try model.encode(model.input(forUser: "user-0", history: Array(user.dropLast()),
                                                 requestTimeMilliseconds: user.last!.timestampMs))
        #expect(input.sessionRows.isEmpty)
        let session = model.recommend([input], options: RecommendationOptions(perDomain: 1, session: 1, blended: 1))[0].session
        #expect(session.first?.item.id == user.last!.itemID)
    }

    /// One walk per user, every event a day after the previous one, so each is its own session:
    /// the rules count each user's training sequence across the gaps, learn the walks'
    /// successors, and help.
    @Test func rulesSpanSessionGaps() throws {
        let walks = successorWalks(sessions: 1, length: 8, gap: 25 * F.hour)
        let result = try Trainer(configuration: configuration()).train(events: walks, modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.weight > 0)
        #expect(fit.ndcgByWeight[fit.weight]! > fit.ndcgByWeight[0]! + 0.2, "\(fit.ndcgByWeight)")
        let rules = try #require(result.model.sequentialRules)
        let row = { (id: String) in result.model.catalog.row(domain: 0, id: id)! }
        #expect(rules.targets[rules.rules(from: row("v3")).first!] == Int32(row("v4")))
    }

    /// Sessions "a_p, hub, b_p": the newest item (the hub) is followed by every b equally often,
    /// so its rules cannot tell which b comes; the item before it can. The fit keeps a depth
    /// of at least 2, which ranks the right b first, and the model file carries it.
    @Test func aDeeperBlendIsKeptWhenTheItemBeforeTheNewestDecides() throws {
        let patterns = 8
        var events: [Medley_V1_SessionEvent] = []
        for u in 0..<30 {
            for s in 0..<4 {
                let p = (u + 3 * s) % patterns, start = Int64(s) * 24 * F.hour
                for (k, item) in ["a\(p)", "hub", "b\(p)"].enumerated() {
                    events.append(F.event("user-\(u)", "video", item, at: start + Int64(k) * F.minute))
                }
            }
        }
        events = events.enumerated().sorted { ($0.element.timestampMs, $0.offset) < ($1.element.timestampMs, $1.offset) }.map(\.element)
        let result = try Trainer(configuration: configuration()).train(events: events, modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.chosen.depth >= 2, "\(fit.ndcg)")
        let bestFromOneItem = fit.ndcg.filter { $0.key.depth == 1 }.values.max()!
        #expect(fit.ndcg[fit.chosen]! > bestFromOneItem + 0.2, "\(fit.ndcg)")
        #expect(fit.ndcg[fit.chosen]! > 0.99)
        #expect(result.summary.description.contains("depth \(fit.chosen.depth): "))
        let decoded = try ModelFile.decode(ModelFile.encode(result.model))
        #expect(decoded.sequentialRules?.depth == fit.chosen.depth)
        #expect(decoded.sequentialRules?.weight == fit.weight)
    }

    /// What the rules count: a user's events up to their last training target, in order and
    /// across session gaps, each later item at a distance d adding 1/d; the held-out
    /// validation target is not counted.
    @Test func theRulesCountEachUsersTrainingSequence() throws {
        let events = [F.event("alice", "video", "v1", at: 0), F.event("alice", "video", "v2", at: F.minute),
                      F.event("alice", "video", "v3", at: 5 * F.hour), F.event("alice", "video", "v4", at: 5 * F.hour + F.minute)]
        let data = try TrainingData(events: events, configuration: configuration())
        #expect(data.statistics.sessions == 2)
        let table = SequentialRulesBlend(steps: 2).rules(data)
        func rules(_ id: String) -> [String: Float] {
            let from = data.catalog.row(domain: 0, id: id)!
            return Dictionary(uniqueKeysWithValues: table.rules(from: from).map { (data.catalog.ids[Int(table.targets[$0])], table.strengths[$0]) })
        }
        #expect(rules("v1") == ["v2": 1, "v3": 0.5])
        #expect(rules("v2") == ["v3": 1])
        #expect(rules("v3").isEmpty)
    }

    /// A user who only repeats an item makes no transition: no rule is learned and the rules'
    /// weight stays 0; what helps is the repeat bias, since every target is the item the input
    /// already holds, and the model keeps the blend for it alone.
    @Test func withoutTransitionsNoRuleHelpsButARepeatBiasDoes() throws {
        let events = (0..<30).flatMap { u in
            (0..<4).map { k in F.event("user-\(u)", "video", "v\(u % 10)", at: Int64(k) * F.minute) }
        }.sorted { $0.timestampMs < $1.timestampMs }
        let result = try Trainer(configuration: configuration()).train(events: events, modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.rules == 0)
        #expect(fit.weight == 0)
        #expect(fit.chosen.repeatBias > 0)
        #expect(fit.ndcg[fit.chosen]! > 0.99, "\(fit.ndcgByRepeatBias)")
        #expect(fit.ndcgByRepeatBias[0]! < 0.9, "\(fit.ndcgByRepeatBias)")
        let blend = try #require(result.model.sequentialRules)
        #expect(blend.weight == 0 && blend.repeatBias == fit.chosen.repeatBias)
        #expect(result.summary.description.contains("by repeat bias at depth 1, weight 0.0: "))
    }

    /// Walks where no item comes back: a held item is never the target, so a negative bias can
    /// only lift the target's rank; with the rules off (weight 0) it is chosen when the model
    /// ranks held items above targets.
    @Test func itemsThatNeverComeBackGetANegativeBias() throws {
        var c = configuration()
        c.sequentialRules = SequentialRulesBlend(weights: [0])
        let result = try Trainer(configuration: c).train(events: successorWalks(items: 60, sessions: 2, length: 12), modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        let byBias = fit.ndcgByRepeatBias
        for (bias, ndcg) in byBias where bias < 0 { #expect(ndcg >= byBias[0]!, "\(byBias)") }
        for (bias, ndcg) in byBias where bias > 0 { #expect(ndcg <= byBias[0]!, "\(byBias)") }
        #expect(fit.chosen.repeatBias < 0, "\(byBias)")
    }

    /// The fit's ranks (the model's scores sorted once, corrected for the changed items) equal
    /// ranks counted over the fully blended scores of every item, for every choice.
    @Test func theFitsNDCGIsTheNDCGOfTheFullyBlendedScores() throws {
        let c = configuration()
        let events = successorWalks(items: 30, users: 20, sessions: 3, length: 6)
        let result = try Trainer(configuration: c).train(events: events, modelVersion: 1)
        let data = try TrainingData(events: events, configuration: c)
        let blend = SequentialRulesBlend(weights: [0, 0.5, 4], depths: [1, 3], repeatBiases: [-2, 0, 0.25])
        let table = blend.rules(data)
        let network = Network(configuration: result.model.configuration)
        let parameters = result.model.parameters
        let examples = data.validationExamples + data.trainingExamples.prefix(40)
        let ndcg = blend.fit(table, data: data, network: network, parameters: parameters, examples: examples, threads: 2, cores: 2)
        #expect(ndcg.count == 2 * 3 * 3)
        // The two shares in turn on one core: the same sums to the bit.
        #expect(blend.fit(table, data: data, network: network, parameters: parameters, examples: examples, threads: 2, cores: 1) == ndcg)
        let e = parameters[ParameterLayout.itemEmbedding].scalars, b = parameters[ParameterLayout.itemBias].scalars
        let d = result.model.configuration.embeddingDimension, n = data.catalog.count
        for (choice, fitted) in ndcg {
            var blended = table
            blended.weight = choice.weight
            blended.depth = choice.depth
            blended.repeatBias = choice.repeatBias
            var total = 0.0
            for example in examples {
                let input = data.encodedInput(example)
                let query = network.forward(input, parameters: parameters).sessionQuery
                // The model's scores as the fit computes them; the blend over every item.
                var scores = [Float](repeating: 0, count: n)
                SequentialRulesBlend.modelScores(query: query, embeddings: e, biases: b, dimension: d, into: &scores)
                blended.blend(&scores, for: input)
                total += F.ndcgTerm(scores: scores, target: scores[data.target(example).row])
            }
            #expect(abs(fitted - total / Double(examples.count)) < 1e-9, "\(choice)")
        }
    }

    @Test func rulesTurnedOffAreNeitherFittedNorWritten() throws {
        var c = configuration()
        c.sequentialRules = nil
        let result = try Trainer(configuration: c).train(events: successorWalks(), modelVersion: 1)
        #expect(result.summary.sequentialRules == nil)
        #expect(result.model.sequentialRules == nil)
    }

    @Test func theBlendIsCheckedWithTheConfiguration() {
        var c = configuration()
        c.sequentialRules = SequentialRulesBlend(weights: [])
        #expect(throws: TrainingError.self) { try c.validate() }
        c.sequentialRules = SequentialRulesBlend(weights: [0, 1, 1])
        #expect(throws: TrainingError.self) { try c.validate() }
        for depths in [[], [0], [1, SequentialRulesTable.maxDepth + 1], [2, 2]] {
            c.sequentialRules = SequentialRulesBlend(depths: depths)
            #expect(throws: TrainingError.self) { try c.validate() }
        }
        c.sequentialRules = SequentialRulesBlend(steps: 0)
        #expect(throws: TrainingError.self) { try c.validate() }
        for biases: [Float] in [[], [.nan], [0, -1, -1]] {
            c.sequentialRules = SequentialRulesBlend(repeatBiases: biases)
            #expect(throws: TrainingError.self) { try c.validate() }
        }
    }
}
