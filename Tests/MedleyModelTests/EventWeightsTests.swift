import Testing
@testable import MedleyModel

@Suite struct EventWeightsTests {
    @Test func everyTypesPositionIsItsPlaceAmongAllCases() {
        #expect(EventType.allCases.map(\.position) == Array(EventType.allCases.indices))
    }

    @Test func eachTypeReadsItsOwnWeight() throws {
        // Distinct weights, so that a type reading another's slot shows.
        let weights = Dictionary(uniqueKeysWithValues: EventType.allCases.enumerated().map { ($1, Float($0) * 0.25 - 1) })
        let eventWeights = try EventWeights(weights)
        for type in EventType.allCases {
            #expect(eventWeights[type] == weights[type], "\(type)")
        }
        #expect(EventWeights.defaults[.like] == 3.0 && EventWeights.defaults[.dislike] == -1.5)
    }

    @Test func weightsAreEqualWhenTheirTypesWeighTheSame() throws {
        let weights = Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0, Float(1)) })
        var other = weights
        other[.skip] = 2
        #expect(try EventWeights(weights) == EventWeights(weights))
        #expect(try EventWeights(weights) != EventWeights(other))
    }
}
