import Foundation
import Testing
@testable import MedleyModel

/// Rules over the fixtures' nine items: a forward and a backward walk through the catalogue,
/// so every item has successors.
func fixtureRules(weight: Float) -> SequentialRulesTable {
    var table = SequentialRulesTable(sessions: [Array(0..<9), Array((0..<9).reversed()), [3, 5, 3, 7]],
                                     itemCount: 9, steps: 3, rulesPerItem: 4)
    table.weight = weight
    return table
}

@Suite("sequential rules")
struct SequentialRulesTests {
    @Test func rulesCountNearerSuccessorsMoreAndKeepTheStrongestScaledToOne() {
        let table = SequentialRulesTable(sessions: [[0, 1, 2, 3], [0, 1, 2], [0, 0, 1]], itemCount: 4, steps: 3, rulesPerItem: 2)
        let fromZero = table.rules(from: 0).map { (table.targets[$0], table.strengths[$0]) }
        // 0 → 1: 1 + 1, then 1 + 0.5 from [0, 0, 1] (the repeat 0, 0 is no transition) = 3.5;
        // 0 → 2: 0.5 + 0.5 = 1; 0 → 3: 1/3, pruned (two rules per item).
        #expect(fromZero.map(\.0) == [1, 2])
        #expect(fromZero.map(\.1) == [1, 1 / Float(3.5)])
        #expect(table.rules(from: 3).isEmpty)
        #expect(table.weight == 0)
    }

    @Test func theTableIsCheckedWhenRead() {
        func table(_ rowStart: [Int32], _ targets: [Int32], _ strengths: [Float], weight: Float = 1) throws(ModelFileError) {
            _ = try SequentialRulesTable(steps: 2, weight: weight, rowStart: rowStart, targets: targets, strengths: strengths, itemCount: 2)
        }
        #expect(throws: Never.self) { try table([0, 1, 1], [1], [1]) }
        #expect(throws: ModelFileError.self) { try table([0, 1], [1], [1]) }            // one entry short
        #expect(throws: ModelFileError.self) { try table([0, 2, 1], [1, 0], [1, 1]) }   // decreasing
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [2], [1]) }         // no item row 2
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [0]) }         // strength 0
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [1], weight: -1) }
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [.nan]) }
    }

    @Test func aModelFileKeepsItsRulesAndOneWithoutStaysAsItWas() throws {
        var contents = try Fixtures.randomContents()
        let without = ModelFile.encode(contents)
        #expect(!String(decoding: without.prefix(4096), as: UTF8.self).contains("session_rules"))
        contents.sequentialRules = fixtureRules(weight: 2.5)
        let decoded = try ModelFile.decode(ModelFile.encode(contents))
        #expect(decoded == contents)
        #expect(decoded.sequentialRules?.weight == 2.5)
    }

    /// The served session list is exactly the top K of "model score + weight × strength" over
    /// the whole catalogue, session items excluded.
    @Test(arguments: [Float(0.5), 3, 50])
    func theServedSessionListIsTheBlendedTopK(weight: Float) throws {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: weight)
        let model = try MultitaskModel(contents)
        let input = try model.encode(Fixtures.sessionInput)
        let k = 3
        let served = model.recommend([input], options: RecommendationOptions(perDomain: k, session: k, blended: k))[0].session

        let e = contents.parameters[ParameterLayout.itemEmbedding].scalars
        let b = contents.parameters[ParameterLayout.itemBias].scalars
        let query = model.forward(input).sessionQuery
        var scores = (0..<9).map { row in (0..<4).reduce(Float(0)) { $0 + query[$1] * e[row * 4 + $1] } + b[row] }
        contents.sequentialRules!.blend(&scores, after: input.newestSessionRow)
        let expected = (0..<9).filter { !input.excludedRows.contains($0) }
            .sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k)
        #expect(served.map(\.row) == Array(expected))
        for (item, row) in zip(served, expected) { #expect(abs(item.score - scores[row]) < 1e-5) }

        // The blend is what changed the list: without rules it differs at this weight.
        if weight == 50 {
            let plain = try MultitaskModel(try Fixtures.randomContents())
            let unblended = plain.recommend([try plain.encode(Fixtures.sessionInput)],
                                            options: RecommendationOptions(perDomain: k, session: k, blended: k))[0].session
            #expect(unblended.map(\.row) != served.map(\.row))
        }
    }
}
