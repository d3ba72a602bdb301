import Foundation
import Testing
@testable import MedleyModel

@Suite("domain lists' session share")
struct DomainListBlendTests {
    /// The fixture with rules (weight 3) and a repeat bias, and the domain lists' share.
    private func contents(share: Float, repeatBias: Float) throws -> ModelFileContents {
        var contents = try Fixtures.randomContents()
        contents.sequentialRules = fixtureRules(weight: 3)
        contents.sequentialRules!.repeatBias = repeatBias
        contents.domainListSessionShare = share
        return contents
    }

    /// Domain `t`'s list computed in full: every item of the block scored with the domain
    /// head's and the session head's queries mixed, plus the share of the session blend's
    /// change, excluded rows left out, best first (ties: lower row first).
    private func expectedList(_ model: MultitaskModel, _ input: EncodedInput, domain t: Int, k: Int) -> [(row: Int, score: Float)] {
        let c = model.contents
        let e = c.parameters[ParameterLayout.itemEmbedding].scalars, b = c.parameters[ParameterLayout.itemBias].scalars
        let pass = model.forward(input)
        let share = c.domainListSessionShare
        let query = zip(pass.domainQuery(t), pass.sessionQuery).map { (1 - share) * $0 + share * $1 }
        let rules = c.sequentialRules!
        let changes = Dictionary(uniqueKeysWithValues: rules.additions(for: input).map {
            ($0.row, $0.change(weight: rules.weight, repeatBias: rules.repeatBias))
        })
        let rows = c.catalog.domainRanges[t].filter { !input.excludedRows.contains($0) }
        let scores = Dictionary(uniqueKeysWithValues: rows.map { row in
            (row, (0..<4).reduce(Float(0)) { $0 + query[$1] * e[row * 4 + $1] } + b[row] + share * (changes[row] ?? 0))
        })
        return rows.sorted { scores[$0]! != scores[$1]! ? scores[$0]! > scores[$1]! : $0 < $1 }.prefix(k).map { ($0, scores[$0]!) }
    }

    private func domainLists(_ model: MultitaskModel, _ input: EncodedInput, k: Int) -> [[Recommendation]] {
        model.recommend([input], options: RecommendationOptions(perDomain: k, session: k, blended: k))[0].perDomain
    }

    /// Every served domain list is the full computation's top K, also when the repeat bias
    /// pushes the model's own best items down (session items not excluded) or lifts them.
    @Test(arguments: [Float(0.3), 0.7, 1], [Float(-50), 0, 3])
    func theServedDomainListsAreTheMixedTopK(share: Float, repeatBias: Float) throws {
        let model = try MultitaskModel(try contents(share: share, repeatBias: repeatBias))
        var request = Fixtures.sessionInput
        request.history = Fixtures.userHistory
        for exclude in [true, false] {
            let input = try model.encode(request, excludeSessionItems: exclude)
            for k in [1, 2, 4] {
                let served = domainLists(model, input, k: k)
                for t in 0..<3 {
                    let expected = expectedList(model, input, domain: t, k: k)
                    #expect(served[t].map(\.row) == expected.map(\.row), "domain \(t), k = \(k), excluded: \(exclude)")
                    for (item, wanted) in zip(served[t], expected) { #expect(abs(item.score - wanted.score) < 1e-5) }
                }
            }
        }
    }

    /// Share 0 leaves the domain heads' lists as they were; share 1 ranks each domain by the
    /// session head's blended scores, which the session list shows for the same items.
    @Test func shareZeroIsTheDomainHeadAndShareOneTheSessionHead() throws {
        var plain = try contents(share: 0, repeatBias: -2)
        let input = try MultitaskModel(plain).encode(Fixtures.sessionInput)
        let own = domainLists(try MultitaskModel(plain), input, k: 9)
        plain.sequentialRules = nil
        #expect(domainLists(try MultitaskModel(plain), input, k: 9).map { $0.map(\.row) } == own.map { $0.map(\.row) })

        let sessionOnly = try MultitaskModel(try contents(share: 1, repeatBias: -2))
        let served = sessionOnly.recommend([input], options: RecommendationOptions(perDomain: 9, session: 9, blended: 9))[0]
        for (t, list) in served.perDomain.enumerated() {
            let rows = sessionOnly.catalog.domainRanges[t]
            #expect(list.map(\.row) == served.session.filter { rows.contains($0.row) }.map(\.row))
            for item in list {
                let inSession = try #require(served.session.first { $0.row == item.row })
                #expect(abs(item.score - inSession.score) < 1e-5)
            }
        }
        #expect(served.perDomain.map { $0.map(\.row) } != own.map { $0.map(\.row) })
    }

    @Test func aModelFileKeepsItsShareAndOneWithoutStaysAsItWas() throws {
        var contents = try contents(share: 0, repeatBias: 0)
        let without = ModelFile.encode(contents)
        #expect(!String(decoding: without.prefix(4096), as: UTF8.self).contains("domain_lists_session_share"))
        #expect(try ModelFile.decode(without).domainListSessionShare == 0)
        contents.domainListSessionShare = 0.4
        let bytes = ModelFile.encode(contents)
        #expect((ModelFileBytes.split(bytes).header["__metadata__"] as? [String: String])?["domain_lists_session_share"] == "0.4")
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(try MultitaskModel(decoded).domainListBlend.share == 0.4)
        for bad in ["nan", "1.5", "-0.1", "half", "inf"] {
            #expect(throws: ModelFileError.invalidMetadata(key: "domain_lists_session_share", reason: "\"\(bad)\" is not a number in [0, 1]")) {
                try ModelFile.decode(ModelFileBytes.editingMetadata(bytes) { $0["domain_lists_session_share"] = bad })
            }
        }
        contents.domainListSessionShare = 2
        #expect(throws: ModelFileError.self) { try MultitaskModel(contents) }
    }
}
