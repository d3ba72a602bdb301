import Dispatch
import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyEvaluation
@testable import MedleyTraining

/// An evaluation's models trained side by side: the lanes really run at once, stop starting
/// jobs after a failure, and give the very models trained one after another.
@Suite struct ModelScheduleTests {
    typealias F = TrainerFixtures

    /// Each job waits for the other to have started: only lanes that run at the same time let
    /// both finish before the timeout.
    @Test func twoLanesRunTwoJobsAtTheSameTime() {
        let started = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
        let results = Parallel.inLanes(2, lanes: 2) { (j: Int) -> Result<Int, TrainingError> in
            started[j].signal()
            return started[1 - j].wait(timeout: .now() + 20) == .success ? .success(j) : .failure(.diverged(epoch: 0, batch: j))
        }
        #expect(results.map { try? $0?.get() } == [0, 1])
    }

    @Test func noJobStartsAfterAFailureAndResultsKeepTheirOrder() {
        let results = Parallel.inLanes(5, lanes: 1) { (j: Int) -> Result<Int, TrainingError> in
            j == 2 ? .failure(.diverged(epoch: 1, batch: 1)) : .success(j * 10)
        }
        #expect(results.count == 5)
        #expect(results.prefix(2).map { try? $0?.get() } == [0, 10])
        guard case .failure = results[2] else { Issue.record("job 2 should have failed"); return }
        #expect(results[3] == nil && results[4] == nil)
    }

    @Test func domainHeadsStartWithTheDomainOfMostTrainingEvents() {
        var events: [Medley_V1_SessionEvent] = []
        // Training parts: news 1, video 3, music 3 (ties in index order); one test event more of news each.
        for (user, domains) in [("a", ["video", "music", "news", "news"]), ("b", ["music", "video", "video", "news"]),
                                ("c", ["music", "news"])] {
            for (k, domain) in domains.enumerated() {
                events.append(F.event(user, domain, "\(domain)-\(k)", at: Int64(k) * F.minute))
            }
        }
        let dataset = SequenceDataset(events: events)
        let lengths = dataset.sequences.map { $0.count - 1 }
        let order = ModelEvaluation.domainsByTrainingEvents(dataset: dataset, trainingLength: lengths)
        let video = dataset.domains.firstIndex(of: "video")!, music = dataset.domains.firstIndex(of: "music")!
        let news = dataset.domains.firstIndex(of: "news")!
        #expect(order == [min(video, music), max(video, music), news], "domains \(dataset.domains)")
    }

    @Test func modelsTrainedSideBySideAreTheModelsTrainedInTurn() throws {
        let dataset = SequenceDataset(events: F.plantedStream())
        let lengths = dataset.sequences.map { $0.count - 1 }
        func train(_ modelsAtOnce: Int) throws -> ModelEvaluation.Models {
            var training = F.configuration(epochs: 2)
            training.validation = .lastEventsPerUser(1)
            training.earlyStopping = EarlyStopping(metric: .hitRate(.session, at: 5), patience: 5)
            let configuration = ModelEvaluation.Configuration(
                training: training, singleTaskHeads: .all,
                variants: [.init(architecture: .mmoe(experts: 2), taskWeighting: .equal)], modelsAtOnce: modelsAtOnce)
            return try ModelEvaluation.train(dataset: dataset, trainingLength: lengths, configuration: configuration)
        }
        let inTurn = try train(1), sideBySide = try train(2)
        func bits(_ model: MultitaskModel) -> [String: [UInt32]] { model.parameters.tensors.mapValues { $0.scalars.map(\.bitPattern) } }
        #expect(bits(sideBySide.multitask) == bits(inTurn.multitask))
        #expect(sideBySide.multitask.contents.domainListSessionShare == inTurn.multitask.contents.domainListSessionShare)
        #expect(Set(sideBySide.singleTask.keys) == [.session, .domain(0), .domain(1)])
        for (task, trained) in inTurn.singleTask {
            #expect(bits(try #require(sideBySide.singleTask[task]).model) == bits(trained.model), "\(task)")
        }
        #expect(sideBySide.variants.map(\.variant) == inTurn.variants.map(\.variant))
        #expect(bits(try #require(sideBySide.variants.first).trained.model) == bits(try #require(inTurn.variants.first).trained.model))
        #expect(inTurn.schedule?.modelsAtOnce == 1)
        #expect(sideBySide.schedule?.modelsAtOnce == 2)
        #expect(sideBySide.schedule?.coresEach == max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
    }
}
