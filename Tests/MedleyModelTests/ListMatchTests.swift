import MedleyModel
import Testing

@Suite struct ListMatchTests {
    private func list(_ entries: [(Int, Float)]) -> [Recommendation] {
        entries.map { Recommendation(item: ItemReference(domain: "news", id: "n\($0.0)"), row: $0.0, score: $0.1) }
    }

    @Test func itemsTiedWithinRoundingMayTradePlaces() {
        let exact = list([(4, 3.25), (7, 1.5000001), (9, 1.5), (2, -0.75)])
        let swapped = list([(4, 3.25), (9, 1.5000001), (7, 1.5), (2, -0.75)])
        #expect(Recommendation.listsMatchUpToRounding(swapped, exact))
        // An item in place of another at the list's end, tied within rounding, matches too.
        let replaced = list([(4, 3.25), (7, 1.5000001), (9, 1.5), (5, -0.75000006)])
        #expect(Recommendation.listsMatchUpToRounding(replaced, exact))
    }

    @Test func aMissedItemOrAnotherLengthDoesNotMatch() {
        let exact = list([(4, 3.25), (7, 1.5), (9, 1.25), (2, -0.75)])
        // The third item missed: what took its place scores lower by far more than rounding.
        #expect(!Recommendation.listsMatchUpToRounding(list([(4, 3.25), (7, 1.5), (2, -0.75), (3, -0.8)]), exact))
        #expect(!Recommendation.listsMatchUpToRounding(Array(exact.prefix(3)), exact))
        #expect(!Recommendation.listsMatchUpToRounding(list([(4, 3.2501), (7, 1.5), (9, 1.25), (2, -0.75)]), exact))
    }
}
