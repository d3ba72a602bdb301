import Foundation
import Testing
@testable import MedleyModel

@Suite struct ModelFileTests {
    @Test(arguments: [ModelConfiguration.Architecture.mlp, .mmoe(experts: 2), .ple(sharedExperts: 2, taskExperts: 1, levels: 2)])
    func roundTrip(architecture: ModelConfiguration.Architecture) throws {
        let contents = try Fixtures.randomContents(architecture: architecture)
        let bytes = ModelFile.encode(contents)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(ModelFile.encode(decoded) == bytes)  // deterministic
        // The data buffer starts 8-byte aligned.
        let n = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect((8 + n) % 8 == 0)
    }

    /// A model with the session attention keeps its shape metadata and tensors; without the
    /// `session_encoder` key the same tensors no longer fit the layout (the encoder input is
    /// d narrower), and the file is refused.
    @Test func roundTripWithSessionAttention() throws {
        let contents = try Fixtures.randomContents(sessionEncoder: SessionEncoderShape(length: 6, blocks: 2, heads: 2, input: .history))
        let bytes = ModelFile.encode(contents)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(decoded.configuration.sessionEncoder == SessionEncoderShape(length: 6, blocks: 2, heads: 2, input: .history))
        #expect(decoded.parameters["session_encoder.position.embedding"].shape == [6, 4])
        #expect(ModelFile.encode(decoded) == bytes)
        let header = ModelFileBytes.split(bytes).header
        let metadata = try #require(header["__metadata__"] as? [String: String])
        #expect(metadata["session_encoder"] == "attention" && metadata["sequence_length"] == "6")
        #expect(metadata["attention_blocks"] == "2" && metadata["attention_heads"] == "2")
        var stripped = metadata
        stripped.removeValue(forKey: "session_encoder")
        var edited = header
        edited["__metadata__"] = stripped
        expectRefusal(ModelFileBytes.assemble(header: edited, data: ModelFileBytes.split(bytes).data)) {
            $0 == .shapeMismatch(tensor: "encoder.layers.0.weight", expected: [6, 18], actual: [6, 22])
        }
        #expect(metadata["attention_input"] == "history" && metadata["session_query"] == "tower")
        // A file written before `attention_input` and `session_query` existed keeps its
        // meaning: the session only, the tower's query.
        var older = metadata
        older.removeValue(forKey: "attention_input")
        older.removeValue(forKey: "session_query")
        edited["__metadata__"] = older
        let olderFile = try ModelFile.decode(ModelFileBytes.assemble(header: edited, data: ModelFileBytes.split(bytes).data))
        #expect(olderFile.configuration.sessionEncoder == SessionEncoderShape(length: 6, blocks: 2, heads: 2, input: .session))
        #expect(olderFile.parameters == contents.parameters)
        let direct = try Fixtures.randomContents(sessionEncoder: SessionEncoderShape(length: 2, blocks: 1, heads: 1,
                                                                                          sessionQuery: .towerPlusAttention))
        #expect(try ModelFile.decode(ModelFile.encode(direct)) == direct)
        // Files of the original architectures carry none of the keys.
        let plain = ModelFileBytes.split(ModelFile.encode(try Fixtures.randomContents())).header["__metadata__"] as? [String: String]
        #expect(plain?["session_encoder"] == nil && plain?["sequence_length"] == nil && plain?["attention_input"] == nil
                && plain?["session_query"] == nil)
    }

    /// A model with the GRU keeps its kind, length, input and query and its four tensors; it
    /// writes no attention keys, and the kind decides the tensors a file must have.
    @Test func roundTripWithSessionGRU() throws {
        let shape = SessionEncoderShape(kind: .gru, length: 7, input: .history, sessionQuery: .towerPlusAttention)
        let contents = try Fixtures.randomContents(sessionEncoder: shape)
        let bytes = ModelFile.encode(contents)
        let decoded = try ModelFile.decode(bytes)
        #expect(decoded == contents)
        #expect(decoded.configuration.sessionEncoder == shape)
        #expect(decoded.parameters["session_encoder.gru.hidden.weight"].shape == [12, 4])
        #expect(ModelFile.encode(decoded) == bytes)
        let metadata = try #require(ModelFileBytes.split(bytes).header["__metadata__"] as? [String: String])
        #expect(metadata["session_encoder"] == "gru" && metadata["sequence_length"] == "7")
        #expect(metadata["attention_input"] == "history" && metadata["session_query"] == "tower_plus_attention")
        #expect(metadata["attention_blocks"] == nil && metadata["attention_heads"] == nil)
        expectRefusal(ModelFileBytes.editingMetadata(bytes) { $0["session_encoder"] = "attention" }) {
            $0 == .missingMetadata(key: "attention_blocks")
        }
        let attention = ModelFile.encode(try Fixtures.randomContents(sessionEncoder: SessionEncoderShape(length: 7, blocks: 1, heads: 1)))
        expectRefusal(ModelFileBytes.editingMetadata(attention) { $0["session_encoder"] = "gru" }) {
            if case .missingTensor = $0 { true } else if case .unexpectedTensor = $0 { true } else { false }
        }
    }

    @Test func sessionEncoderMetadataIsChecked() throws {
        let bytes = ModelFile.encode(try Fixtures.randomContents(sessionEncoder: SessionEncoderShape(length: 3, blocks: 1, heads: 1)))
        func editing(_ edit: (inout [String: String]) -> Void) -> [UInt8] { ModelFileBytes.editingMetadata(bytes, edit) }
        expectRefusal(editing { $0["session_encoder"] = "lstm" }) { if case .invalidMetadata(key: "session_encoder", _) = $0 { true } else { false } }
        expectRefusal(editing { $0["attention_input"] = "all" }) { if case .invalidMetadata(key: "attention_input", _) = $0 { true } else { false } }
        expectRefusal(editing { $0["session_query"] = "attention" }) { if case .invalidMetadata(key: "session_query", _) = $0 { true } else { false } }
        expectRefusal(editing { $0["attention_heads"] = "3" }) { if case .invalidMetadata(key: "attention_heads", _) = $0 { true } else { false } }
        expectRefusal(editing { $0["sequence_length"] = "0" }) { if case .invalidMetadata(key: "sequence_length", _) = $0 { true } else { false } }
        expectRefusal(editing { $0.removeValue(forKey: "attention_blocks") }) { $0 == .missingMetadata(key: "attention_blocks") }
        expectRefusal(editing { $0["sequence_length"] = "4" }) {
            $0 == .shapeMismatch(tensor: "session_encoder.position.embedding", expected: [4, 4], actual: [3, 4])
        }
    }

    @Test func atomicWriteAndRead() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("m.safetensors")
        let model = try MultitaskModel(try Fixtures.randomContents())
        try model.write(to: url)
        try model.write(to: url)  // replaces
        let loaded = try MultitaskModel(contentsOf: url)
        #expect(loaded.contents == model.contents)
        // No temporary files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["m.safetensors"])
        #expect(throws: ModelFileError.self) { try MultitaskModel(contentsOf: directory.appendingPathComponent("absent")) }
    }

    // MARK: Corrupt files

    private func valid() throws -> [UInt8] { ModelFile.encode(try Fixtures.randomContents()) }

    private func editing(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let (header, data) = ModelFileBytes.split(try valid())
        var h = header
        var entry = h[name] as! [String: Any]
        edit(&entry)
        h[name] = entry
        return ModelFileBytes.assemble(header: h, data: data)
    }

    private func editingMetadata(_ edit: (inout [String: String]) -> Void) throws -> [UInt8] {
        ModelFileBytes.editingMetadata(try valid(), edit)
    }

    private func expectRefusal(_ bytes: [UInt8], _ matches: (ModelFileError) -> Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ModelFile.decode(bytes)
            Issue.record("file was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error), "wrong error: \(error)", sourceLocation: sourceLocation)
            #expect(!error.description.isEmpty)
        }
    }

    @Test func truncatedAndOversizedContainers() throws {
        let bytes = try valid()
        expectRefusal(Array(bytes.prefix(5))) { $0 == .truncatedHeaderLength(fileSize: 5) }
        expectRefusal([]) { $0 == .truncatedHeaderLength(fileSize: 0) }
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        // Cut inside the header: the header length now points past the end.
        expectRefusal(Array(bytes.prefix(8 + n / 2))) { if case .headerLengthPastEnd = $0 { true } else { false } }
        // A header length far beyond the limit is refused before anything is read or allocated.
        var huge = bytes
        withUnsafeBytes(of: UInt64(1) << 62) { huge.replaceSubrange(0..<8, with: $0) }
        expectRefusal(huge) { if case .headerTooLarge = $0 { true } else { false } }
        // Cut inside the data: the last tensor's offsets leave the buffer.
        expectRefusal(Array(bytes.dropLast(3))) { if case .offsetsOutOfRange = $0 { true } else { false } }
        // Extra bytes after the last tensor.
        expectRefusal(bytes + [0, 0, 0, 0]) { $0 == .uncoveredBytes(beforeTensor: nil, offset: UInt64(bytes.count - 8 - n)) }
    }

    @Test func malformedHeaders() throws {
        let data = ModelFileBytes.split(try valid()).data
        expectRefusal(ModelFileBytes.assemble(text: "{\"a\": [1, 2", data: data)) { if case .headerNotJSON = $0 { true } else { false } }
        expectRefusal(ModelFileBytes.assemble(text: "[1, 2, 3]", data: data)) { if case .headerNotJSON = $0 { true } else { false } }
        expectRefusal(ModelFileBytes.assemble(text: "{\"__metadata__\": {\"format\": 3}}", data: data)) {
            if case .invalidMetadata(key: "__metadata__", _) = $0 { true } else { false }
        }
        expectRefusal(try editing("item.bias") { $0["dtype"] = "F17" }) { $0 == .unknownDType(tensor: "item.bias", dtype: "F17") }
        expectRefusal(try editing("item.bias") { $0.removeValue(forKey: "shape") }) {
            if case .invalidEntry(tensor: "item.bias", _) = $0 { true } else { false }
        }
        expectRefusal(try editing("item.bias") { $0["shape"] = [-9] }) { if case .invalidEntry(tensor: "item.bias", _) = $0 { true } else { false } }
        expectRefusal(try editing("item.bias") { $0["data_offsets"] = [0] }) { if case .invalidEntry(tensor: "item.bias", _) = $0 { true } else { false } }
    }

    @Test func offsetsAndShapes() throws {
        // Out of range.
        expectRefusal(try editing("item.bias") { $0["data_offsets"] = [0, 1 << 40] }) {
            if case .offsetsOutOfRange(tensor: "item.bias", _, _, _) = $0 { true } else { false }
        }
        // Reversed.
        expectRefusal(try editing("item.bias") { $0["data_offsets"] = [8, 4] }) {
            if case .offsetsOutOfRange(tensor: "item.bias", _, _, _) = $0 { true } else { false }
        }
        // Overlapping: item.bias moved onto item.embedding's bytes (same length kept).
        let (header, data) = ModelFileBytes.split(try valid())
        let biasEntry = header["item.bias"] as! [String: Any]
        let biasOffsets = biasEntry["data_offsets"] as! [Int]
        var h = header
        var moved = biasEntry
        moved["data_offsets"] = [0, biasOffsets[1] - biasOffsets[0]]
        h["item.bias"] = moved
        expectRefusal(ModelFileBytes.assemble(header: h, data: data)) {
            if case .overlappingTensors = $0 { true } else if case .uncoveredBytes = $0 { true } else { false }
        }
        // Shape whose byte count disagrees with the offsets.
        expectRefusal(try editing("item.bias") { $0["shape"] = [4] }) {
            if case .byteLengthMismatch(tensor: "item.bias", _, _, _) = $0 { true } else { false }
        }
        // A shape that overflows when multiplied.
        expectRefusal(try editing("item.bias") { $0["shape"] = [1 << 40, 1 << 40] }) {
            if case .byteLengthMismatch(tensor: "item.bias", _, _, _) = $0 { true } else { false }
        }
    }

    @Test func layoutViolations() throws {
        let contents = try Fixtures.randomContents()
        let layout = contents.layout
        // Format version 1's metadata, so that the file needs no vocabulary tensors.
        let metadata = ModelFileBytes.split(ModelFileBytes.versionOne(contents)).header["__metadata__"] as! [String: String]
        func file(_ tensors: [(String, Tensor)]) -> [UInt8] {
            SafeTensors.encode(tensors: tensors.map { (name: $0.0, tensor: $0.1) }, metadata: metadata)
        }
        let all = layout.entries.map { ($0.name, contents.parameters[$0.name]) }
        expectRefusal(file(all.filter { $0.0 != "heads.session.layers.1.bias" })) { $0 == .missingTensor("heads.session.layers.1.bias") }
        expectRefusal(file(all + [("extra", Tensor(zeros: [2]))])) { $0 == .unexpectedTensor("extra") }
        expectRefusal(file(all.map { $0.0 == "encoder.layers.1.weight" ? ($0.0, Tensor(zeros: [6, 5])) : $0 })) {
            $0 == .shapeMismatch(tensor: "encoder.layers.1.weight", expected: [5, 6], actual: [6, 5])
        }
        // A defined dtype that is not F32 (same byte count as F32: I32).
        expectRefusal(try editing("item.bias") { $0["dtype"] = "I32" }) { $0 == .unsupportedDType(tensor: "item.bias", dtype: "I32", expected: "F32") }
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func nonFiniteValues(value: Float) throws {
        var contents = try Fixtures.randomContents()
        let good = ModelFile.encode(contents)
        contents.parameters.tensors["heads.next_domain.layers.0.weight"]!.scalars[4] = value
        let bad = ModelFile.encode(contents)
        #expect(good.count == bad.count)
        expectRefusal(bad) { $0 == .nonFiniteValue(tensor: "heads.next_domain.layers.0.weight", index: 4) }
        #expect(throws: ModelFileError.nonFiniteValue(tensor: "heads.next_domain.layers.0.weight", index: 4)) {
            try MultitaskModel(contents)
        }
    }

    @Test func metadataAndVocabularies() throws {
        expectRefusal(try editingMetadata { $0.removeValue(forKey: "domains") }) { $0 == .missingMetadata(key: "domains") }
        expectRefusal(try editingMetadata { $0["format_version"] = "3" }) { $0 == .unsupportedFormatVersion("3") }
        expectRefusal(try editingMetadata { $0["format"] = "other" }) { if case .invalidMetadata(key: "format", _) = $0 { true } else { false } }
        expectRefusal(try editingMetadata { $0["embedding_dim"] = "four" }) { if case .invalidMetadata(key: "embedding_dim", _) = $0 { true } else { false } }
        expectRefusal(try editingMetadata { $0["architecture"] = "transformer" }) { if case .invalidMetadata(key: "architecture", _) = $0 { true } else { false } }
        expectRefusal(try editingMetadata { $0["domains"] = "[\"news\", \"news\", \"music\"]" }) { if case .invalidMetadata(key: "domains", _) = $0 { true } else { false } }
        expectRefusal(try editingMetadata { $0["event_weights"] = "{\"view\": 1}" }) { if case .invalidMetadata(key: "event_weights", _) = $0 { true } else { false } }
        expectRefusal(try editingMetadata { $0["recency_half_life_seconds"] = "-5" }) { if case .invalidMetadata(key: "recency_half_life_seconds", _) = $0 { true } else { false } }
        // Vocabulary inconsistencies, in a file of format version 1 (the vocabularies in the
        // metadata; VocabularyTensorTests has version 2's).
        let versionOne = ModelFileBytes.versionOne(try Fixtures.randomContents())
        func editingVersionOne(_ edit: (inout [String: String]) -> Void) -> [UInt8] { ModelFileBytes.editingMetadata(versionOne, edit) }
        expectRefusal(editingVersionOne { $0["item_domains"] = "[0,0,0,1,1,2,2,2]" }) { if case .inconsistentVocabulary = $0 { true } else { false } }
        expectRefusal(editingVersionOne { $0["item_domains"] = "[0,0,1,0,1,2,2,2,2]" }) { if case .inconsistentVocabulary = $0 { true } else { false } }
        expectRefusal(editingVersionOne { $0["item_domains"] = "[0,0,0,1,1,2,2,2,5]" }) { if case .inconsistentVocabulary = $0 { true } else { false } }
        expectRefusal(editingVersionOne { $0["item_ids"] = "[\"n1\",\"n1\",\"n3\",\"v1\",\"v2\",\"m1\",\"m2\",\"m3\",\"m4\"]" }) {
            if case .inconsistentVocabulary = $0 { true } else { false }
        }
        expectRefusal(editingVersionOne { $0["user_ids"] = "[\"alice\", \"alice\"]" }) { if case .inconsistentVocabulary = $0 { true } else { false } }
        // The protocol refuses empty ids, so a model is refused one.
        expectRefusal(editingVersionOne { $0["user_ids"] = "[\"\", \"bob\"]" }) { $0 == .inconsistentVocabulary("the user id of row 0 is empty") }
        // A user vocabulary that disagrees with the user table's rows.
        expectRefusal(editingVersionOne { $0["user_ids"] = "[\"alice\"]" }) {
            $0 == .shapeMismatch(tensor: "user.embedding", expected: [1, 4], actual: [2, 4])
        }
    }

    @Test func inspectorRendersMetadataAndTensorTable() throws {
        let bytes = ModelFile.encode(try Fixtures.randomContents(architecture: .mmoe(experts: 2)))
        let text = try ModelFileInspector.render(bytes: bytes, name: "tiny.safetensors")
        #expect(text.contains("file: tiny.safetensors"))
        #expect(text.contains("architecture"))
        #expect(text.contains("mmoe"))
        #expect(text.contains("music: 4 items (rows 5..<9)"))
        #expect(text.contains("item.embedding"))
        #expect(text.contains("[9, 4]"))
        #expect(text.contains("encoder.gates.next_domain.weight"))
        #expect(text.contains("verification: ok"))
        #expect(text.contains("item.id_bytes") && text.contains("vocabulary: 9 items, 2 users"))
        // A file of format version 1 shows its vocabularies too, and its metadata keys.
        let old = try ModelFileInspector.render(bytes: ModelFileBytes.versionOne(try Fixtures.randomContents()))
        #expect(old.contains("music: 4 items (rows 5..<9)") && old.contains("item_ids") && old.contains("verification: ok"))
        // A file that is a valid container but not a valid model still renders, with the reason.
        var contents = try Fixtures.randomContents()
        contents.parameters.tensors["item.bias"]!.scalars[0] = .nan
        let refused = try ModelFileInspector.inspect(bytes: ModelFile.encode(contents))
        let bad = refused.text
        let accepted = try ModelFileInspector.inspect(bytes: bytes)
        #expect(!refused.verified && accepted.verified)
        #expect(bad.contains("verification: FAILED"))
        #expect(bad.contains("item.bias"))
        #expect(throws: ModelFileError.truncatedHeaderLength(fileSize: 3)) { try ModelFileInspector.render(bytes: [1, 2, 3]) }
    }
}
