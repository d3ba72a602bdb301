import Foundation
@testable import MedleyModel

/// Takes a model file's bytes apart and puts them back together, so that tests can write the
/// files a faulty writer, or an older version of Medley, would have written.
enum ModelFileBytes {
    /// Splits a file into its header object and data buffer.
    static func split(_ bytes: [UInt8]) -> (header: [String: Any], data: [UInt8]) {
        let n = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try! JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        return (header, Array(bytes[(8 + n)...]))
    }

    /// Reassembles a file from a header object (or raw header text) and a data buffer.
    static func assemble(header: [String: Any]? = nil, text: String? = nil, data: [UInt8]) -> [UInt8] {
        var json = text.map { Array($0.utf8) } ?? [UInt8](try! JSONSerialization.data(withJSONObject: header!))
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data
    }

    /// The file with its metadata edited, tensors untouched.
    static func editingMetadata(_ bytes: [UInt8], _ edit: (inout [String: String]) -> Void) -> [UInt8] {
        var (header, data) = split(bytes)
        var metadata = header["__metadata__"] as! [String: String]
        edit(&metadata)
        header["__metadata__"] = metadata
        return assemble(header: header, data: data)
    }
}

extension ModelFileBytes {
    /// The file as format version 1 wrote it: the vocabularies as JSON arrays in the metadata
    /// (`item_ids`, `item_domains`, `user_ids`, encoded with sorted keys and unescaped slashes),
    /// the layout's F32 tensors in order, then the sequential rules (strengths, row starts, targets).
    static func versionOne(_ contents: ModelFileContents) -> [UInt8] {
        var metadata = split(ModelFile.encode(contents)).header["__metadata__"] as! [String: String]
        func json<T: Encodable>(_ value: T) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try! encoder.encode(value), as: UTF8.self)
        }
        metadata["format_version"] = "1"
        metadata["item_ids"] = json(Array(contents.catalog.ids))
        metadata["item_domains"] = json(contents.catalog.domainOfItem)
        metadata["user_ids"] = json(Array(contents.users.ids))
        var tensors = contents.layout.entries.map { (name: $0.name, tensor: contents.parameters[$0.name]) }
        var integers: [(name: String, values: [Int32])] = []
        if let rules = contents.sequentialRules {
            tensors.append((ModelFile.RulesTensor.strengths, Tensor(shape: [rules.ruleCount], scalars: rules.strengths)))
            integers = [(ModelFile.RulesTensor.rowStart, rules.rowStart), (ModelFile.RulesTensor.targets, rules.targets)]
        }
        return SafeTensors.encode(tensors: tensors, integerTensors: integers, metadata: metadata)
    }

    /// A version 2 file of `contents` whose vocabulary tensors `edit` changed (replaced, removed
    /// or added to), the other tensors and the metadata as Medley writes them.
    static func editingVocabularyTensors(_ contents: ModelFileContents,
                                         _ edit: (inout [(name: String, data: SafeTensors.TensorData)]) -> Void) -> [UInt8] {
        let metadata = split(ModelFile.encode(contents)).header["__metadata__"] as! [String: String]
        let written = ModelFile.vocabularyTensors(contents)
        var vocabularies = written.leading + written.trailing
        edit(&vocabularies)
        var tensors = contents.layout.entries.map { (name: $0.name, data: SafeTensors.TensorData.float32(contents.parameters[$0.name])) }
        if let rules = contents.sequentialRules {
            tensors += [(ModelFile.RulesTensor.strengths, .float32(Tensor(shape: [rules.ruleCount], scalars: rules.strengths))),
                        (ModelFile.RulesTensor.rowStart, .int32(rules.rowStart)), (ModelFile.RulesTensor.targets, .int32(rules.targets))]
        }
        return SafeTensors.encode(vocabularies + tensors, metadata: metadata)
    }
}
