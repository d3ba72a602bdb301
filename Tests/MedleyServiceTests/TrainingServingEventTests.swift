import MedleyEventConversion
import MedleyModel
import MedleyProtocol
import Testing

@testable import MedleyService
@testable import MedleyTraining

/// A logged event reaches the model the same way whether the trainer reads it from the log or
/// a worker holds it in a session: the client's weight and the dwell time included.
@Suite("One event, one conversion")
struct TrainingServingEventTests {
    @Test func theTrainerAndTheServiceEncodeAWeightedSessionAlike() throws {
        let start: Int64 = 1_700_000_000_000
        let items = ["m1", "v1", "m2", "v2", "m3"]
        let records = items.enumerated().map { index, item in
            Medley_V1_EventLogRecord.with {
                $0.sequence = UInt64(index + 1)
                $0.event = .with {
                    $0.userID = "ana"
                    $0.itemID = item
                    $0.domain = item.hasPrefix("m") ? "music" : "video"
                    $0.type = index == 2 ? .skip : .play
                    $0.timestampMs = start + Int64(index) * 60_000
                    $0.dwellMs = 30_000
                    // Weights far from the types' own (play 1.5, skip -1), one of them the default.
                    if index != 1 { $0.weight = Float(index) * 2.5 }
                }
            }
        }
        let configuration = TrainingConfiguration(
            model: ModelConfiguration(domains: ["video", "music"], embeddingDimension: 8, lastItemSlots: 2, hiddenDimensions: [16]),
            epochs: 1, batchSize: 8, validation: .none, earlyStopping: EarlyStopping(enabled: false), seed: 3)
        let data = try TrainingData(events: records.map(\.event), configuration: configuration)
        let model = try MultitaskModel(try ModelFileContents.initialized(
            configuration: configuration.model, catalog: data.catalog, users: data.users, seed: 1))

        let last = try #require(data.trainingExamples.max { $0.target < $1.target })
        let trained = data.encodedInput(last)

        // The service holds the events before the target in the user's session.
        let sessions = SessionStore()
        for record in records.dropLast() { sessions.apply(record, nowMs: start) }
        let held = try #require(sessions.session(for: "ana"))
        var served = try model.encode(ModelInput(
            userID: "ana", events: held.events, history: held.history,
            context: ContextFeatures.encode(timestampMilliseconds: records.last!.event.timestampMs),
            requestTimeMilliseconds: records.last!.event.timestampMs))
        served.excludedRows = []
        #expect(served.sessionWeights == trained.sessionWeights)
        #expect(served == trained)
        #expect(held.events.map(\.weight) == [0, nil, 5, 7.5])
    }
}
