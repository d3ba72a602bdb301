import MedleyModel

/// Why a model was refused. The previous model keeps serving; the description is what the
/// log, `HealthReply.detail` and `StatsReply.last_model_rejection` show.
public enum ModelRejection: Error, Equatable, Sendable, CustomStringConvertible {
    /// The frames or the announcement could not be parsed.
    case malformedMessage(String)
    /// Larger than the configured maximum; refused before hashing.
    case tooLarge(bytes: UInt64, limit: Int)
    /// The model bytes are not `size_bytes` long.
    case sizeMismatch(announced: UInt64, received: Int)
    /// The model bytes' SHA-256 is not the announced one.
    case hashMismatch(announced: String, actual: String)
    /// A trainer key is configured and the announcement, or the model file (no `.sig` beside
    /// it), carries no signature.
    case unsigned
    /// The signature is not the trainer key's signature of this version and hash.
    case badSignature
    /// Not newer than the model serving.
    case notNewer(version: UInt64, serving: UInt64)
    /// The model file says another version than its announcement or file name.
    case versionMismatch(expected: UInt64, file: UInt64)
    /// The model file failed to decode or validate (shapes, dtypes, finite values, vocabulary).
    case invalidModel(ModelFileError)
    /// The announcement describes another model than the bytes hold.
    case announcementMismatch(String)
    /// The model lacks domains the service accepts events for.
    case missingDomains([String])
    /// The model is a valid file the service cannot serve (context width, overflowing weights).
    case notServable(ModelServabilityProblem)
    /// The warm-up forward passes produced non-finite outputs.
    case warmUpFailed(String)

    public var description: String {
        switch self {
        case .malformedMessage(let detail): "malformed publication: \(detail)"
        case .tooLarge(let bytes, let limit): "the model is \(bytes) bytes; the limit is \(limit)"
        case .sizeMismatch(let announced, let received): "size mismatch: announced \(announced) bytes, received \(received)"
        case .hashMismatch(let announced, let actual): "SHA-256 mismatch: announced \(announced), the bytes hash to \(actual)"
        case .unsigned: "unsigned, and this server requires the trainer's signature"
        case .badSignature: "the signature is not the trainer key's"
        case .notNewer(let version, let serving): "version \(version) is older than version \(serving), which is serving"
        case .versionMismatch(let expected, let file): "expected model version \(expected), the file says \(file)"
        case .invalidModel(let error): "invalid model file: \(error)"
        case .announcementMismatch(let detail): "the announcement does not match the file: \(detail)"
        case .missingDomains(let domains): "the model does not serve \(domains.joined(separator: ", ")), which the service accepts events for"
        case .notServable(let problem): "not servable: \(problem)"
        case .warmUpFailed(let detail): "warm-up failed: \(detail)"
        }
    }
}
