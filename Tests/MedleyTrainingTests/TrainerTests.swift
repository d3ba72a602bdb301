import Foundation
import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining
@testable import MedleySystem

@Suite struct TrainerTests {
    typealias F = TrainerFixtures

    /// A stream with a sequence to learn: each user walks a fixed cycle of video items and of
    /// music items, starting at a random point.
    private func cycleStream(users: Int = 24, length: Int = 12, seed: UInt64 = 3) -> [Medley_V1_SessionEvent] {
        var rng = SplitMix64(seed: seed)
        var events: [Medley_V1_SessionEvent] = []
        for u in 0..<users {
            let start = Int(rng.next() % 8)
            for k in 0..<length {
                let domain = k % 2 == 0 ? "video" : "music"
                events.append(F.event("u\(u)", domain, "\(domain.first!)\((start + k) % 8)", at: Int64(k) * F.minute))
            }
        }
        return events
    }

    private func bits(_ parameters: ModelParameters) -> [String: [UInt32]] {
        parameters.tensors.mapValues { $0.scalars.map(\.bitPattern) }
    }

    @Test func sameSeedGivesBitIdenticalModels() throws {
        var configuration = F.configuration(epochs: 3)
        configuration.validation = .lastEventsPerUser(1)
        configuration.earlyStopping = EarlyStopping(metric: .hitRate(.session, at: 5), patience: 5)
        let events = cycleStream()
        let first = try Trainer(configuration: configuration).train(events: events, modelVersion: 4)
        let second = try Trainer(configuration: configuration).train(events: events, modelVersion: 4)
        #expect(bits(first.model.parameters) == bits(second.model.parameters))
        configuration.seed = 8
        let other = try Trainer(configuration: configuration).train(events: events, modelVersion: 4)
        #expect(bits(first.model.parameters) != bits(other.model.parameters))
    }

    /// The core limit runs the shards (and the validation's and the fits' shares) in turn
    /// instead of at once: the same model to the bit, the same fitted rules and share.
    @Test(arguments: [1, 2])
    func theCoreLimitChangesTheSpeedNotTheModel(cores: Int) throws {
        var configuration = F.configuration(epochs: 3)
        configuration.threads = 3
        configuration.validation = .lastEventsPerUser(1)
        configuration.earlyStopping = EarlyStopping(metric: .hitRate(.session, at: 5), patience: 5)
        let events = cycleStream()
        let unlimited = try Trainer(configuration: configuration).train(events: events, modelVersion: 4)
        configuration.cores = cores
        let limited = try Trainer(configuration: configuration).train(events: events, modelVersion: 4)
        #expect(bits(limited.model.parameters) == bits(unlimited.model.parameters))
        #expect(limited.model.sequentialRules == unlimited.model.sequentialRules)
        #expect(limited.model.domainListSessionShare == unlimited.model.domainListSessionShare)
        #expect(limited.summary.epochs.map(\.validation) == unlimited.summary.epochs.map(\.validation))
        #expect(unlimited.summary.sequentialRules != nil && unlimited.summary.domainListShare != nil)
    }

    @Test func refusesACoreLimitBelowOne() {
        var configuration = F.configuration()
        configuration.cores = 0
        #expect(throws: TrainingError.self) { try configuration.validate() }
    }

    @Test func lossDecreasesOnATinyStream() throws {
        let result = try Trainer(configuration: F.configuration(epochs: 10)).train(events: cycleStream(), modelVersion: 1)
        let first = try #require(result.summary.epochs.first), last = try #require(result.summary.epochs.last)
        for task: Task in [.domain(0), .domain(1), .session, .nextDomain] {
            let before = try #require(first.trainingLosses[task]), after = try #require(last.trainingLosses[task])
            #expect(after < before * 0.5, "\(task): \(before) → \(after)")
        }
        #expect(result.summary.stopReason == .completedEpochs)
        #expect(result.summary.description.contains("epoch 10"))
    }

