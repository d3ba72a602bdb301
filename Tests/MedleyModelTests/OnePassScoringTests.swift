import Testing
@testable import MedleyModel

/// The one-pass recommend path (every head's queries scored in one pass per domain block, the
/// session lists accumulated across blocks) gives the exact lists of scoring each head alone.
@Suite struct OnePassScoringTests {
    @Test(arguments: [1, 2, 7])
    func everyListEqualsTheExactListOfItsHead(batchSize: Int) throws {
        // Unequal domains, one larger than a scoring tile (4,096 items).
        let model = try Fixtures.catalogueModel(itemsPerDomain: [5_000, 1_200, 2_500])
        let inputs = try Fixtures.randomInputs(batchSize, model: model)
        let options = RecommendationOptions(perDomain: 10, session: 25, blended: 10)
        let results = model.recommend(inputs, options: options)
        for (input, result) in zip(inputs, results) {
            let pass = model.forward(input)
            let excluded = input.excludedRows
            #expect(!excluded.isEmpty)
            for (t, rows) in model.catalog.domainRanges.enumerated() {
                let exact = Fixtures.exactTopK(model: model, query: pass.domainQuery(t), rows: rows, k: 10, excluding: excluded)
                #expect(matchesExactRanking(result.perDomain[t], exact), "domain \(t)")
            }
            let exactSession = Fixtures.exactTopK(model: model, query: pass.sessionQuery, rows: 0..<model.catalog.count,
                                                  k: 25, excluding: excluded)
            #expect(matchesExactRanking(result.session, exactSession))
            #expect(Set(result.session.map { model.catalog.domainOfItem[$0.row] }).count > 1, "the session list spans domains")
        }
    }
}
