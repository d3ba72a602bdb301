import Foundation

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
