extension Medley_V1_SessionEvent {
    /// The bytes ``appendEncoding(to:)`` writes, counted without writing them.
    public var encodedSize: Int {
        var size = 0
        if !userID.isEmpty { size += WireFormatWriter.stringFieldSize(userID) }
        if hasSessionID { size += WireFormatWriter.stringFieldSize(sessionID) }
        if !itemID.isEmpty { size += WireFormatWriter.stringFieldSize(itemID) }
        if !domain.isEmpty { size += WireFormatWriter.stringFieldSize(domain) }
        if type != .unspecified { size += 1 + WireFormatWriter.varintSize(typeWireValue) }
        if timestampMs != 0 { size += 1 + WireFormatWriter.varintSize(UInt64(bitPattern: timestampMs)) }
        if dwellMs != 0 { size += 1 + WireFormatWriter.varintSize(UInt64(dwellMs)) }
        if hasWeight { size += 5 }
        return size + unknownFields.data.count
    }

    /// Appends the event's protobuf encoding, the bytes of `serializedBytes()`: known fields in
    /// number order (a zero scalar or empty string left out, an optional field written when
    /// set), then the unknown fields it was decoded with. Written directly, without the general
    /// encoder's visitors and size pass, which cost the event log's thread and the load
    /// generator a third of their time.
    public func appendEncoding(to out: inout [UInt8]) {
        if !userID.isEmpty { WireFormatWriter.appendString(tag: 0x0A, userID, to: &out) }  // field 1
        if hasSessionID { WireFormatWriter.appendString(tag: 0x12, sessionID, to: &out) }  // field 2, written when set, even empty
        if !itemID.isEmpty { WireFormatWriter.appendString(tag: 0x1A, itemID, to: &out) }  // field 3
        if !domain.isEmpty { WireFormatWriter.appendString(tag: 0x22, domain, to: &out) }  // field 4
        if type != .unspecified {
            out.append(0x28)  // field 5, varint
            WireFormatWriter.appendVarint(typeWireValue, to: &out)
        }
        if timestampMs != 0 {
            out.append(0x30)  // field 6, varint (int64: two's complement, ten bytes when negative)
            WireFormatWriter.appendVarint(UInt64(bitPattern: timestampMs), to: &out)
        }
        if dwellMs != 0 {
            out.append(0x38)  // field 7, varint
            WireFormatWriter.appendVarint(UInt64(dwellMs), to: &out)
        }
        if hasWeight { WireFormatWriter.appendFloat(tag: 0x45, weight, to: &out) }  // field 8, 32 bits
        WireFormatWriter.appendUnknownFields(unknownFields.data, to: &out)
    }

    /// The type on the wire: an enum is an int32, sign-extended to 64 bits (ten bytes when negative).
    private var typeWireValue: UInt64 {
        UInt64(bitPattern: Int64(type.rawValue))
    }
}
