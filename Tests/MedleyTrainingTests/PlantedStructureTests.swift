import MedleyModel
import MedleyProtocol
import Testing
@testable import MedleyTraining

/// The planted structure of ``TrainerFixtures/plantedStream``: a user's cluster in video is
/// their cluster in music. Users with only video history ("cold in music") must get music of
/// their cluster from the multitask model, which learns the link from warm users, while
/// popularity and a music-only model cannot know it.
@Suite struct PlantedStructureTests {
    typealias F = TrainerFixtures

    /// An item's planted cluster, from its id ("m2-7" is in cluster 2).
    private func cluster(_ id: String) -> Int { Int(id.dropFirst().prefix { $0 != "-" })! }

    /// A user's planted cluster, from their id ("cold-2-11" likes cluster 2).
    private func userCluster(_ user: String) -> Int { Int(user.split(separator: "-")[1])! }

    /// Mean share of same-cluster items among the top 10 music items of each cold user.
    private func coldUserPrecision(_ model: MultitaskModel, events: [Medley_V1_SessionEvent], after delay: Int64) throws -> Double {
        let coldUsers = Set(events.map(\.userID).filter { $0.hasPrefix("cold-") })
        let music = model.catalog.domainRanges[1]
        var total = 0.0
        for user in coldUsers.sorted() {
            let history = events.filter { $0.userID == user }
            let input = try model.encode(model.input(forUser: user, history: history,
                                                     requestTimeMilliseconds: history.last!.timestampMs + delay))
            let scores = model.itemScores([input])[0].domains[1]
            let top = scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(10)
            let planted = userCluster(user)
            total += Double(top.filter { cluster(model.catalog.ids[music.lowerBound + $0]) == planted }.count) / 10
        }
        return total / Double(coldUsers.count)
    }

    @Test func multitaskModelTransfersTasteToColdDomains() throws {
        let events = F.plantedStream()
        let configuration = F.configuration(epochs: 12)
        let data = try TrainingData(events: events, configuration: configuration)
        let multitask = try MultitaskModel(Trainer(configuration: configuration).train(data, modelVersion: 1).model)

        let single = configuration.singleTask(.domain(1))
        let musicOnly = try MultitaskModel(Trainer(configuration: single).train(data, modelVersion: 1).model)

        // Popularity: the 10 music items most often a training target.
        let music = data.catalog.domainRanges[1]
        let popular = music.sorted { (data.itemCounts[$0], -$0) > (data.itemCounts[$1], -$1) }.prefix(10)
        let coldUsers = Set(events.map(\.userID).filter { $0.hasPrefix("cold-") })
        let popularity = coldUsers.map { user in
            Double(popular.filter { cluster(data.catalog.ids[$0]) == userCluster(user) }.count) / 10
        }.reduce(0, +) / Double(coldUsers.count)

        // A day after their last event: a new session, so only the learned user vector speaks.
        // The music-only model never trained a cold user's vector.
        let multitaskNextDay = try coldUserPrecision(multitask, events: events, after: 24 * F.hour)
        let musicOnlyNextDay = try coldUserPrecision(musicOnly, events: events, after: 24 * F.hour)
        // A minute after: their video session speaks too, which the music-only model saw as
        // input in warm users' mixed sessions.
        let multitaskInSession = try coldUserPrecision(multitask, events: events, after: F.minute)
        let musicOnlyInSession = try coldUserPrecision(musicOnly, events: events, after: F.minute)
        // Chance and popularity are 1/4 (four clusters of equal size).
        #expect(multitaskNextDay >= 0.45, "multitask \(multitaskNextDay)")
        #expect(multitaskNextDay > popularity + 0.2, "multitask \(multitaskNextDay), popularity \(popularity)")
        #expect(multitaskNextDay > musicOnlyNextDay + 0.2, "multitask \(multitaskNextDay), music only \(musicOnlyNextDay)")
        #expect(multitaskInSession > popularity + 0.2, "multitask \(multitaskInSession), popularity \(popularity)")
        #expect(multitaskInSession > musicOnlyInSession + 0.2,
                "multitask \(multitaskInSession), music only \(musicOnlyInSession)")
    }
}
