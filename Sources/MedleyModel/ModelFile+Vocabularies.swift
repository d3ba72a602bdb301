/// Where a model file keeps its item and user vocabularies, and how they are written and read
/// (models/README.md, "Vocabularies").
///
/// Format version 1 kept them as JSON arrays in the header's metadata, parsed whole at every
/// load and bounded by the 100 MB header cap. Version 2 keeps them in the data buffer: per
/// vocabulary the ids' UTF-8 bytes (`U8`) and n + 1 offsets (`I64`), and the items' domain
/// indices (`I32`). Reading one copies its tensors into arrays and checks them: no JSON, no
/// allocation per id. Medley writes version 2 and reads both.
extension ModelFile {
    /// The vocabulary tensors of format version 2.
    public enum VocabularyTensor {
        public static let itemIDOffsets = "item.id_offsets"
        public static let itemIDBytes = "item.id_bytes"
        public static let itemDomains = "item.domain"
        public static let userIDOffsets = "user.id_offsets"
        public static let userIDBytes = "user.id_bytes"
    }

    /// Where a file's vocabularies are, which its `format_version` says.
    public enum VocabularyLayout: Sendable, Equatable, CaseIterable {
        /// Version 1: `item_ids`, `item_domains` and `user_ids` in the metadata.
        case metadata
        /// Version 2: the ``VocabularyTensor`` tensors.
        case tensors

        /// The layout of a `format_version` value, or nil for a version this code does not read.
        public init?(formatVersion: String) {
            guard let layout = Self.allCases.first(where: { String($0.formatVersion) == formatVersion }) else { return nil }
            self = layout
        }

        public var formatVersion: Int {
            switch self {
            case .metadata: 1
            case .tensors: 2
            }
        }
    }

    /// The vocabulary tensors Medley writes: the offsets first, so that they start 8-byte
    /// aligned at the buffer's start, and the rest after every 4-byte tensor (``encode(_:)``).
    static func vocabularyTensors(_ contents: ModelFileContents)
        -> (leading: [(name: String, data: SafeTensors.TensorData)], trailing: [(name: String, data: SafeTensors.TensorData)]) {
        (leading: [(VocabularyTensor.itemIDOffsets, .int64(contents.catalog.ids.offsets.map(Int64.init))),
                   (VocabularyTensor.userIDOffsets, .int64(contents.users.ids.offsets.map(Int64.init)))],
         trailing: [(VocabularyTensor.itemDomains, .int32(contents.catalog.domainOfItem.map(Int32.init))),
                    (VocabularyTensor.itemIDBytes, .uint8(contents.catalog.ids.utf8)),
                    (VocabularyTensor.userIDBytes, .uint8(contents.users.ids.utf8))])
    }

    /// The vocabularies of a version 2 file, from its tensors, which are taken out of `byName`;
    /// `metadata` must not also hold them.
    static func decodeVocabularyTensors(_ metadata: [String: String], _ byName: inout [String: SafeTensorsEntry],
                                        raw: UnsafeRawBufferPointer, dataStart: Int,
                                        domainCount: Int) throws(ModelFileError) -> (ItemCatalog, UserVocabulary) {
        for key in [Key.itemIDs, Key.itemDomains, Key.userIDs] where metadata[key] != nil {
            throw .invalidMetadata(key: key, reason: "format version 2 keeps the vocabularies in tensors, not in the metadata")
        }
        func take(_ name: String) throws(ModelFileError) -> SafeTensorsEntry {
            guard let entry = byName.removeValue(forKey: name) else { throw .missingTensor(name) }
            return entry
        }
        let itemIDs = try packedIDs(offsets: take(VocabularyTensor.itemIDOffsets), bytes: take(VocabularyTensor.itemIDBytes),
                                    raw: raw, dataStart: dataStart)
        let domainsEntry = try take(VocabularyTensor.itemDomains)
        guard domainsEntry.shape == [itemIDs.count] else {
            throw .shapeMismatch(tensor: domainsEntry.name, expected: [itemIDs.count], actual: domainsEntry.shape)
        }
        let domains = try SafeTensors.int32s(domainsEntry, in: raw, dataStart: dataStart).map(Int.init)
        let catalog = try ItemCatalog(ids: itemIDs, domainOfItem: domains, domainCount: domainCount)
        let userIDs = try packedIDs(offsets: take(VocabularyTensor.userIDOffsets), bytes: take(VocabularyTensor.userIDBytes),
                                    raw: raw, dataStart: dataStart)
        return (catalog, try UserVocabulary(ids: userIDs))
    }

    /// One vocabulary's ids: the offsets start at 0, never decrease, stay within the bytes and
    /// end at their count; every id is well-formed UTF-8.
    private static func packedIDs(offsets offsetsEntry: SafeTensorsEntry, bytes bytesEntry: SafeTensorsEntry,
                                  raw: UnsafeRawBufferPointer, dataStart: Int) throws(ModelFileError) -> PackedIDs {
        let name = offsetsEntry.name
        guard offsetsEntry.shape.count == 1, offsetsEntry.shape[0] >= 1 else {
            throw .shapeMismatch(tensor: name, expected: [-1], actual: offsetsEntry.shape)
        }
        guard bytesEntry.shape.count == 1 else { throw .shapeMismatch(tensor: bytesEntry.name, expected: [-1], actual: bytesEntry.shape) }
        let utf8 = try SafeTensors.uint8s(bytesEntry, in: raw, dataStart: dataStart)
        let stored = try SafeTensors.int64s(offsetsEntry, in: raw, dataStart: dataStart)
        guard stored[0] == 0 else { throw .invalidVocabularyTensor(tensor: name, reason: "the first offset is \(stored[0]), not 0") }
        let end = Int64(utf8.count)
        var offsets = [Int](repeating: 0, count: stored.count)
        for i in 1..<stored.count {
            let previous = stored[i - 1], next = stored[i]
            guard next <= end else {
                throw .invalidVocabularyTensor(tensor: name, reason: "offset \(i) (\(next)) is past the end of the \(end) bytes of \(bytesEntry.name)")
            }
            guard next >= previous else {
                throw .invalidVocabularyTensor(tensor: name, reason: "offset \(i) (\(next)) is below offset \(i - 1) (\(previous))")
            }
            offsets[i] = Int(next)
        }
        guard stored[stored.count - 1] == end else {
            throw .invalidVocabularyTensor(tensor: name, reason: "the last offset (\(stored[stored.count - 1])) is not the end of the \(end) bytes of \(bytesEntry.name)")
        }
        let malformed = utf8.withUnsafeBytes { all in
            (0..<(offsets.count - 1)).first { !UTF8Validation.isWellFormed(UnsafeRawBufferPointer(rebasing: all[offsets[$0]..<offsets[$0 + 1]])) }
        }
        if let row = malformed {
            throw .invalidVocabularyTensor(tensor: bytesEntry.name, reason: "the id of row \(row) is not well-formed UTF-8")
        }
        return PackedIDs(checkedUTF8: utf8, offsets: offsets)
    }
}
