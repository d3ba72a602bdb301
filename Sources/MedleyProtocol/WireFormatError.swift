/// Why bytes are not protobuf's binary wire format, as ``WireFormatReader`` finds it. The
/// cases are SwiftProtobuf's `BinaryDecodingError` cases for the same faults, so a frame gets
/// the same detail whichever of the two read it.
public enum WireFormatError: Error, Equatable, Sendable {
    /// The bytes end in the middle of a field (a varint, a fixed value, a length's bytes, a group).
    case truncated
    /// A tag or varint that cannot be: field number 0, wire type 6 or 7, an end-group with no
    /// group open, a varint of more than ten bytes, a length of 2 GiB or more.
    case malformed
    /// Messages and groups are nested deeper than the limit.
    case tooDeep
    /// A string field is not valid UTF-8.
    case invalidUTF8

    /// The detail a `MALFORMED_FRAME` reply gives.
    public var detail: String {
        switch self {
        case .truncated: "the bytes end in the middle of a field"
        case .malformed: "invalid protobuf wire format"
        case .tooDeep: "messages are nested too deeply"
        case .invalidUTF8: "a string field is not valid UTF-8"
        }
    }
}
