/// Why a key could not be made, read or written.
public enum KeyFileError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read or written; `reason` is the system's.
    case io(path: String, reason: String)
    /// The file is not a key file of the expected kind.
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let path, let reason): "\(path): \(reason)"
        case .malformed(let path, let reason): "\(path) is not a Medley key file: \(reason)"
        }
    }
}
