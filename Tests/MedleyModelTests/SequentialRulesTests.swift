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
            _ = try SequentialRulesTable(steps: 2, weight: weight, anchor: .newestItem, rowStart: rowStart, targets: targets, strengths: strengths, itemCount: 2)
        }
        #expect(throws: Never.self) { try table([0, 1, 1], [1], [1]) }
        #expect(throws: ModelFileError.self) { try table([0, 1], [1], [1]) }            // one entry short
        #expect(throws: ModelFileError.self) { try table([0, 2, 1], [1, 0], [1, 1]) }   // decreasing
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [2], [1]) }         // no item row 2
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [0]) }         // strength 0
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [1], weight: -1) }
        #expect(throws: ModelFileError.self) { try table([0, 1, 1], [1], [.nan]) }
        #expect(throws: ModelFileError.invalidMetadata(key: "session_rules", reason: "item row 0 has two rules to item row 1")) {
            try table([0, 2, 2], [1, 1], [1, 0.5])
        }
        #expect(throws: Never.self) { try table([0, 1, 2], [1, 0], [1, 1]) }   // the same target from two items
        for depth in [0, SequentialRulesTable.maxDepth + 1] {
            #expect(throws: ModelFileError.self) {
                _ = try SequentialRulesTable(steps: 2, weight: 1, anchor: .newestItem, depth: depth, rowStart: [0, 1, 1],
                                             targets: [1], strengths: [1], itemCount: 2)
            }
        }
    }

    /// With depth D the rules start from the input's D newest known items, the session's
    /// newest first and then (for `newest_item`) the history's, and the k-th adds its rules'
    /// strengths divided by k.
    @Test func deeperRulesAddTheNewestItemsRulesDividedByTheirRank() throws {
        var rules = fixtureRules(weight: 2)
        let input = EncodedInput(userRow: nil, foldInRows: [], sessionRows: [4, 6], sessionWeights: [0.5, 0.5],
                                 lastItemRows: [6, 4], context: [], recentHistoryRows: [1, 8, 0])
        #expect(rules.anchorRows(for: input) == [6])
        #expect(rules.anchorRows(for: input, depth: 4) == [6, 4, 1, 8])
        #expect(rules.anchorRows(for: input, depth: SequentialRulesTable.maxDepth) == [6, 4, 1, 8, 0])
        rules.anchor = .session
        #expect(rules.anchorRows(for: input, depth: 4) == [6, 4])
        rules.anchor = .newestItem

        func strengths(from row: Int) -> [Int: Float] {
            Dictionary(uniqueKeysWithValues: rules.rules(from: row).map { (Int(rules.targets[$0]), rules.strengths[$0]) })
        }
        rules.depth = 3
        var expected: [Int: Float] = [:]
        for (k, anchor) in [6, 4, 1].enumerated() {
            for (target, strength) in strengths(from: anchor) { expected[target, default: 0] += strength / Float(k + 1) }
        }
        let boosts = rules.boosts(for: input)
        #expect(boosts.map(\.row) == expected.keys.sorted(), "one entry per target, in row order")
        #expect(Dictionary(uniqueKeysWithValues: boosts.map { ($0.row, $0.boost) }) == expected)
        #expect(Set(boosts.map(\.row)) == Set(strengths(from: 6).keys).union(strengths(from: 4).keys).union(strengths(from: 1).keys))
        #expect(Dictionary(uniqueKeysWithValues: rules.boosts(for: input, depth: 1).map { ($0.row, $0.boost) }) == strengths(from: 6))
        #expect(rules.largestAddition == 2 * (1 + 1 / Float(2) + 1 / Float(3)))

        var scores = [Float](repeating: 1, count: 9)
        rules.blend(&scores, for: input)
        #expect(scores == (0..<9).map { 1 + 2 * (expected[$0] ?? 0) })
    }

    /// The repeat bias adds to the items the input holds (its known session items and its
    /// newest history items), after the rules; the additions list both kinds once, in row order.
    @Test func theRepeatBiasAddsToTheItemsTheInputHoldsAfterTheRules() throws {
        var rules = fixtureRules(weight: 2)
        rules.depth = 2
        rules.repeatBias = -3
        let input = EncodedInput(userRow: nil, foldInRows: [], sessionRows: [4, 6, 4], sessionWeights: [0.25, 0.5, 0.25],
                                 lastItemRows: [4, 6], context: [], recentHistoryRows: [1, 8])
        #expect(SequentialRulesTable.repeatRows(for: input) == [1, 4, 6, 8])
        let boosts = Dictionary(uniqueKeysWithValues: rules.boosts(for: input).map { ($0.row, $0.boost) })
        let additions = rules.additions(for: input)
        #expect(additions.map(\.row) == Set(boosts.keys).union([1, 4, 6, 8]).sorted(), "each changed item once, in row order")
        for addition in additions {
            #expect(addition.boost == (boosts[addition.row] ?? 0))
            #expect(addition.repeated == [1, 4, 6, 8].contains(addition.row))
        }
        var scores = [Float](repeating: 1, count: 9)
        rules.blend(&scores, for: input)
        #expect(scores == (0..<9).map { row in
            let ruled = 1 + 2 * (boosts[row] ?? 0)
            return [1, 4, 6, 8].contains(row) ? ruled + -3 : ruled
        })
        #expect(rules.largestAddition == 2 * (1 + 1 / Float(2)) + 3)
        // Only a negative bias pushes items down, and only those not excluded anyway.
        var excluding = input
        excluding.excludedRows = [4, 6]
        #expect(rules.demotedCount(among: additions, excluded: input.excludedRows) == 4
            && rules.demotedCount(among: additions, excluded: excluding.excludedRows) == 2)
        rules.repeatBias = 0.5
        #expect(rules.demotedCount(among: rules.additions(for: input), excluded: input.excludedRows) == 0)
        // With weight 0 only the repeat bias is left; with both 0, nothing.
        rules.weight = 0
        #expect(rules.additions(for: input) == [1, 4, 6, 8].map { BlendAddition(row: $0, boost: 0, repeated: true) })
        rules.repeatBias = 0
        #expect(rules.additions(for: input).isEmpty)
        #expect(throws: ModelFileError.self) {
            _ = try SequentialRulesTable(steps: 2, weight: 1, anchor: .newestItem, repeatBias: .infinity, rowStart: [0, 1, 1],
                                         targets: [1], strengths: [1], itemCount: 2)
        }
    }

    /// The served list is the blended top K also when the repeat bias pushes the model's own
    /// best items down (session items not excluded): the model's list must hold enough items
    /// for the ones that rise into their place.
    @Test(arguments: [Float(-50), -0.3, 0.3, 50])
    func theServedSessionListIsTheBlendedTopKWithARepeatBias(repeatBias: Float) throws {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: 0.5)
        contents.sequentialRules!.repeatBias = repeatBias
        let model = try MultitaskModel(contents)
        var request = Fixtures.sessionInput
        request.history = Fixtures.userHistory
        let input = try model.encode(request, excludeSessionItems: false)
        for k in [1, 3, 5] {
            let served = sessionList(model, input, k: k)
            let expected = blendedTopK(model, input, k: k)
            #expect(served.map(\.row) == expected.map(\.row), "k = \(k)")
            for (item, wanted) in zip(served, expected) { #expect(abs(item.score - wanted.score) < 1e-5) }
        }
        if repeatBias == -50 {
            // Six of the nine items are held: the other three lead the list, and without the
            // bias some held item was among the top three.
            let held = Set(SequentialRulesTable.repeatRows(for: input))
            #expect(held.count == 6)
            #expect(sessionList(model, input, k: 3).allSatisfy { !held.contains($0.row) })
            var unbiased = contents
            unbiased.sequentialRules!.repeatBias = 0
            #expect(sessionList(try MultitaskModel(unbiased), input, k: 3).contains { held.contains($0.row) })
        }
    }

    @Test func aModelFileKeepsItsRulesAndOneWithoutStaysAsItWas() throws {
        var contents = try Fixtures.randomContents()
        let without = ModelFile.encode(contents)
        #expect(!String(decoding: without.prefix(4096), as: UTF8.self).contains("session_rules"))
        contents.sequentialRules = fixtureRules(weight: 2.5)
        let bytes = ModelFile.encode(contents)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(decoded.sequentialRules?.weight == 2.5)
        #expect(decoded.sequentialRules?.anchor == .newestItem)
        let metadata = ModelFileBytes.split(bytes).header["__metadata__"] as? [String: String]
        #expect(metadata?["session_rules_anchor"] == "newest_item")
        contents.sequentialRules!.anchor = .session
        #expect(try ModelFile.decode(ModelFile.encode(contents)) == contents)
        // A file written before the key existed starts its rules from the session.
        let older = try ModelFile.decode(ModelFileBytes.editingMetadata(bytes) { $0.removeValue(forKey: "session_rules_anchor") })
        #expect(older.sequentialRules?.anchor == .session)
        // The depth: written always, 1 when absent (files written before the key existed).
        #expect(metadata?["session_rules_depth"] == "1")
        contents.sequentialRules!.depth = 5
        let deeper = ModelFile.encode(contents)
        #expect(try ModelFile.decode(deeper).sequentialRules?.depth == 5)
        let withoutDepth = try ModelFile.decode(ModelFileBytes.editingMetadata(deeper) { $0.removeValue(forKey: "session_rules_depth") })
        #expect(withoutDepth.sequentialRules?.depth == 1)
        for bad in ["0", "11", "two"] {
            #expect(throws: ModelFileError.invalidMetadata(key: "session_rules_depth", reason: "\"\(bad)\" is not an integer in 1...10")) {
                try ModelFile.decode(ModelFileBytes.editingMetadata(deeper) { $0["session_rules_depth"] = bad })
            }
        }
        // The repeat bias: written only when not 0, 0 when absent.
        #expect(metadata?["session_rules_repeat_bias"] == nil)
        contents.sequentialRules!.repeatBias = -8
        let biased = ModelFile.encode(contents)
        #expect(try ModelFile.decode(biased).sequentialRules?.repeatBias == -8)
        #expect((ModelFileBytes.split(biased).header["__metadata__"] as? [String: String])?["session_rules_repeat_bias"] == "-8.0")
        let withoutBias = try ModelFile.decode(ModelFileBytes.editingMetadata(biased) { $0.removeValue(forKey: "session_rules_repeat_bias") })
        #expect(withoutBias.sequentialRules?.repeatBias == 0)
        for bad in ["nan", "inf", "minus eight"] {
            #expect(throws: ModelFileError.invalidMetadata(key: "session_rules_repeat_bias", reason: "\"\(bad)\" is not a finite number")) {
                try ModelFile.decode(ModelFileBytes.editingMetadata(biased) { $0["session_rules_repeat_bias"] = bad })
            }
        }
        #expect(throws: ModelFileError.invalidMetadata(key: "session_rules_anchor", reason: "unknown value \"history\" (one of session, newest_item)")) {
            try ModelFile.decode(ModelFileBytes.editingMetadata(bytes) { $0["session_rules_anchor"] = "history" })
        }
    }

    /// The top `k` of the session head's scores over the whole catalogue with the model's rules
    /// blended in from the input's anchor, excluded rows left out: what the served list must be.
    private func blendedTopK(_ model: MultitaskModel, _ input: EncodedInput, k: Int) -> [(row: Int, score: Float)] {
        let contents = model.contents
        let e = contents.parameters[ParameterLayout.itemEmbedding].scalars
        let b = contents.parameters[ParameterLayout.itemBias].scalars
        let query = model.forward(input).sessionQuery
        var scores = (0..<9).map { row in (0..<4).reduce(Float(0)) { $0 + query[$1] * e[row * 4 + $1] } + b[row] }
        contents.sequentialRules?.blend(&scores, for: input)
        return (0..<9).filter { !input.excludedRows.contains($0) }
            .sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }.prefix(k).map { ($0, scores[$0]) }
    }

    private func sessionList(_ model: MultitaskModel, _ input: EncodedInput, k: Int) -> [Recommendation] {
        model.recommend([input], options: RecommendationOptions(perDomain: k, session: k, blended: k))[0].session
    }

    /// The served session list is exactly the top K of "model score + weight × strength" over
    /// the whole catalogue, session items excluded.
    @Test(arguments: [Float(0.5), 3, 50], [1, 3])
    func theServedSessionListIsTheBlendedTopK(weight: Float, depth: Int) throws {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: weight)
        contents.sequentialRules!.depth = depth
        let model = try MultitaskModel(contents)
        let input = try model.encode(Fixtures.sessionInput)
        let k = 3
        let served = sessionList(model, input, k: k)
        let expected = blendedTopK(model, input, k: k)
        #expect(served.map(\.row) == expected.map(\.row))
        for (item, wanted) in zip(served, expected) { #expect(abs(item.score - wanted.score) < 1e-5) }

        // The blend is what changed the list: without rules it differs at this weight, and the
        // deeper blend's list differs from the one-item blend's.
        if weight == 50 && depth == 3 {
            var shallow = contents
            shallow.sequentialRules!.depth = 1
            let one = try MultitaskModel(shallow)
            #expect(sessionList(one, input, k: 9).map(\.row) != sessionList(model, input, k: 9).map(\.row))
        }
        if weight == 50 {
            let plain = try MultitaskModel(try Fixtures.randomContents())
            #expect(sessionList(plain, try plain.encode(Fixtures.sessionInput), k: k).map(\.row) != served.map(\.row))
        }
    }

    /// A request that opens a session (no known session item yet) after earlier sessions: the
    /// rules start from the newest history item the model knows (n3, row 2; the unknown item
    /// after it is skipped), whose strongest rules (to n2 and v1, rows 1 and 3) lead the list.
    @Test func aRequestThatOpensASessionBlendsTheRulesOfTheNewestHistoryItem() throws {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: 50)
        let model = try MultitaskModel(contents)
        var request = Fixtures.sessionInput
        request.events = []
        request.history = Fixtures.userHistory + [ItemReference(domain: "music", id: "unknown")]
        let input = try model.encode(request)
        #expect(input.sessionRows.isEmpty && input.newestHistoryRow == 2)
        #expect(contents.sequentialRules!.anchorRows(for: input) == [2])
        let k = 3
        let served = sessionList(model, input, k: k)
        #expect(served.map(\.row) == blendedTopK(model, input, k: k).map(\.row))
        #expect(served.prefix(2).map(\.row) == [1, 3])

        // Without rules, or with rules anchored at the session (which has no item), the list is
        // the model's own.
        let plain = try MultitaskModel(try Fixtures.randomContents())
        let unblended = sessionList(plain, try plain.encode(request), k: k)
        #expect(unblended.map(\.row) != served.map(\.row))
        contents.sequentialRules!.anchor = .session
        let sessionAnchored = try MultitaskModel(contents)
        #expect(sessionList(sessionAnchored, input, k: k) == unblended)
    }

    /// A file written before `session_rules_anchor` existed keeps its scores: the rules start
    /// from the session's newest item only, and a request without one gets none.
    @Test func anOldFileWithoutTheAnchorKeyBlendsFromTheSessionOnly() throws {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: 50)
        let bytes = ModelFileBytes.editingMetadata(ModelFile.encode(contents)) { $0.removeValue(forKey: "session_rules_anchor") }
        let old = try MultitaskModel(try ModelFile.decode(bytes))
        let plain = try MultitaskModel(try Fixtures.randomContents())
        let k = 3

        var opening = Fixtures.sessionInput
        opening.events = []
        opening.history = Fixtures.userHistory
        let openingInput = try old.encode(opening)
        #expect(openingInput.newestHistoryRow != nil)
        #expect(sessionList(old, openingInput, k: k) == sessionList(plain, try plain.encode(opening), k: k))

        let inSession = try old.encode(Fixtures.sessionInput)
        let served = sessionList(old, inSession, k: k)
        #expect(served.map(\.row) == blendedTopK(old, inSession, k: k).map(\.row))
        #expect(served.map(\.row) != sessionList(plain, try plain.encode(Fixtures.sessionInput), k: k).map(\.row))
    }
}