    /// Progress arrives in order: started, then batch reports and one epoch report per epoch.
    @Test func reportsProgress() throws {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var entries: [String] = []
            func add(_ entry: String) { lock.withLock { entries.append(entry) } }
        }
        let log = Log()
        var configuration = F.configuration(epochs: 2)
        configuration.progressIntervalSeconds = 1e-9
        _ = try Trainer(configuration: configuration).train(events: cycleStream(), modelVersion: 1) { progress in
            switch progress {
            case .started: log.add("started")
            case .batches(let b): log.add(b.examplesPerSecond > 0 && b.taskLosses[.session] != nil ? "batch" : "bad batch")
            case .epochFinished(let e): log.add("epoch \(e.epoch)")
            }
        }
        #expect(log.entries.first == "started")
        #expect(log.entries.filter { $0.hasPrefix("epoch") } == ["epoch 1", "epoch 2"])
        #expect(log.entries.contains("batch") && !log.entries.contains("bad batch"))
    }

    /// Video follows a fixed cycle; music is uniformly random. Uncertainty weighting learns a
    /// larger log-variance, hence a smaller weight, for the noisier music head.
    @Test func uncertaintyWeightsFavourTheLessNoisyTask() throws {
        var rng = SplitMix64(seed: 9)
        var events: [Medley_V1_SessionEvent] = []
        for u in 0..<24 {
            let start = Int(rng.next() % 8)
            for k in 0..<16 {
                let video = k % 2 == 0
                let item = video ? "v\((start + k / 2) % 8)" : "m\(rng.next() % 8)"
                events.append(F.event("u\(u)", video ? "video" : "music", item, at: Int64(k) * F.minute))
            }
        }
        var configuration = F.configuration(epochs: 12)
        configuration.taskWeighting = .uncertainty
        let result = try Trainer(configuration: configuration).train(events: events, modelVersion: 1)
        let s = try #require(result.summary.epochs.last?.logVariances)
        let video = try #require(s[.domain(0)]), music = try #require(s[.domain(1)])
        #expect(music > video + 0.5, "s_video \(video), s_music \(music)")
        #expect(result.summary.description.contains("log-variances"))
    }

    @Test func sampledSoftmaxAboveTheThreshold() throws {
        var configuration = F.configuration(epochs: 10)
        configuration.sampledSoftmaxThreshold = 10  // the catalogue has 16 items, each domain 8
        configuration.sampledNegatives = 6
        let result = try Trainer(configuration: configuration).train(events: cycleStream(), modelVersion: 1)
        #expect(result.summary.sampledSessionHead)
        #expect(result.summary.sampledDomainHeads == [false, false])
        let first = try #require(result.summary.epochs.first?.trainingLosses[.session])
        let last = try #require(result.summary.epochs.last?.trainingLosses[.session])
        #expect(last < first * 0.7, "sampled session loss \(first) → \(last)")
        #expect(result.summary.description.contains("sampled for session"))
    }

    /// Validation targets are random, so validation loss soon rises while training memorises.
    @Test func earlyStoppingStopsAndKeepsTheBestEpoch() throws {
        var rng = SplitMix64(seed: 2)
        var events: [Medley_V1_SessionEvent] = []
        for u in 0..<20 {
            for k in 0..<8 {
                events.append(F.event("u\(u)", "music", "m\(rng.next() % 12)", at: Int64(k) * F.minute))
            }
        }
        var configuration = F.configuration(epochs: 60)
        configuration.learningRate = 0.03
        configuration.validation = .lastEventsPerUser(2)
        configuration.earlyStopping = EarlyStopping(metric: .validationLoss, patience: 2)
        let result = try Trainer(configuration: configuration).train(events: events, modelVersion: 1)
        let summary = result.summary
        #expect(summary.stopReason == .earlyStopping(patience: 2))
        #expect(summary.epochs.count < 60)
        #expect(summary.keptEpoch == summary.epochs.count - 2)
        #expect(summary.epochs[summary.keptEpoch - 1].isBest)
        #expect(summary.epochs.allSatisfy { $0.validation?.tasks[.session] != nil })
    }

    /// A single-task model trains only its head: the other heads keep their initial values.
    @Test func singleTaskTrainsOnlyItsHead() throws {
        var configuration = F.configuration(epochs: 2).singleTask(.domain(1))
        configuration.validation = .lastEventsPerUser(1)
        #expect(configuration.earlyStopping.metric == .hitRate(.domain(1), at: 10))
        let events = cycleStream()
        let data = try TrainingData(events: events, configuration: configuration)
        let result = try Trainer(configuration: configuration).train(data, modelVersion: 1)
        let initial = try ModelFileContents.initialized(configuration: configuration.model, catalog: data.catalog,
                                                        users: data.users, seed: configuration.seed)
        let trained = "heads.domain.music.layers.0.weight", untrained = "heads.session.layers.0.weight"
        #expect(result.model.parameters[trained].scalars != initial.parameters[trained].scalars)
        #expect(result.model.parameters[untrained].scalars == initial.parameters[untrained].scalars)
        #expect(Set(result.summary.epochs[0].trainingLosses.keys) == [.domain(1)])
    }

    /// A single-task domain head's epochs go through its domain's examples only (the others
    /// carry none of its loss), in batches as full as a multitask model's; with and without
    /// the session attention's chunks.
    @Test(arguments: [false, true])
    func aSingleTaskDomainHeadsBatchesHoldItsDomainsExamples(attention: Bool) throws {
        final class Batches: @unchecked Sendable {
            let lock = NSLock()
            var counts: Set<Int> = []
            func add(_ count: Int) { lock.withLock { _ = counts.insert(count) } }
        }
        func batchesPerEpoch(_ configuration: TrainingConfiguration) throws -> (batches: Set<Int>, examples: Int) {
            var configuration = configuration
            configuration.progressIntervalSeconds = 1e-9
            if attention {
                configuration.model.sessionEncoder = SessionEncoderShape(length: 4, blocks: 1, heads: 1, input: .session)
            }
            let batches = Batches()
            let result = try Trainer(configuration: configuration).train(events: cycleStream(), modelVersion: 1) { progress in
                if case .batches(let b) = progress { batches.add(b.batches) }
            }
            return (batches.counts, result.summary.examplesPerEpoch)
        }
        // 24 users × 12 events, alternating video and music: 264 targets, 144 of them music.
        let configuration = F.configuration(epochs: 1)
        #expect(try batchesPerEpoch(configuration) == ([5], 264))  // ⌈264 / 64⌉ batches
        #expect(try batchesPerEpoch(configuration.singleTask(.session)) == ([5], 264))
        #expect(try batchesPerEpoch(configuration.singleTask(.domain(1))) == ([3], 144))  // ⌈144 / 64⌉
        #expect(try batchesPerEpoch(configuration.singleTask(.domain(0))) == ([2], 120))  // ⌈120 / 64⌉
    }

    /// The examples an epoch goes through: all of them for a model that trains the session
    /// head, a domain's for its single-task head, the chunks keeping their examples together.
    @Test func lossBearingExamplesKeepTheChunksOfTheirDomain() throws {
        var configuration = F.configuration(epochs: 1)
        configuration.model.sessionEncoder = SessionEncoderShape(length: 4, blocks: 1, heads: 1, input: .session)
        let data = try TrainingData(events: cycleStream(), configuration: configuration)
        let chunks = try #require(data.sequenceChunks)
        let every = LossBearingExamples(data, trains: configuration.taskWeighting.trains)
        #expect(every.indices == Array(data.trainingExamples.indices))
        #expect(every.chunks == chunks.ranges.map(Array.init))
        let music = LossBearingExamples(data, trains: configuration.singleTask(.domain(1)).taskWeighting.trains)
        let expected = data.trainingExamples.indices.filter { data.target(data.trainingExamples[$0]).domain == 1 }
        #expect(music.indices == expected)
        let musicChunks = try #require(music.chunks)
        #expect(musicChunks.flatMap { $0 } == expected)
        #expect(musicChunks.allSatisfy { !$0.isEmpty })
        for chunk in musicChunks {
            let starts = Set(chunk.map { chunks.chunkStart(data.trainingExamples[$0], table: data.table) })
            #expect(starts.count == 1)
        }
    }

    @Test func writesAModelFileThatLoadsAndScores() throws {
        var configuration = F.configuration(epochs: 2)
        configuration.model.architecture = .mmoe(experts: 2)
        let result = try Trainer(configuration: configuration).train(events: cycleStream(), modelVersion: 42)
        let directory = try F.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("42.safetensors")
        try result.write(to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["42.safetensors"])
        let read = try ModelFile.read(url)
        #expect(read == result.model)
        #expect(read.configuration.modelVersion == 42)
        let model = try MultitaskModel(contentsOf: url)
        let history = cycleStream().filter { $0.userID == "u0" }
        let input = try model.encode(model.input(forUser: "u0", history: history))
        let scores = try #require(model.itemScores([input]).first)
        #expect(scores.domains.map(\.count) == model.catalog.domainRanges.map(\.count))
        #expect(scores.session.count == model.catalog.count)
        // The scores are the serving model's: its top item per domain is the best score.
        let recommendations = try #require(model.recommend([input]).first)
        for (k, list) in recommendations.perDomain.enumerated() {
            let top = try #require(list.first)
            let best = scores.domains[k].indices.filter { !input.excludedRows.contains(model.catalog.domainRanges[k].lowerBound + $0) }
                .max { scores.domains[k][$0] < scores.domains[k][$1] }!
            #expect(abs(top.score - scores.domains[k][best]) < 1e-4)
        }
    }

    @Test func refusesIncompatibleDataAndBadSettings() throws {
        let configuration = F.configuration()
        let data = try TrainingData(events: cycleStream(), configuration: configuration)
        var other = configuration
        other.sessionGapMilliseconds = F.minute
        #expect(throws: TrainingError.self) { try Trainer(configuration: other).train(data, modelVersion: 1) }
        var bad = configuration
        bad.taskWeighting = .only(.domain(0))
        bad.validation = .lastEventsPerUser(1)
        bad.earlyStopping = EarlyStopping(metric: .hitRate(.session, at: 10))
        #expect(throws: TrainingError.self) { try bad.validate() }
        bad = configuration
        bad.taskWeighting = .fixed([.session: .nan])
        #expect(throws: TrainingError.self) { try bad.validate() }
    }
}
