import Foundation

/// Pieces of protobuf's binary wire format, for the few messages written by hand on hot paths
/// (``Medley_V1_SessionEvent/appendEncoding(to:)``, the event log's records, the load
/// generator's requests, the workers' recommend replies), each of which tests hold to
/// SwiftProtobuf's bytes. Tags here are one byte: fields 1 to 15.
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

    /// The bytes of a length-delimited field with a one-byte tag whose contents are `size` bytes.
    @inlinable
    public static func lengthDelimitedSize(_ size: Int) -> Int {
        1 + varintSize(UInt64(size)) + size
    }

    /// The bytes ``appendString(tag:_:to:)`` writes.
    @inlinable
    public static func stringFieldSize(_ value: String) -> Int {
        lengthDelimitedSize(value.utf8.count)
    }

    /// Appends a string field: the tag, the UTF-8 length, the bytes.
    @inlinable
    public static func appendString(tag: UInt8, _ value: String, to out: inout [UInt8]) {
        out.append(tag)
        let utf8 = value.utf8
        appendVarint(UInt64(utf8.count), to: &out)
        // A native string's bytes are copied in one go; the view's iterator goes byte by byte.
        if utf8.withContiguousStorageIfAvailable({ out.append(contentsOf: $0) }) == nil { out.append(contentsOf: utf8) }
    }

    /// Appends a float field: the tag, then the bits, little-endian.
    @inlinable
    public static func appendFloat(tag: UInt8, _ value: Float, to out: inout [UInt8]) {
        out.append(tag)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    /// Appends the unknown fields a message was decoded with, which its encoding ends with.
    @inlinable
    public static func appendUnknownFields(_ data: Data, to out: inout [UInt8]) {
        // Appending even empty `Data` builds an iterator: skipped for the usual message.
        if !data.isEmpty { out.append(contentsOf: data) }
    }
}
