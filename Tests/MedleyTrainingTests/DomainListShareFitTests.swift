import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining
@testable import MedleySystem

private typealias F = TrainerFixtures

private func configuration() -> TrainingConfiguration {
    var c = F.configuration(epochs: 3)
    c.validation = .lastEventsPerUser(1)
    return c
}

/// The head's output layer replaced by random values: a head that ranks by chance.
private func scrambled(_ contents: ModelFileContents, _ task: Task) -> ModelFileContents {
    var copy = contents
    let c = contents.configuration
    let name = ParameterLayout.headPrefix(task, domains: c.domains) + ".layers.\(c.towerHiddenDimensions.count).weight"
    let tensor = contents.parameters[name]
    var rng = SplitMix64(seed: 3)
    copy.parameters[name] = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { _ in rng.nextFloat(in: -1...1) })
    return copy
}

@Suite("domain lists' session share fit")
struct DomainListShareFitTests {
    /// The fit's NDCG of each share is the NDCG of the domain lists the model scores with that
    /// share (``MultitaskModel/itemScores(_:)``), each target ranked within its domain.
    @Test func theFitsNDCGIsTheNDCGOfTheDomainListsAsScored() throws {
        let c = configuration()
        let events = F.plantedStream()
        var trained = try Trainer(configuration: c).train(events: events, modelVersion: 1).model
        let data = try TrainingData(events: events, configuration: c)
        // Rules and a repeat bias, so that the lists take their share of the session blend too.
        var rules = SequentialRulesBlend().rules(data)
        rules.weight = 2
        rules.repeatBias = -1
        trained.sequentialRules = rules
        let fit = DomainListShareFit(shares: [0, 0.25, 1])
        let examples = data.validationExamples + data.trainingExamples.prefix(40)
        let ndcg = fit.fit(model: try MultitaskModel(trained), data: data, examples: examples, domains: [0, 1], threads: 2, cores: 2)
        #expect(ndcg.count == 3)
        // The two shares in turn on one core: the same sums to the bit.
        let oneCore = try MultitaskModel(trained)
        #expect(fit.fit(model: oneCore, data: data, examples: examples, domains: [0, 1], threads: 2, cores: 1) == ndcg)
        for (share, fitted) in ndcg {
            var contents = trained
            contents.domainListSessionShare = share
            let model = try MultitaskModel(contents)
            let scores = model.itemScores(examples.map { data.encodedInput($0) })
            var total = 0.0
            for (example, scored) in zip(examples, scores) {
                let target = data.target(example)
                let list = scored.domains[target.domain]
                total += F.ndcgTerm(scores: list, target: list[target.row - model.catalog.domainRanges[target.domain].lowerBound])
            }
            #expect(abs(fitted - total / Double(examples.count)) < 1e-9, "share \(share)")
        }
    }

    /// The fit moves the domain lists towards the head that ranks: all the way to the session
    /// head when the domain heads rank by chance, and to the domain heads when the session
    /// head does.
    @Test func theShareGoesToTheHeadThatRanks() throws {
        var c = configuration()
        c.sequentialRules = nil
        c.domainListShare = nil
        let events = F.plantedStream()
        let trained = try Trainer(configuration: c).train(events: events, modelVersion: 1).model
        let data = try TrainingData(events: events, configuration: c)
        let fit = DomainListShareFit()
        func ndcg(_ contents: ModelFileContents) throws -> [Float: Double] {
            fit.fit(model: try MultitaskModel(contents), data: data, examples: data.validationExamples, domains: [0, 1], threads: 2, cores: 2)
        }
        let chanceDomains = try ndcg(scrambled(scrambled(trained, .domain(0)), .domain(1)))
        let towardsSession = try #require(DomainListShareFit.best(chanceDomains))
        #expect(towardsSession >= 0.5, "\(chanceDomains)")
        #expect(chanceDomains[towardsSession]! > chanceDomains[0]! + 0.1, "\(chanceDomains)")

        let chanceSession = try ndcg(scrambled(trained, .session))
        let towardsDomains = try #require(DomainListShareFit.best(chanceSession))
        #expect(towardsDomains <= 0.5, "\(chanceSession)")
        #expect(chanceSession[towardsDomains]! > chanceSession[1]! + 0.1, "\(chanceSession)")
    }

    /// The trainer fits the share when it trains the session head and a domain head, writes it
    /// into the model and the summary, and leaves it out otherwise.
    @Test func theTrainerFitsTheShareOnlyWithBothKindsOfHead() throws {
        let events = F.plantedStream()
        let result = try Trainer(configuration: configuration()).train(events: events, modelVersion: 1)
        let fitted = try #require(result.summary.domainListShare)
        #expect(fitted.ndcg.count == DomainListShareFit().shares.count)
        #expect(result.model.domainListSessionShare == fitted.share)
        #expect(fitted.ndcg[fitted.share]! >= fitted.ndcg.values.max()!)
        #expect(result.summary.description.contains("domain lists: session share \(fitted.share) kept"))

        for task in [Task.domain(0), .session] {
            let single = try Trainer(configuration: configuration().singleTask(task)).train(events: events, modelVersion: 1)
            #expect(single.summary.domainListShare == nil, "\(task)")
            #expect(single.model.domainListSessionShare == 0)
        }
        var off = configuration()
        off.domainListShare = nil
        #expect(try Trainer(configuration: off).train(events: events, modelVersion: 1).model.domainListSessionShare == 0)
    }

    @Test func theSharesAreCheckedWithTheConfiguration() {
        var c = configuration()
        for shares: [Float] in [[], [-0.1], [0, 1.5], [0.5, 0.5], [.nan]] {
            c.domainListShare = DomainListShareFit(shares: shares)
            #expect(throws: TrainingError.self, "\(shares)") { try c.validate() }
        }
        c.domainListShare = DomainListShareFit(shares: [0, 1])
        #expect(throws: Never.self) { try c.validate() }
    }
}
