import MedleyModel
import MedleyProtocol
@testable import MedleyTraining

/// What the planted-order tests share: a one-domain model trained with equal task weights and
/// no dropout (they measure what the session encoder can learn, not the weighting), and the
/// session head's top item for an input.
enum PlantedOrder {
    static func train(_ events: [Medley_V1_SessionEvent], attention: SessionAttentionShape?) throws -> MultitaskModel {
        let configuration = TrainingConfiguration(
            model: ModelConfiguration(domains: ["video"], embeddingDimension: 16, lastItemSlots: 3, hiddenDimensions: [32],
                                      sessionAttention: attention),
            epochs: 25, batchSize: 64, learningRate: 0.01, dropout: 0, taskWeighting: .equal, validation: .none,
            earlyStopping: EarlyStopping(enabled: false), seed: 3)
        return try MultitaskModel(try Trainer(configuration: configuration).train(events: events, modelVersion: 1).model)
    }

    /// The id of the item the session head ranks first.
    static func topSessionItem(_ model: MultitaskModel, _ input: EncodedInput) -> String {
        let scores = model.itemScores([input])[0].session
        return model.catalog.ids[scores.indices.max { scores[$0] < scores[$1] }!]
    }
}
