import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyEvaluation
@testable import MedleyTraining

@Suite struct ModelScorerTests {
    typealias F = TrainerFixtures

    /// A small trained model, the events it learned from, and those events indexed for the
    /// evaluation with one more user whose last event is an item the model never saw.
    private func fixture() throws -> (model: MultitaskModel, dataset: SequenceDataset, rules: SessionRules) {
        let events = F.plantedStream(warmPerCluster: 4, coldPerCluster: 1, sessions: 3)
        let configuration = F.configuration(epochs: 2)
        let model = try MultitaskModel(Trainer(configuration: configuration).train(events: events, modelVersion: 1).model)
        let stranger = [F.event("stranger", "video", "v0-1", at: 0), F.event("stranger", "music", "m1-2", at: F.minute),
                        F.event("stranger", "music", "never-seen", at: 2 * F.minute)]
        return (model, SequenceDataset(events: events + stranger), SessionRules(configuration: configuration))
    }

    /// The scorer's scores are `recommend`'s for the same input: the same top items in the same
    /// order, with the same scores, for each domain head and the session head.
    @Test func ranksAsRecommendDoesForTheSameInput() throws {
        let (model, dataset, rules) = try fixture()
        let domainScorer = ModelScorer(name: "domains", model: model, head: .domains, dataset: dataset, rules: rules)
        let sessionScorer = ModelScorer(name: "session", model: model, head: .session, dataset: dataset, rules: rules)
        let users = [0, 3, 7, dataset.userCount - 1]
        let queries = users.map { u in
            let position = dataset.sequences[u].count - 1
            return ScoringQuery(user: u, history: Array(dataset.sequences[u][..<position]), targetPosition: position)
        }
        let domainScores = domainScorer.scores(for: queries)
        let sessionScores = sessionScorer.scores(for: queries)
        for (q, query) in queries.enumerated() {
            let u = query.user
            let history = (0..<query.targetPosition).map { p in
                var event = Medley_V1_SessionEvent()
                let item = dataset.sequences[u][p]
                event.userID = dataset.userIDs[u]
                event.itemID = dataset.itemIDs[item]
                event.domain = dataset.domains[dataset.itemDomain[item]]
                event.type = dataset.eventTypes[u][p]
                event.timestampMs = dataset.timestamps[u][p]
                return event
            }
            let input = try model.encode(model.input(forUser: dataset.userIDs[u], history: history,
                                                     requestTimeMilliseconds: dataset.timestamps[u][query.targetPosition], rules: rules))
            let options = RecommendationOptions(perDomain: 5, session: 8, blended: 1)
            let recommended = model.recommend([input], options: options)[0]
            // The data set's index of a model row; excluded rows are left out as recommend does.
            func index(_ row: Int) -> Int {
                let domain = model.configuration.domains[model.catalog.domainOfItem[row]]
                return dataset.itemIDs.indices.first { dataset.itemIDs[$0] == model.catalog.ids[row] && dataset.domains[dataset.itemDomain[$0]] == domain }!
            }
            let excluded = Set(input.excludedRows.map(index))
            func top(_ scores: [Float], among candidates: Range<Int>, _ k: Int) -> [Int] {
                Array(candidates.filter { !excluded.contains($0) }.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(k))
            }
            let session = recommended.session
            #expect(top(sessionScores[q], among: 0..<dataset.itemCount, session.count) == session.map { index($0.row) })
            for r in session {
                #expect(abs(sessionScores[q][index(r.row)] - r.score) <= 1e-4 * max(1, abs(r.score)))
            }
            for (d, domain) in dataset.domains.enumerated() {
                let list = try #require(recommended.list(for: domain))
                #expect(top(domainScores[q], among: dataset.domainRanges[d], list.count) == list.map { index($0.row) })
                for r in list {
                    #expect(abs(domainScores[q][index(r.row)] - r.score) <= 1e-4 * max(1, abs(r.score)))
                }
            }
        }
        // Batched and single queries agree (up to the matrix kernel's summation order).
        let one = sessionScorer.scores(for: [queries[1]])[0]
        #expect(zip(one, sessionScores[1]).allSatisfy { $0 == $1 || abs($0 - $1) <= 1e-4 * max(1, abs($0)) })
    }

    /// An item the model does not know scores −infinity and ranks last; known items are finite.
    @Test func unknownItemsRankLast() throws {
        let (model, dataset, rules) = try fixture()
        let unknown = try #require(dataset.itemIDs.firstIndex(of: "never-seen"))
        let user = dataset.userCount - 1
        let position = dataset.sequences[user].count - 1
        #expect(dataset.sequences[user][position] == unknown)
        for head: ModelScorer.Head in [.domains, .session] {
            let scorer = ModelScorer(name: "m", model: model, head: head, dataset: dataset, rules: rules)
            let scores = scorer.scores(for: [ScoringQuery(user: user, history: [], targetPosition: position)])[0]
            #expect(scores[unknown] == -.infinity)
            #expect(scores.indices.filter { $0 != unknown }.allSatisfy { scores[$0].isFinite })
            let rank = RankingMetrics.rank(of: unknown, scores: scores, candidates: 0..<dataset.itemCount)
            #expect(rank == Double(dataset.itemCount - 1))
            #expect(scorer.scores(forHistory: [0, 1], user: user).count == dataset.itemCount)
        }
    }

    /// A single-task scorer reads each domain from its own model, and −infinity for a domain
    /// without one; a query goes through its target's domain's model alone, the other domains
    /// left at −infinity (a domain-heads scorer ranks a target among its own domain's items).
    @Test func singleTaskScorerReadsEachDomainsModel() throws {
        let (model, dataset, rules) = try fixture()
        let video = try #require(dataset.domains.firstIndex(of: "video"))
        let music = try #require(dataset.domains.firstIndex(of: "music"))
        let scorer = ModelScorer(name: "single", domainModels: ["video": model], dataset: dataset, rules: rules)
        let reference = ModelScorer(name: "multi", model: model, head: .domains, dataset: dataset, rules: rules)
        func query(targetDomain: Int) throws -> ScoringQuery {
            let (user, position) = try #require(dataset.sequences.indices.lazy.compactMap { u in
                dataset.sequences[u].indices.dropFirst().last { dataset.itemDomain[dataset.sequences[u][$0]] == targetDomain }.map { (u, $0) }
            }.first)
            return ScoringQuery(user: user, history: [], targetPosition: position)
        }
        let (videoTarget, musicTarget) = (try query(targetDomain: video), try query(targetDomain: music))
        let scores = scorer.scores(for: [videoTarget, musicTarget]), expected = reference.scores(for: [videoTarget])[0]
        #expect(dataset.domainRanges[video].allSatisfy { scores[0][$0] == expected[$0] })
        #expect(dataset.domainRanges[music].allSatisfy { scores[0][$0] == -.infinity })
        #expect(scores[1].allSatisfy { $0 == -.infinity }, "a music target: no music model, and the video model is not run")
    }
}
