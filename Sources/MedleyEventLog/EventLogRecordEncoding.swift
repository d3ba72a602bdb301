import MedleyProtocol
import SwiftProtobuf

/// An `EventLogRecord`'s protobuf encoding, framed by hand around its event's own encoding:
/// the same bytes as `Medley_V1_EventLogRecord.serializedBytes()` (fields in number order, a
/// zero scalar left out, the event always present), without building the record message,
/// which cost the log thread as much as encoding the event.
enum EventLogRecordEncoding {
    static func encode(sequence: UInt64, receivedAtMs: Int64, event: Medley_V1_SessionEvent,
                       receipt: Medley_V1_IngestReceipt?) throws -> [UInt8] {
        let eventBytes: [UInt8] = try event.serializedBytes()
        let receiptBytes: [UInt8]? = try receipt.map { try $0.serializedBytes() }
        var out: [UInt8] = []
        out.reserveCapacity(eventBytes.count + (receiptBytes?.count ?? 0) + 32)
        if sequence != 0 {
            out.append(0x08)  // field 1, varint
            appendVarint(sequence, to: &out)
        }
        if receivedAtMs != 0 {
            out.append(0x10)  // field 2, varint (int64: two's complement, ten bytes when negative)
            appendVarint(UInt64(bitPattern: receivedAtMs), to: &out)
        }
        out.append(0x1A)  // field 3, length-delimited
        appendVarint(UInt64(eventBytes.count), to: &out)
        out.append(contentsOf: eventBytes)
        if let receiptBytes {
            out.append(0x22)  // field 4, length-delimited
            appendVarint(UInt64(receiptBytes.count), to: &out)
            out.append(contentsOf: receiptBytes)
        }
        return out
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
