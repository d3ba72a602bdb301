import MedleyProtocol
import SwiftProtobuf

/// An `EventLogRecord`'s protobuf encoding, written by hand: the same bytes as
/// `Medley_V1_EventLogRecord.serializedBytes()` (fields in number order, a zero scalar or
/// empty string left out, the event always present, an optional field present when set),
/// without building the record message or running the general encoder over the event, which
/// together cost the log thread half of its time. The receipt, written once per batch, goes
/// through the general encoder.
enum EventLogRecordEncoding {
    static func encode(sequence: UInt64, receivedAtMs: Int64, event: Medley_V1_SessionEvent,
                       receipt: Medley_V1_IngestReceipt?) throws -> [UInt8] {
        let receiptBytes: [UInt8]? = try receipt.map { try $0.serializedBytes() }
        let eventSize = encodedSize(of: event)
        var out: [UInt8] = []
        out.reserveCapacity(eventSize + (receiptBytes?.count ?? 0) + 32)
        if sequence != 0 {
            out.append(0x08)  // field 1, varint
            appendVarint(sequence, to: &out)
        }
        if receivedAtMs != 0 {
            out.append(0x10)  // field 2, varint (int64: two's complement, ten bytes when negative)
            appendVarint(UInt64(bitPattern: receivedAtMs), to: &out)
        }
        out.append(0x1A)  // field 3, length-delimited
        appendVarint(UInt64(eventSize), to: &out)
        append(event, to: &out)
        if let receiptBytes {
            out.append(0x22)  // field 4, length-delimited
            appendVarint(UInt64(receiptBytes.count), to: &out)
            out.append(contentsOf: receiptBytes)
        }
        return out
    }

    /// The bytes ``append(_:to:)`` writes for `event`.
    static func encodedSize(of event: Medley_V1_SessionEvent) -> Int {
        var size = 0
        func addString(_ value: String) {
            let count = value.utf8.count
            size += 1 + varintSize(UInt64(count)) + count
        }
        if !event.userID.isEmpty { addString(event.userID) }
        if event.hasSessionID { addString(event.sessionID) }
        if !event.itemID.isEmpty { addString(event.itemID) }
        if !event.domain.isEmpty { addString(event.domain) }
        if event.type != .unspecified { size += 1 + varintSize(enumWireValue(event.type)) }
        if event.timestampMs != 0 { size += 1 + varintSize(UInt64(bitPattern: event.timestampMs)) }
        if event.dwellMs != 0 { size += 1 + varintSize(UInt64(event.dwellMs)) }
        if event.hasWeight { size += 5 }
        return size + event.unknownFields.data.count
    }

    /// Appends `event`'s protobuf encoding, as `Medley_V1_SessionEvent.serializedBytes()`
    /// makes it: known fields in number order, then the unknown fields it was decoded with.
    static func append(_ event: Medley_V1_SessionEvent, to out: inout [UInt8]) {
        func appendString(_ tag: UInt8, _ value: String) {
            out.append(tag)
            appendVarint(UInt64(value.utf8.count), to: &out)
            out.append(contentsOf: value.utf8)
        }
        if !event.userID.isEmpty { appendString(0x0A, event.userID) }  // field 1
        if event.hasSessionID { appendString(0x12, event.sessionID) }  // field 2, present when set
        if !event.itemID.isEmpty { appendString(0x1A, event.itemID) }  // field 3
        if !event.domain.isEmpty { appendString(0x22, event.domain) }  // field 4
        if event.type != .unspecified {
            out.append(0x28)  // field 5, varint
            appendVarint(enumWireValue(event.type), to: &out)
        }
        if event.timestampMs != 0 {
            out.append(0x30)  // field 6, varint
            appendVarint(UInt64(bitPattern: event.timestampMs), to: &out)
        }
        if event.dwellMs != 0 {
            out.append(0x38)  // field 7, varint
            appendVarint(UInt64(event.dwellMs), to: &out)
        }
        if event.hasWeight {
            out.append(0x45)  // field 8, 32-bit, little-endian
            let bits = event.weight.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
        out.append(contentsOf: event.unknownFields.data)
    }

    /// An enum's value on the wire: an int32 sign-extended to 64 bits (ten bytes when negative).
    private static func enumWireValue(_ type: Medley_V1_EventType) -> UInt64 {
        UInt64(bitPattern: Int64(type.rawValue))
    }

    private static func varintSize(_ value: UInt64) -> Int {
        // One byte per seven bits, at least one.
        (64 - value.leadingZeroBitCount + 6) / 7 + (value == 0 ? 1 : 0)
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
