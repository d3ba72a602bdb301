extension Medley_V1_SessionEvent {
    /// The bytes ``appendEncoding(to:)`` writes, counted without writing them.
    public var encodedSize: Int {
        var size = 0
        func addString(_ value: String) {
            let count = value.utf8.count
            size += 1 + WireFormatWriter.varintSize(UInt64(count)) + count
        }
        if !userID.isEmpty { addString(userID) }
        if hasSessionID { addString(sessionID) }
        if !itemID.isEmpty { addString(itemID) }
        if !domain.isEmpty { addString(domain) }
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
        func appendString(_ tag: UInt8, _ value: String) {
            out.append(tag)
            let utf8 = value.utf8
            WireFormatWriter.appendVarint(UInt64(utf8.count), to: &out)
            // A native string's bytes are copied in one go; the view's iterator goes byte by byte.
            if utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil { out.append(contentsOf: utf8) }
        }
        if !userID.isEmpty { appendString(0x0A, userID) }  // field 1
        if hasSessionID { appendString(0x12, sessionID) }  // field 2, written when set, even empty
        if !itemID.isEmpty { appendString(0x1A, itemID) }  // field 3
        if !domain.isEmpty { appendString(0x22, domain) }  // field 4
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
        if hasWeight {
            out.append(0x45)  // field 8, 32 bits, little-endian
            let bits = weight.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        // Appending even empty `Data` builds an iterator: skipped for the usual event.
        if !unknownFields.data.isEmpty { out.append(contentsOf: unknownFields.data) }
    }

    /// The type on the wire: an enum is an int32, sign-extended to 64 bits (ten bytes when negative).
    private var typeWireValue: UInt64 {
        UInt64(bitPattern: Int64(type.rawValue))
    }
}
