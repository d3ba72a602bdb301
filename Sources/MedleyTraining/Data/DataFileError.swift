/// Why a data file could not be read. Every case names the file; row errors also give the
/// 1-based line number, counting the header as line 1.
public enum DataFileError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file has no header line.
    case empty(path: String)
    /// The header line is malformed (a column without `name:type`, an unknown type, a repeated name).
    case badHeader(path: String, reason: String)
    /// A column the reader needs is absent, or has a type it cannot use.
    case missingColumn(path: String, column: String, reason: String)
    /// A data row is malformed.
    case badRow(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .empty(let path):
            return "\(path): empty file, expected a header line"
        case .badHeader(let path, let reason):
            return "\(path):1: bad header: \(reason)"
        case .missingColumn(let path, let column, let reason):
            return "\(path): column \"\(column)\" \(reason)"
        case .badRow(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        }
    }
}
