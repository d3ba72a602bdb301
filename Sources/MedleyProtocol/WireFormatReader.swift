/// A bounded reader of one message's fields in protobuf's binary wire format, for reading a few
/// fields of an untrusted frame without decoding the rest (``RequestRoute``).
///
/// Invariant: every read checks what remains before it touches a byte, so no input makes it
/// read past its range, allocate, or recurse deeper than its depth budget. It accepts exactly
/// the wire format SwiftProtobuf's `BinaryDecoder` accepts at this level (the same tag, varint,
/// length and group rules, and the same depth accounting as `BinaryDecodingOptions.messageDepthLimit`),
/// so a message that SwiftProtobuf decodes is never refused here; a length-delimited field's
/// contents are not looked into unless asked for (``message(in:)``).
public struct WireFormatReader {
    /// The wire types; 6 and 7 do not exist.
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// What one field holds.
    public enum Value: Equatable, Sendable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        /// The field's contents: where they lie in the reader's bytes.
        case lengthDelimited(Range<Int>)
        /// A group, checked and skipped whole (no medley.v1 field is a group).
        case group
    }

    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    /// How many more messages or groups may open inside this one: SwiftProtobuf's recursion
    /// budget while it reads this message's fields.
    private let depthBudget: Int

    /// A reader of the message that `bytes[range]` holds, nested in a message whose depth
    /// budget is `enclosingBudget`; pass `ProtocolLimits.maxMessageDepth` for an outermost message.
    ///
    /// - Throws: ``WireFormatError/tooDeep`` when the budget is spent.
    public init(_ bytes: [UInt8], range: Range<Int>, enclosingBudget: Int) throws(WireFormatError) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "the range lies outside the bytes")
        guard enclosingBudget > 0 else { throw .tooDeep }
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
        depthBudget = enclosingBudget - 1
    }

    /// The next field's number and value, or nil at the end of the message.
    public mutating func nextField() throws(WireFormatError) -> (number: Int, value: Value)? {
        guard position < end else { return nil }
        let (number, wireType) = try messageTag()
        switch wireType {
        case .varint: return (number, .varint(try varint()))
        case .fixed64: return (number, .fixed64(try littleEndian(byteCount: 8)))
        case .fixed32: return (number, .fixed32(UInt32(try littleEndian(byteCount: 4))))
        case .lengthDelimited: return (number, .lengthDelimited(try lengthDelimited()))
        case .startGroup:
            try skipGroup(number: number, budget: depthBudget)
            return (number, .group)
        case .endGroup:
            // A message is not a group: nothing here can close one.
            throw .malformed
        }
    }

    /// A reader of the message a length-delimited field of this one holds.
    public func message(in range: Range<Int>) throws(WireFormatError) -> WireFormatReader {
        try WireFormatReader(bytes, range: range, enclosingBudget: depthBudget)
    }

    // MARK: - Wire format

    /// A field's tag as SwiftProtobuf reads it between a message's fields: at most five bytes, a
    /// field number from 1 to 2^29 - 1, a wire type from 0 to 5.
    private mutating func messageTag() throws(WireFormatError) -> (Int, WireType) {
        var byte = bytes[position]
        guard let wireType = WireType(rawValue: byte & 7) else { throw .malformed }
        var number = Int(byte & 0x7F) >> 3
        var length = 1
        while byte & 0x80 != 0 {
            guard length < 5, position + length < end else { throw .malformed }
            byte = bytes[position + length]
            // The fifth byte carries the number's top four bits and no continuation.
            if length == 4 && byte > 15 { throw .malformed }
            number |= Int(byte & 0x7F) << (7 * length - 3)
            length += 1
        }
        position += length
        guard number != 0 else { throw .malformed }
        return (number, wireType)
    }

    /// A tag inside a group, as SwiftProtobuf reads it there: any varint below 2^32 - 1 with a
    /// field number other than 0 and a wire type from 0 to 5.
    private mutating func groupTag() throws(WireFormatError) -> (Int, WireType) {
        guard position < end else { throw .truncated }
        let tag = try varint()
        guard tag < UInt64(UInt32.max), tag >> 3 != 0, let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw .malformed
        }
        return (Int(tag >> 3), wireType)
    }

    /// A varint of at most ten bytes; bits past the 64th are dropped, as SwiftProtobuf does.
    private mutating func varint() throws(WireFormatError) -> UInt64 {
        guard position < end else { throw .truncated }
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end, shift <= 63 else { throw .malformed }
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    private mutating func littleEndian(byteCount: Int) throws(WireFormatError) -> UInt64 {
        guard end - position >= byteCount else { throw .truncated }
        var value: UInt64 = 0
        for index in 0..<byteCount { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
        position += byteCount
        return value
    }

    private mutating func lengthDelimited() throws(WireFormatError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw .truncated }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// Skips a group whose start tag was read, checking everything in it, down to its end tag.
    private mutating func skipGroup(number: Int, budget: Int) throws(WireFormatError) {
        guard budget > 0 else { throw .tooDeep }
        while true {
            let (inner, wireType) = try groupTag()
            switch wireType {
            case .endGroup:
                guard inner == number else { throw .malformed }
                return
            case .startGroup: try skipGroup(number: inner, budget: budget - 1)
            case .varint: _ = try varint()
            case .fixed64: _ = try littleEndian(byteCount: 8)
            case .fixed32: _ = try littleEndian(byteCount: 4)
            case .lengthDelimited: _ = try lengthDelimited()
            }
        }
    }
}
