import MedleyModel
import MedleyProtocol
@testable import MedleyTraining
@testable import MedleySystem

/// What the planted-order tests share: a one-domain model trained with equal task weights and
/// no dropout (they measure what the session encoder can learn, not the weighting), and the
/// session head's top item for an input.
enum PlantedOrder {
    static func train(_ events: [Medley_V1_SessionEvent], attention: SessionEncoderShape?, seed: UInt64 = 3) throws -> MultitaskModel {
        let configuration = TrainingConfiguration(
            model: ModelConfiguration(domains: ["video"], embeddingDimension: 16, lastItemSlots: 3, hiddenDimensions: [32],
                                      sessionEncoder: attention),
            epochs: 25, batchSize: 64, learningRate: 0.01, dropout: 0, taskWeighting: .equal, validation: .none,
            earlyStopping: EarlyStopping(enabled: false), seed: seed)
        return try MultitaskModel(try Trainer(configuration: configuration).train(events: events, modelVersion: 1).model)
    }

    /// The share of 64 trials whose top session-head item is X_pair when a_pair came first and
    /// Y_pair otherwise; each trial draws a pair, an order and three fillers (seeded) and
    /// `input` makes the model input for them.
    static func accuracy(_ model: MultitaskModel, pairs: Int, fillers: Int,
                         input: (_ trial: Int, _ pair: Int, _ aFirst: Bool, _ fillers: [Int]) throws -> EncodedInput) throws -> Double {
        var rng = SplitMix64(seed: 77)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var correct = 0
        let trials = 64
        for trial in 0..<trials {
            let pair = pick(pairs), aFirst = pick(2) == 0
            let encoded = try input(trial, pair, aFirst, (0..<3).map { _ in pick(fillers) })
            if topSessionItem(model, encoded) == (aFirst ? "x\(pair)" : "y\(pair)") { correct += 1 }
        }
        return Double(correct) / Double(trials)
    }

    /// The id of the item the session head ranks first.
    static func topSessionItem(_ model: MultitaskModel, _ input: EncodedInput) -> String {
        let scores = model.itemScores([input])[0].session
        return model.catalog.ids[scores.indices.max { scores[$0] < scores[$1] }!]
    }
}
