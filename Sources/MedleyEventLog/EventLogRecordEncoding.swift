import MedleyProtocol
import SwiftProtobuf

/// An `EventLogRecord`'s protobuf encoding, written by hand: the same bytes as
/// `Medley_V1_EventLogRecord.serializedBytes()` (fields in number order, a zero scalar left
/// out, the event always present), without building the record message or running the general
/// encoder over the event (``Medley_V1_SessionEvent/appendEncoding(to:)``), which together cost
/// the log thread half of its time. The receipt, written once per batch, goes through the
/// general encoder.
enum EventLogRecordEncoding {
    /// Appends the record's bytes to `out` (the batch's buffer, ``WrittenRecords``).
    static func append(sequence: UInt64, receivedAtMs: Int64, event: Medley_V1_SessionEvent,
                       receipt: Medley_V1_IngestReceipt?, to out: inout [UInt8]) throws {
        let receiptBytes: [UInt8]? = try receipt.map { try $0.serializedBytes() }
        let eventSize = event.encodedSize
        if sequence != 0 {
            out.append(0x08)  // field 1, varint
            WireFormatWriter.appendVarint(sequence, to: &out)
        }
        if receivedAtMs != 0 {
            out.append(0x10)  // field 2, varint (int64: two's complement, ten bytes when negative)
            WireFormatWriter.appendVarint(UInt64(bitPattern: receivedAtMs), to: &out)
        }
        out.append(0x1A)  // field 3, length-delimited
        WireFormatWriter.appendVarint(UInt64(eventSize), to: &out)
        event.appendEncoding(to: &out)
        if let receiptBytes { WireFormatWriter.appendLengthDelimited(tag: 0x22, receiptBytes, to: &out) }  // field 4
    }
}
