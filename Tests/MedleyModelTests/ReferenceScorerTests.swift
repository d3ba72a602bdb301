import Foundation
import Testing
@testable import MedleyModel

/// Runs python3 with the given arguments; returns (exit status, stdout).
private func python(_ arguments: [String]) -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = Pipe()
    do {
        try process.run()
    } catch {
        return (-1, "")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether python3 with numpy and safetensors is available; the tests below are skipped otherwise.
private let pythonHasSafetensors: Bool = python(["-c", "import numpy, safetensors"]).0 == 0

/// Medley's files open in the Python safetensors package, and an independent numpy scorer
/// written from models/README.md reproduces Medley's lists and scores.
@Suite(.enabled(if: pythonHasSafetensors, "python3 with numpy and safetensors is not installed"))
struct ReferenceScorerTests {
    @Test func pythonSafetensorsOpensTheFile() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.safetensors")
        try ModelFile.write(try Fixtures.randomContents(architecture: .mmoe(experts: 2)), to: url)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/check_safetensors.py").path
        let (status, output) = python([script, url.path])
        #expect(status == 0)
        #expect(output.contains("item.embedding float32 [9, 4]"))
        #expect(output.contains("architecture=mmoe"))
        #expect(output.contains("format_version=2"))
        #expect(output.contains("item.id_offsets int64 [10]") && output.contains("item.id_bytes uint8 [18]"))
        #expect(output.contains("item.domain int32 [9]") && output.contains("user.id_bytes uint8 [8]"))
        // A model without learned users has an empty [0, d] user table.
        let contents = try Fixtures.randomContents()
        let empty = try ModelFileContents.initialized(configuration: contents.configuration, catalog: contents.catalog,
                                                      users: UserVocabulary(ids: []), seed: 1)
        try ModelFile.write(empty, to: url)
        #expect(try ModelFile.read(url) == empty)
        let (emptyStatus, emptyOutput) = python([script, url.path])
        #expect(emptyStatus == 0)
        #expect(emptyOutput.contains("user.embedding float32 [0, 4]"))
        #expect(emptyOutput.contains("user.id_offsets int64 [1]") && emptyOutput.contains("user.id_bytes uint8 [0]"))
    }

    @Test(arguments: [ModelConfiguration.Architecture.mlp, .mmoe(experts: 3), .ple(sharedExperts: 2, taskExperts: 1, levels: 2)], [true, false])
    func referenceScorerReproducesMedley(architecture: ModelConfiguration.Architecture, knownUser: Bool) throws {
        try checkReference(try Fixtures.randomContents(architecture: architecture, towerHidden: [5]), knownUser: knownUser)
    }

    /// A model with the session attention (two blocks, two heads) reading the session only; the
    /// sequence is the known session items, cut to the sequence length (3 of the 3 known
    /// events, 1 of 1), and the history is not read.
    @Test(arguments: [true, false])
    func referenceScorerReproducesSessionAttention(knownUser: Bool) throws {
        let shape = SessionEncoderShape(length: 3, blocks: 2, heads: 2, input: .session)
        try checkReference(try Fixtures.randomContents(towerHidden: [5], sessionEncoder: shape), knownUser: knownUser)
        // A sequence longer than the encoder reads: only the newest two items count.
        let short = SessionEncoderShape(length: 2, blocks: 1, heads: 1, input: .session)
        try checkReference(try Fixtures.randomContents(sessionEncoder: short, seed: 11), knownUser: knownUser)
    }

    /// A model whose session list blends in sequential rules from the newest session item, or
    /// from the newest two.
    @Test(arguments: [true, false], [1, 2])
    func referenceScorerReproducesTheRulesBlend(knownUser: Bool, depth: Int) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 1.5)
        contents.sequentialRules!.depth = depth
        try checkReference(contents, knownUser: knownUser)
    }

    /// Rules from the newest five items: the session's three known ones, newest first, then
    /// (anchored at the user's newest items) the two newest known history items; anchored at the
    /// session, the three only. The weight is large enough that the rules decide the list.
    @Test(arguments: [SequentialRulesAnchor.newestItem, .session])
    func referenceScorerReproducesDeeperRulesAcrossSessionAndHistory(anchor: SequentialRulesAnchor) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 20)
        contents.sequentialRules!.anchor = anchor
        contents.sequentialRules!.depth = 5
        var input = Fixtures.sessionInput
        input.history = Fixtures.userHistory
        try checkReference(contents, input: input)
    }

    /// The repeat bias on the items the request holds (its known session and history items),
    /// added after the rules: large enough either way to reorder the list, with the session's
    /// items excluded or ranked, with the rules' weight set or 0.
    @Test(arguments: [Float(-30), 30], [true, false])
    func referenceScorerReproducesTheRepeatBias(repeatBias: Float, excludeSessionItems: Bool) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 1.5)
        contents.sequentialRules!.depth = 2
        contents.sequentialRules!.repeatBias = repeatBias
        var input = Fixtures.sessionInput
        input.history = Fixtures.userHistory
        try checkReference(contents, input: input, excludeSessionItems: excludeSessionItems)
        contents.sequentialRules!.weight = 0
        try checkReference(contents, input: input, excludeSessionItems: excludeSessionItems)
    }

    /// Domain lists that mix in the session head (`domain_lists_session_share`), with rules and
    /// a repeat bias whose share they take, and without rules.
    @Test(arguments: [Float(0.35), 1], [true, false])
    func referenceScorerReproducesTheDomainListsSessionShare(share: Float, excludeSessionItems: Bool) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 2.5)
        contents.sequentialRules!.depth = 2
        contents.sequentialRules!.repeatBias = -3
        contents.domainListSessionShare = share
        var input = Fixtures.sessionInput
        input.history = Fixtures.userHistory
        try checkReference(contents, input: input, excludeSessionItems: excludeSessionItems)
        contents.sequentialRules = nil
        try checkReference(contents, input: input, excludeSessionItems: excludeSessionItems)
    }

    /// A request that opens a session: with `session_rules_anchor` = `newest_item` the rules
    /// start from the newest known history item (an unknown one after it is skipped); with
    /// `session`, or in a file without the key, nothing is blended. The weight is large enough
    /// that the rules decide the list, so a wrong anchor shows.
    @Test(arguments: [SequentialRulesAnchor.newestItem, .session], [true, false])
    func referenceScorerReproducesTheRulesFromTheHistory(anchor: SequentialRulesAnchor, withoutKey: Bool) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 20)
        contents.sequentialRules!.anchor = anchor
        var known = Fixtures.sessionInput
        known.events = []
        known.history = Fixtures.userHistory + [ItemReference(domain: "music", id: "unknown")]
        var anonymous = Fixtures.anonymousInput
        anonymous.events = []
        anonymous.history = Fixtures.userHistory
        let dropKey = withoutKey && anchor == .session
        try checkReference(contents, input: known, withoutAnchorKey: dropKey)
        try checkReference(contents, input: anonymous, withoutAnchorKey: dropKey)
    }

    /// The attention reading the user's history: the known history items, then the session's,
    /// the newest n of them (5 of 3 history + 3 session items; 9 reads all six; 2 only the session's);
    /// with its output in the encoder input only, or also added to the session query.
    @Test(arguments: [5, 9, 2], [SessionQueryForm.tower, .towerPlusAttention])
    func referenceScorerReproducesHistoryAttention(length: Int, sessionQuery: SessionQueryForm) throws {
        let shape = SessionEncoderShape(length: length, blocks: 2, heads: 2, input: .history, sessionQuery: sessionQuery)
        let contents = try Fixtures.randomContents(towerHidden: [5], sessionEncoder: shape, seed: UInt64(length))
        try checkReferenceWithHistory(contents)
    }

    /// The GRU reading the session (the newest 2 of its 3 known items) or the history (the
    /// newest 5 of 3 history and 3 session items), with its output in the encoder input only or
    /// also added to the session query.
    @Test(arguments: [AttentionSequence.session, .history], [SessionQueryForm.tower, .towerPlusAttention])
    func referenceScorerReproducesTheGRU(input: AttentionSequence, sessionQuery: SessionQueryForm) throws {
        let shape = SessionEncoderShape(kind: .gru, length: input == .session ? 2 : 5, input: input, sessionQuery: sessionQuery)
        let contents = try Fixtures.randomContents(towerHidden: [5], sessionEncoder: shape, seed: 13)
        try checkReferenceWithHistory(contents)
    }

    /// A file of format version 1 (the vocabularies as JSON in the metadata), with rules: the
    /// reference scorer reads either layout.
    @Test(arguments: [true, false])
    func referenceScorerReadsVersionOneFiles(knownUser: Bool) throws {
        var contents = try Fixtures.randomContents(towerHidden: [5])
        contents.sequentialRules = fixtureRules(weight: 1.5)
        try checkReference(contents, input: knownUser ? Fixtures.sessionInput : Fixtures.anonymousInput, versionOne: true)
    }

    /// Both fixture requests (a known user and an anonymous one), each with the user's history.
    private func checkReferenceWithHistory(_ contents: ModelFileContents) throws {
        var known = Fixtures.sessionInput
        known.history = Fixtures.userHistory
        try checkReference(contents, input: known)
        var anonymous = Fixtures.anonymousInput
        anonymous.history = Fixtures.userHistory
        try checkReference(contents, input: anonymous)
    }

    private func checkReference(_ contents: ModelFileContents, knownUser: Bool) throws {
        try checkReference(contents, input: knownUser ? Fixtures.sessionInput : Fixtures.anonymousInput)
    }

    /// Compares the reference scorer with Medley on one request; `withoutAnchorKey` writes the
    /// file as Medley did before `session_rules_anchor` existed (the rules must be `session`-anchored),
    /// `versionOne` as format version 1 wrote it.
    private func checkReference(_ contents: ModelFileContents, input: ModelInput, withoutAnchorKey: Bool = false,
                                versionOne: Bool = false, excludeSessionItems: Bool = true) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelURL = directory.appendingPathComponent("m.safetensors")
        let model = try MultitaskModel(contents)
        if withoutAnchorKey {
            let bytes = ModelFileBytes.editingMetadata(ModelFile.encode(contents)) {
                $0.removeValue(forKey: "session_rules_anchor")
                $0.removeValue(forKey: "session_rules_depth")
            }
            try #require(try ModelFile.decode(bytes) == contents)
            try ModelFile.writeBytes(bytes, to: modelURL)
        } else if versionOne {
            let bytes = ModelFileBytes.versionOne(contents)
            try #require(try ModelFile.decode(bytes) == contents)
            try ModelFile.writeBytes(bytes, to: modelURL)
        } else {
            try model.write(to: modelURL)
        }

        let k = 4
        let request: [String: Any] = [
            "user_id": input.userID as Any? ?? NSNull(),
            "events": input.events.map { event -> [String: Any] in
                var json: [String: Any] = ["domain": event.item.domain, "id": event.item.id, "type": event.type.rawValue,
                                           "timestamp_ms": event.timestampMilliseconds]
                if let weight = event.weight { json["weight"] = Double(weight) }
                return json
            },
            "history": input.history.map { ["domain": $0.domain, "id": $0.id] },
            "context": input.context.map(Double.init),
            "exclude_session_items": excludeSessionItems,
            "k": k,
        ]
        let requestURL = directory.appendingPathComponent("request.json")
        try JSONSerialization.data(withJSONObject: request).write(to: requestURL)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/reference_score.py").path
        let (status, output) = python([script, modelURL.path, requestURL.path])
        try #require(status == 0, "reference scorer failed")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])

        let medley = model.recommend([try model.encode(input, excludeSessionItems: excludeSessionItems)], options: RecommendationOptions(perDomain: k, session: k, blended: k))[0]
        let referenceDomains = try #require(reference["domains"] as? [String: [[Any]]])
        for (t, domain) in medley.domains.enumerated() {
            let expected = try #require(referenceDomains[domain])
            #expect(medley.perDomain[t].map(\.item.id) == expected.map { $0[0] as! String }, "domain \(domain)")
            #expect(allClose(medley.perDomain[t].map(\.score), expected.map { Float($0[1] as! Double) }, absolute: 1e-5, relative: 1e-4))
        }
        let referenceSession = try #require(reference["session"] as? [[Any]])
        #expect(medley.session.map(\.item.id) == referenceSession.map { $0[1] as! String })
        #expect(allClose(medley.session.map(\.score), referenceSession.map { Float($0[2] as! Double) }, absolute: 1e-5, relative: 1e-4))
        let probabilities = try #require(reference["next_domain_probabilities"] as? [Double])
        #expect(allClose(medley.nextDomainProbabilities, probabilities.map(Float.init), absolute: 1e-5, relative: 1e-4))
        let blended = try #require(reference["blended"] as? [[String]])
        #expect(medley.blended.map { [$0.item.domain, $0.item.id] } == blended)
    }
}
