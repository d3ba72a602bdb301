/// A forward-only reader of messages in the plain form this service's own writers make, for
/// the hot paths that would otherwise run SwiftProtobuf's general decoder on every event (the
/// broker's ingest requests, the workers' log records).
///
/// Every read returns nil on anything outside that form: a tag longer than five bytes or
/// with a field number outside 1 ..< 2^29, a varint whose tenth byte carries more than the
/// top bit, a length past the end, invalid UTF-8, a wire type of 1, 3 or 4. Callers return nil
/// too on a field they do not know, a field seen twice, or an integer outside its field's
/// range. So whatever it reads, SwiftProtobuf reads alike; everything else is left to
/// SwiftProtobuf, which then decides (and gives its own errors).
public struct PlainWireReader {
    public enum WireType: UInt64 {
        case varint = 0, lengthDelimited = 2, fixed32 = 5
    }

    private let bytes: UnsafeRawBufferPointer
    private var position: Int
    private let end: Int

    /// A reader of the message `bytes[range]` holds.
    public init(bytes: UnsafeRawBufferPointer, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "the range lies outside the bytes")
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    /// Whether every field has been read.
    public var isAtEnd: Bool { position >= end }

    /// A reader of the message a length-delimited field holds.
    public func message(in range: Range<Int>) -> PlainWireReader {
        PlainWireReader(bytes: bytes, range: range)
    }

    /// A varint of at most 10 bytes, or nil.
    public mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // The tenth byte may only carry the top bit.
                return shift == 63 && byte > 1 ? nil : value
            }
            shift += 7
        }
        return nil
    }

    /// The next field's number and wire type, or nil (at the end, or on a tag outside the form).
    public mutating func tag() -> (field: Int, wire: WireType)? {
        let start = position
        guard position < end, let key = varint(), position - start <= 5,
              key >> 3 >= 1, key >> 3 < 1 << 29, let wire = WireType(rawValue: key & 7) else { return nil }
        return (Int(key >> 3), wire)
    }

    /// The range of a length-delimited field's bytes, moving past it.
    public mutating func delimited() -> Range<Int>? {
        guard let length = varint(), length <= UInt64(end - position) else { return nil }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// A length-delimited field's bytes, moving past them, and whether they are ASCII: the
    /// usual id, valid UTF-8 as it is, so that the standard library's generic check (a runtime
    /// type lookup per call) is left to the rest.
    private mutating func text() -> (bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool)? {
        guard let range = delimited() else { return nil }
        let text = UnsafeRawBufferPointer(rebasing: bytes[range]).assumingMemoryBound(to: UInt8.self)
        return (text, text.allSatisfy { $0 < 0x80 })
    }

    /// A length-delimited field's bytes as a string, or nil when they are not UTF-8.
    public mutating func string() -> String? {
        guard let (text, isASCII) = text() else { return nil }
        return isASCII ? String(decoding: text, as: UTF8.self) : String(validating: text, as: UTF8.self)
    }

    /// Whether a length-delimited field's bytes are UTF-8, moving past them; nil when they
    /// are not (or run past the end). For a reader that checks a string without keeping it.
    public mutating func skipString() -> Void? {
        guard let (text, isASCII) = text() else { return nil }
        return isASCII || String(validating: text, as: UTF8.self) != nil ? () : nil
    }

    /// Four little-endian bytes.
    public mutating func fixed32() -> UInt32? {
        guard end - position >= 4 else { return nil }
        defer { position += 4 }
        return bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian
    }

    /// The `SessionEvent` this reader's message is, each field at most once with its schema's
    /// wire type and in its range, no unknown field; or nil.
    public mutating func sessionEvent() -> Medley_V1_SessionEvent? {
        var event = Medley_V1_SessionEvent()
        var seen: UInt16 = 0
        while !isAtEnd {
            guard let (field, wire) = tag(), field <= 8, seen & (1 << field) == 0 else { return nil }
            seen |= 1 << field
            switch (field, wire) {
            case (1...4, .lengthDelimited):
                guard let value = string() else { return nil }
                switch field {
                case 1: event.userID = value
                case 2: event.sessionID = value
                case 3: event.itemID = value
                default: event.domain = value
                }
            case (5, .varint):
                // An enum is an int32, sent sign-extended to 64 bits when negative.
                guard let value = varint(), let raw = Int32(exactly: Int64(bitPattern: value)) else { return nil }
                event.type = Medley_V1_EventType(rawValue: Int(raw)) ?? .UNRECOGNIZED(Int(raw))
            case (6, .varint):
                guard let value = varint() else { return nil }
                event.timestampMs = Int64(bitPattern: value)
            case (7, .varint):
                guard let value = varint(), let narrow = UInt32(exactly: value) else { return nil }
                event.dwellMs = narrow
            case (8, .fixed32):
                guard let bits = fixed32() else { return nil }
                event.weight = Float(bitPattern: bits)
            default:
                return nil
            }
        }
        return event
    }
}
