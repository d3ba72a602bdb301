/// The column types of RecBole's atomic files (`.inter`, `.item`, `.user`).
public enum AtomicFieldType: String, Sendable, CaseIterable {
    /// One identifier or category.
    case token
    /// Several tokens separated by spaces.
    case tokenSequence = "token_seq"
    /// One number.
    case float
    /// Several numbers separated by spaces.
    case floatSequence = "float_seq"
}

/// One column of an atomic file's header, written `name:type`.
public struct AtomicField: Sendable, Hashable {
    public var name: String
    public var type: AtomicFieldType

    public init(name: String, type: AtomicFieldType) {
        self.name = name
        self.type = type
    }
}

/// A streaming reader for RecBole atomic files: tab-separated text whose first line declares
/// each column as `name:type`. Rows are read one at a time; a row with the wrong number of
/// columns is an error that names its line.
///
/// Not thread-safe: one reader belongs to one task.
public final class AtomicFileReader {
    /// The columns, in file order.
    public let fields: [AtomicField]
    private let reader: LineReader
    private let columnByName: [String: Int]

    /// Opens a file and reads its header.
    public convenience init(path: String) throws(DataFileError) {
        try self.init(reader: LineReader(path: path))
    }

    /// Reads an atomic file held in memory; `name` stands for the path in errors.
    public convenience init(text: String, name: String) throws(DataFileError) {
        try self.init(reader: LineReader(bytes: Array(text.utf8), name: name))
    }

    private init(reader: LineReader) throws(DataFileError) {
        self.reader = reader
        guard let header = try reader.nextLine() else { throw .empty(path: reader.path) }
        var fields: [AtomicField] = []
        var columnByName: [String: Int] = [:]
        for (index, column) in header.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).enumerated() {
            let text = String(decoding: column, as: UTF8.self)
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw .badHeader(path: reader.path, reason: "column \(index + 1) is \"\(text)\", expected name:type")
            }
            guard let type = AtomicFieldType(rawValue: String(parts[1])) else {
                let known = AtomicFieldType.allCases.map(\.rawValue).joined(separator: ", ")
                throw .badHeader(path: reader.path, reason: "column \"\(parts[0])\" has unknown type \"\(parts[1])\" (known: \(known))")
            }
            let name = String(parts[0])
            guard columnByName.updateValue(index, forKey: name) == nil else {
                throw .badHeader(path: reader.path, reason: "column \"\(name)\" appears twice")
            }
            fields.append(AtomicField(name: name, type: type))
        }
        self.fields = fields
        self.columnByName = columnByName
    }

    /// The path (or name) of the input, for messages.
    public var path: String { reader.path }

    /// The 1-based line number of the row last returned (the header is line 1).
    public var lineNumber: Int { reader.lineNumber }

    /// The index of a column, checking that it has one of the accepted types.
    public func column(named name: String, types: Set<AtomicFieldType>) throws(DataFileError) -> Int {
        guard let index = columnByName[name] else {
            throw .missingColumn(path: path, column: name, reason: "is missing (columns: \(fields.map(\.name).joined(separator: ", ")))")
        }
        guard types.contains(fields[index].type) else {
            let accepted = types.map(\.rawValue).sorted().joined(separator: " or ")
            throw .missingColumn(path: path, column: name, reason: "has type \(fields[index].type.rawValue), expected \(accepted)")
        }
        return index
    }

    /// The index of the first column, among `names`, that is present.
    public func firstColumn(among names: [String], types: Set<AtomicFieldType>) throws(DataFileError) -> Int {
        for name in names where columnByName[name] != nil {
            return try column(named: name, types: types)
        }
        throw .missingColumn(path: path, column: names.joined(separator: "\" or \""), reason: "is missing (columns: \(fields.map(\.name).joined(separator: ", ")))")
    }

    /// The next data row's columns, or nil at the end of the file. Blank lines are skipped.
    public func nextRow() throws(DataFileError) -> [Substring]? {
        while let line = try reader.nextLine() {
            if line.isEmpty { continue }
            let text = String(decoding: line, as: UTF8.self)
            let columns = text.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == fields.count else {
                throw badRow("has \(columns.count) columns, the header declares \(fields.count)")
            }
            return columns
        }
        return nil
    }

    /// An error for the row last returned, for callers that find a bad value in it.
    public func badRow(_ reason: String) -> DataFileError {
        .badRow(path: path, line: lineNumber, reason: reason)
    }
}

@available(*, unavailable)
extension AtomicFileReader: Sendable {}
