import Foundation

/// Human-readable summary of a model file: its metadata and tensor table (`medley inspect`).
public enum ModelFileInspector {
    /// Metadata values longer than this are shown by size only.
    static let longValueLimit = 120

    /// The rendering, and whether the whole file passed Medley's validation.
    public struct Inspection: Sendable {
        public var text: String
        public var verified: Bool
    }

    public static func inspect(url: URL) throws(ModelFileError) -> Inspection {
        try inspect(bytes: ModelFile.readBytes(url), name: url.path)
    }

    /// ``inspect(bytes:name:)``'s text.
    public static func render(bytes: [UInt8], name: String = "model") throws(ModelFileError) -> String {
        try inspect(bytes: bytes, name: name).text
    }

    /// Renders the container's header (refused if the container is malformed), then whether the
    /// whole file passes Medley's validation and, if not, why.
    public static func inspect(bytes: [UInt8], name: String = "model") throws(ModelFileError) -> Inspection {
        let header = try bytes.withUnsafeBytes { raw in
            Result { () throws(ModelFileError) in try SafeTensors.readHeader(raw) }
        }.get()
        var lines: [String] = []
        lines.append("file: \(name)")
        lines.append("size: \(bytes.count) bytes (header \(header.headerLength), data \(bytes.count - header.dataStart))")
        lines.append("")
        lines.append("metadata:")
        let keyWidth = header.metadata.keys.map(\.count).max() ?? 0
        for key in header.metadata.keys.sorted() {
            let value = header.metadata[key]!
            let shown: String
            if value.count <= longValueLimit {
                shown = value
            } else if let array = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [Any] {
                shown = "[\(array.count) entries]"
            } else {
                shown = "(\(value.utf8.count) bytes)"
            }
            lines.append("  \(key.padding(toLength: keyWidth, withPad: " ", startingAt: 0))  \(shown)")
        }
        var byName = Dictionary(uniqueKeysWithValues: header.entries.map { ($0.name, $0) })
        let vocabularies = bytes.withUnsafeBytes { raw in
            Result { () throws(ModelFileError) in try ModelFile.decodeConfigurationAndVocabularies(header, &byName, raw: raw) }
        }
        if case .success(let (configuration, catalog, users)) = vocabularies {
            lines.append("")
            lines.append("vocabulary: \(catalog.count) items, \(users.count) users")
            for (t, domain) in configuration.domains.enumerated() {
                lines.append("  \(domain): \(catalog.domainRanges[t].count) items (rows \(catalog.domainRanges[t].lowerBound)..<\(catalog.domainRanges[t].upperBound))")
            }
        }
        lines.append("")
        let rows = header.entries.map { entry in
            [entry.name, entry.dtype, "[" + entry.shape.map(String.init).joined(separator: ", ") + "]",
             "\(entry.dataOffsets.lowerBound)", "\(entry.dataOffsets.upperBound)", "\(entry.dataOffsets.count)"]
        }
        let titles = ["tensor", "dtype", "shape", "begin", "end", "bytes"]
        let widths = titles.indices.map { column in ([titles[column]] + rows.map { $0[column] }).map(\.count).max()! }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column < 3 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                           : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        lines.append(format(titles))
        lines.append(contentsOf: rows.map(format))
        lines.append("")
        var verified = false
        do {
            let model = try MultitaskModel(ModelFile.decode(bytes))
            verified = true
            lines.append("verification: ok")
            do {
                try ModelServability.check(model)
                lines.append("servable: yes")
            } catch {
                lines.append("servable: NO: \(error)")
            }
        } catch {
            lines.append("verification: FAILED: \(error)")
        }
        return Inspection(text: lines.joined(separator: "\n") + "\n", verified: verified)
    }
}
