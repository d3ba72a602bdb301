/// Pieces of protobuf's binary wire format, for the few messages written by hand on hot paths
/// (``Medley_V1_SessionEvent/appendEncoding(to:)``, the event log's records, the load
/// generator's requests), each of which tests hold to SwiftProtobuf's bytes.
public enum WireFormatWriter {
    /// Appends `value` as a varint: seven bits per byte, low bits first.
    @inlinable
    public static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// The bytes ``appendVarint(_:to:)`` writes for `value`: one per seven bits, at least one.
    @inlinable
    public static func varintSize(_ value: UInt64) -> Int {
        value == 0 ? 1 : (70 - value.leadingZeroBitCount) / 7
    }

    /// Appends a length-delimited field whose tag fits one byte (fields 1 to 15): the tag, the
    /// length, then the bytes.
    @inlinable
    public static func appendLengthDelimited(tag: UInt8, _ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(tag)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }
}
