import Foundation
import MedleySystem
import Testing
@testable import MedleyModel

/// The vocabularies as tensors (format version 2), the JSON metadata of version 1 still read,
/// and every malformed vocabulary tensor refused by name.
@Suite struct VocabularyTensorTests {
    /// Ids that differ only in bytes (canonically equivalent, or the Kelvin sign against "K"),
    /// multi-byte ids, and the same id in two domains.
    private func contents(rules: Bool = false) throws -> ModelFileContents {
        let base = try Fixtures.randomContents()
        let catalog = try ItemCatalog(ids: ["n1", "\u{E9}t\u{E9}", "e\u{301}t\u{E9}", "K", "\u{212A}", "n1", "m2", "音楽", "m4"],
                                      domainOfItem: base.catalog.domainOfItem, domainCount: 3)
        let users = try UserVocabulary(ids: ["alice", "\u{C5}ngstr\u{F6}m"])
        var contents = ModelFileContents(configuration: base.configuration, catalog: catalog, users: users, parameters: base.parameters)
        if rules {
            contents.sequentialRules = try SequentialRulesTable(steps: 2, weight: 1.5, anchor: .newestItem,
                                                                rowStart: [0, 1, 1, 2, 2, 2, 2, 2, 2, 2], targets: [5, 0],
                                                                strengths: [1, 0.5], itemCount: 9)
        }
        return contents
    }

