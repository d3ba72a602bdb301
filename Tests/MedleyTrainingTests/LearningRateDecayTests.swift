import MedleyModel
import Testing
@testable import MedleyTraining

/// The learning rate's step decay on plateaus: an epoch that does not improve the validation
/// metric lowers the rate of the epochs after it, and only such an epoch does.
@Suite struct LearningRateDecayTests {
    typealias F = TrainerFixtures

    private func summary(decay: Float?) throws -> TrainingSummary {
        var configuration = F.configuration(epochs: 8)
        configuration.validation = .lastEventsPerUser(1)
        configuration.learningRateDecayOnPlateau = decay
        return try Trainer(configuration: configuration).train(events: F.plantedStream(), modelVersion: 1).summary
    }

    @Test func eachEpochWithoutImprovementHalvesTheRateOfTheNext() throws {
        let epochs = try summary(decay: 0.5).epochs
        #expect(epochs.count == 8)
        #expect(epochs[0].learningRate == 0.01)
        for (epoch, next) in zip(epochs, epochs.dropFirst()) {
            #expect(next.learningRate == epoch.learningRate * (epoch.isBest ? 1 : 0.5))
        }
        // The stream has plateaus: some epoch trained at a lowered rate.
        #expect(epochs.contains { !$0.isBest })
        #expect(epochs.last!.learningRate < 0.01)
    }

    @Test func withoutDecayTheRateStaysAndTheFirstEpochsAreTheSame() throws {
        let constant = try summary(decay: nil).epochs
        #expect(constant.allSatisfy { $0.learningRate == 0.01 })
        // Up to the first epoch without improvement, decay changes nothing.
        let decayed = try summary(decay: 0.5).epochs
        let firstPlateau = try #require(constant.firstIndex { !$0.isBest })
        for e in 0...firstPlateau {
            #expect(decayed[e].stoppingMetric == constant[e].stoppingMetric)
            #expect(decayed[e].trainingLosses == constant[e].trainingLosses)
        }
    }

    @Test(arguments: [0, 1, -0.5, Float.nan] as [Float])
    func refusesAFactorOutsideZeroToOne(factor: Float) {
        var configuration = F.configuration()
        configuration.learningRateDecayOnPlateau = factor
        #expect(throws: TrainingError.self) { try configuration.validate() }
    }
}
