import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

private typealias F = TrainerFixtures

/// Sessions that walk the catalogue in order (v0, v1, v2, …): the next item is always the
/// last one's successor, which a rule learns at once and a barely trained model does not.
private func successorWalks(items: Int = 40, users: Int = 30, sessions: Int = 4, length: Int = 5,
                            gap: Int64 = F.minute) -> [Medley_V1_SessionEvent] {
    var events: [Medley_V1_SessionEvent] = []
    for u in 0..<users {
        for s in 0..<sessions {
            let first = (u * 7 + s * 13) % items
            let start = Int64(s) * 24 * F.hour
            for k in 0..<length {
                events.append(F.event("user-\(u)", "video", "v\((first + k) % items)", at: start + Int64(k) * gap))
            }
        }
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

    @Test func withoutSessionItemsTheRulesCannotHelpAndTheModelHasNone() throws {
        // Every event a day after the previous one: each is its own session, so no validation
        // example has a session item for a rule to start from.
        let result = try Trainer(configuration: configuration()).train(events: successorWalks(gap: 25 * F.hour), modelVersion: 1)
        let fit = try #require(result.summary.sequentialRules)
        #expect(fit.weight == 0)
        #expect(result.model.sequentialRules == nil)
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
        c.sequentialRules = SequentialRulesBlend(steps: 0)
        #expect(throws: TrainingError.self) { try c.validate() }
    }
}