    private func expectRefusal(_ bytes: [UInt8], _ expected: ModelFileError, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try ModelFile.decode(bytes) }
    }

    private func expectRefusal(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                               _ matches: (ModelFileError) -> Bool) {
        do {
            _ = try ModelFile.decode(bytes)
            Issue.record("file was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error), "wrong error: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [false, true])
    func roundTripKeepsTheVocabulariesInTensors(rules: Bool) throws {
        let contents = try contents(rules: rules)
        let bytes = ModelFile.encode(contents)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(Array(decoded.catalog.ids) == Array(contents.catalog.ids))
        #expect(ModelFile.encode(decoded) == bytes)
        let (header, _) = ModelFileBytes.split(bytes)
        let metadata = try #require(header["__metadata__"] as? [String: String])
        #expect(metadata["format_version"] == "2")
        #expect(metadata["item_ids"] == nil && metadata["item_domains"] == nil && metadata["user_ids"] == nil)
        func entry(_ name: String) -> (dtype: String, shape: [Int], offsets: [Int])? {
            (header[name] as? [String: Any]).map { ($0["dtype"] as! String, $0["shape"] as! [Int], $0["data_offsets"] as! [Int]) }
        }
        let itemBytes = contents.catalog.ids.reduce(0) { $0 + $1.utf8.count }
        #expect(entry("item.id_offsets")?.dtype == "I64" && entry("item.id_offsets")?.shape == [10])
        #expect(entry("item.id_offsets")?.offsets.first == 0)  // 8-byte aligned: the buffer's start
        #expect(entry("user.id_offsets")?.dtype == "I64" && entry("user.id_offsets")?.shape == [3])
        #expect(entry("item.id_bytes")?.dtype == "U8" && entry("item.id_bytes")?.shape == [itemBytes])
        #expect(entry("user.id_bytes")?.dtype == "U8" && entry("user.id_bytes")?.shape == [5 + "\u{C5}ngstr\u{F6}m".utf8.count])
        #expect(entry("item.domain")?.dtype == "I32" && entry("item.domain")?.shape == [9])
        // Ids are told apart by their bytes, and the same id in two domains is two items.
        #expect(decoded.catalog.row(domain: 0, id: "\u{E9}t\u{E9}") == 1)
        #expect(decoded.catalog.row(domain: 0, id: "e\u{301}t\u{E9}") == 2)
        #expect(decoded.catalog.row(domain: 1, id: "K") == 3 && decoded.catalog.row(domain: 1, id: "\u{212A}") == 4)
        #expect(decoded.catalog.row(domain: 0, id: "n1") == 0 && decoded.catalog.row(domain: 2, id: "n1") == 5)
        #expect(decoded.catalog.row(domain: 1, id: "n1") == nil && decoded.catalog.row(domain: 3, id: "n1") == nil)
        #expect(decoded.catalog.row(domain: 2, id: "音楽") == 7 && decoded.catalog.row(domain: 2, id: "音") == nil)
        #expect(decoded.users.row(of: "\u{C5}ngstr\u{F6}m") == 1 && decoded.users.row(of: "A\u{30A}ngstr\u{F6}m") == nil)
    }

    /// A file written the way format version 1 wrote it loads with the same vocabularies, and
    /// Medley writes it back as version 2.
    @Test(arguments: [false, true])
    func versionOneFilesStillLoad(rules: Bool) throws {
        let contents = try contents(rules: rules)
        let old = ModelFileBytes.versionOne(contents)
        let metadata = try #require(ModelFileBytes.split(old).header["__metadata__"] as? [String: String])
        #expect(metadata["format_version"] == "1" && metadata["item_ids"] != nil)
        let decoded = try ModelFile.decode(old)
        #expect(decoded == contents)
        #expect(Array(decoded.users.ids) == ["alice", "\u{C5}ngstr\u{F6}m"])
        #expect(decoded.catalog.row(domain: 1, id: "\u{212A}") == 4)
        #expect(ModelFile.encode(decoded) == ModelFile.encode(contents))
        // Each version has its vocabularies in one place only.
        var both = metadata
        both["format_version"] = "2"
        expectRefusal(ModelFileBytes.editingVocabularyTensors(contents) { _ in }.replacingMetadata(both)) {
            if case .invalidMetadata(key: "item_ids", _) = $0 { true } else { false }
        }
        let versionOneWithTensors = ModelFileBytes.editingVocabularyTensors(contents) { _ in }.replacingMetadata(metadata)
        expectRefusal(versionOneWithTensors, .unexpectedTensor("item.domain"))
        expectRefusal(ModelFileBytes.editingMetadata(old) { $0["format_version"] = "3" }, .unsupportedFormatVersion("3"))
    }

    @Test func offsetsAreChecked() throws {
        let contents = try contents()
        func editingOffsets(_ name: String, _ edit: (inout [Int64]) -> Void) -> [UInt8] {
            ModelFileBytes.editingVocabularyTensors(contents) { tensors in
                let i = tensors.firstIndex { $0.name == name }!
                guard case .int64(var offsets) = tensors[i].data else { preconditionFailure() }
                edit(&offsets)
                tensors[i].data = .int64(offsets)
            }
        }
        // item offsets are 0, 2, 7, 13, 14, 17, 19, 21, 27, 29.
        expectRefusal(editingOffsets("item.id_offsets") { $0[2] = 1 }) {
            $0 == .invalidVocabularyTensor(tensor: "item.id_offsets", reason: "offset 2 (1) is below offset 1 (2)")
        }
        expectRefusal(editingOffsets("item.id_offsets") { $0[4] = 99 }) {
            $0 == .invalidVocabularyTensor(tensor: "item.id_offsets", reason: "offset 4 (99) is past the end of the 29 bytes of item.id_bytes")
        }
        expectRefusal(editingOffsets("item.id_offsets") { $0[9] = 28 }) {
            $0 == .invalidVocabularyTensor(tensor: "item.id_offsets", reason: "the last offset (28) is not the end of the 29 bytes of item.id_bytes")
        }
        expectRefusal(editingOffsets("user.id_offsets") { $0[0] = 1 }) {
            $0 == .invalidVocabularyTensor(tensor: "user.id_offsets", reason: "the first offset is 1, not 0")
        }
        expectRefusal(editingOffsets("user.id_offsets") { $0[1] = -1 }) {
            if case .invalidVocabularyTensor(tensor: "user.id_offsets", _) = $0 { true } else { false }
        }
        // Two equal offsets make an empty id.
        expectRefusal(editingOffsets("item.id_offsets") { $0[1] = 0 }, .inconsistentVocabulary("the item id of row 0 is empty"))
        // The offsets split "音楽" (3 + 3 bytes) inside its first character: both halves are not UTF-8.
        expectRefusal(editingOffsets("item.id_offsets") { $0[8] = 22 }) {
            $0 == .invalidVocabularyTensor(tensor: "item.id_bytes", reason: "the id of row 7 is not well-formed UTF-8")
        }
        // No offset at all: not even the end of an empty vocabulary.
        expectRefusal(editingOffsets("user.id_offsets") { $0 = [] }) {
            if case .shapeMismatch(tensor: "user.id_offsets", _, actual: [0]) = $0 { true } else { false }
        }
    }

    @Test(arguments: [[0xFF], [0xC3, 0x28], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] as [[UInt8]])
    func idsThatAreNotUTF8AreRefused(bad: [UInt8]) throws {
        let contents = try contents()
        // The user "alice" (5 bytes) becomes the bad bytes.
        let bytes = ModelFileBytes.editingVocabularyTensors(contents) { tensors in
            let users = contents.users.ids
            let utf8 = bad + users.utf8[users.offsets[1]...]
            tensors[tensors.firstIndex { $0.name == "user.id_offsets" }!].data = .int64([0, Int64(bad.count), Int64(utf8.count)])
            tensors[tensors.firstIndex { $0.name == "user.id_bytes" }!].data = .uint8(Array(utf8))
        }
        expectRefusal(bytes) { $0 == .invalidVocabularyTensor(tensor: "user.id_bytes", reason: "the id of row 0 is not well-formed UTF-8") }
    }

    @Test func duplicatesAndDomainsAreChecked() throws {
        let contents = try contents()
        func replacing(_ name: String, with data: SafeTensors.TensorData) -> [UInt8] {
            ModelFileBytes.editingVocabularyTensors(contents) { $0[$0.firstIndex { $0.name == name }!].data = data }
        }
        // "m2" (row 6) renamed "n1" repeats row 5's id in domain 2.
        var itemBytes = contents.catalog.ids.utf8
        itemBytes.replaceSubrange(contents.catalog.ids.offsets[6]..<contents.catalog.ids.offsets[7], with: Array("n1".utf8))
        expectRefusal(replacing("item.id_bytes", with: .uint8(itemBytes)), .inconsistentVocabulary("item id \"n1\" appears twice in domain 2"))
        let twoAlices = ModelFileBytes.editingVocabularyTensors(contents) { tensors in
            tensors[tensors.firstIndex { $0.name == "user.id_offsets" }!].data = .int64([0, 5, 10])
            tensors[tensors.firstIndex { $0.name == "user.id_bytes" }!].data = .uint8(Array("alicealice".utf8))
        }
        expectRefusal(twoAlices, .inconsistentVocabulary("user id \"alice\" appears twice"))
        expectRefusal(replacing("item.domain", with: .int32([0, 0, 0, 1, 1, 2, 2, 2, 3])),
                      .inconsistentVocabulary("item row 8 has domain index 3, outside 0..<3"))
        expectRefusal(replacing("item.domain", with: .int32([0, 0, 0, 1, 1, 2, 2, 2, -1])),
                      .inconsistentVocabulary("item row 8 has domain index -1, outside 0..<3"))
        expectRefusal(replacing("item.domain", with: .int32([0, 0, 1, 0, 1, 2, 2, 2, 2])),
                      .inconsistentVocabulary("item rows are not grouped by domain in order (row 3 has domain 0)"))
        expectRefusal(replacing("item.domain", with: .int32([0, 0, 0, 1, 1, 2, 2, 2])),
                      .shapeMismatch(tensor: "item.domain", expected: [9], actual: [8]))
        expectRefusal(replacing("item.id_offsets", with: .int32([0, 2, 7, 13, 14, 17, 19, 21, 27, 29])),
                      .unsupportedDType(tensor: "item.id_offsets", dtype: "I32", expected: "I64"))
        expectRefusal(replacing("item.domain", with: .int64([0, 0, 0, 1, 1, 2, 2, 2, 2])),
                      .unsupportedDType(tensor: "item.domain", dtype: "I64", expected: "I32"))
        // A vocabulary that disagrees with its table: one user fewer than user.embedding's rows.
        let oneUser = ModelFileBytes.editingVocabularyTensors(contents) { tensors in
            tensors[tensors.firstIndex { $0.name == "user.id_offsets" }!].data = .int64([0, 5])
            tensors[tensors.firstIndex { $0.name == "user.id_bytes" }!].data = .uint8(Array("alice".utf8))
        }
        expectRefusal(oneUser, .shapeMismatch(tensor: "user.embedding", expected: [1, 4], actual: [2, 4]))
    }

    @Test(arguments: ["item.id_offsets", "item.id_bytes", "item.domain", "user.id_offsets", "user.id_bytes"])
    func aMissingVocabularyTensorIsNamed(name: String) throws {
        let bytes = ModelFileBytes.editingVocabularyTensors(try contents()) { $0.removeAll { $0.name == name } }
        expectRefusal(bytes, .missingTensor(name))
    }

    /// A model without users or items still has one offset per vocabulary and empty id bytes.
    @Test func emptyVocabularies() throws {
        let configuration = ModelConfiguration(domains: ["news"], embeddingDimension: 2, hiddenDimensions: [3])
        let empty = try ModelFileContents.initialized(configuration: configuration, catalog: ItemCatalog(ids: [String](), domainOfItem: [], domainCount: 1),
                                                      users: UserVocabulary(ids: [String]()), seed: 1)
        #expect(try ModelFile.decode(ModelFile.encode(empty)) == empty)
    }

    /// The validator agrees with the standard library's on every short byte string drawn.
    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        var rng = SplitMix64(seed: 5)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1,
                                    0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var disagreements = 0
        var accepted = 0
        for _ in 0..<200_000 {
            let length = Int(rng.next() % 6)
            let bytes = (0..<length).map { _ in interesting[Int(rng.next() % UInt64(interesting.count))] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let actual = bytes.withUnsafeBytes { UTF8Validation.isWellFormed($0) }
            if expected != actual { disagreements += 1 }
            if actual { accepted += 1 }
        }
        #expect(disagreements == 0)
        #expect(accepted > 1_000)  // the draw reaches well-formed multi-byte sequences, not only ASCII
    }

    /// An id matches only its own bytes: not a same-length id differing in its last byte, nor
    /// a prefix; the empty id matches only empty bytes.
    @Test func packedIDsCompareByTheirBytes() {
        let ids: PackedIDs = ["news-12", "", "mü", "news-13"]
        func matches(_ row: Int, _ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { ids.hasBytes(row, equalTo: $0) }
        }
        #expect(matches(0, "news-12") && !matches(0, "news-13") && !matches(0, "news-1") && !matches(0, ""))
        #expect(matches(1, "") && !matches(1, "n"))
        #expect(matches(2, "mü") && !matches(2, "mu"))
        #expect(matches(3, "news-13") && !matches(3, "news-12"))
    }
}

extension [UInt8] {
    /// The same file with its whole metadata replaced.
    fileprivate func replacingMetadata(_ metadata: [String: String]) -> [UInt8] {
        ModelFileBytes.editingMetadata(self) { $0 = metadata }
    }
}
