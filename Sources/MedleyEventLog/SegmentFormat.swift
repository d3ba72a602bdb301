/// The on-disk layout of event-log segments; `protocol/event-log.md` is its specification.
///
/// A segment is a 32-byte header followed by records `[u32 length][u32 CRC32C][payload]`,
/// all integers little-endian.
public enum SegmentFormat {
    /// The first eight bytes of every segment: ASCII `MEDLEYLG`.
    public static let magic: [UInt8] = Array("MEDLEYLG".utf8)
    /// The format version this code writes and reads.
    public static let version: UInt32 = 1
    /// Bytes before the first record.
    public static let headerSize = 32
    /// Bytes before each record's payload: length and checksum.
    public static let recordHeaderSize = 8
    /// The largest payload the default configuration accepts, 1 MiB. A reader never
    /// allocates more than its limit for one record, whatever a corrupt length field says.
    public static let defaultMaxRecordBytes = 1 << 20
    /// Segment files end in this.
    public static let fileExtension = ".log"
    /// Digits in a segment file name: enough for every `UInt64`.
    static let nameDigits = 20

    /// The file name of the segment whose first record has `firstSequence`: 20 decimal digits,
    /// zero-padded, so names sort like the numbers.
    public static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: nameDigits - digits.count) + digits + fileExtension
    }

    /// The first sequence a segment file name stands for, or nil if the name is not a
    /// segment's.
    public static func firstSequence(fileName: String) -> UInt64? {
        guard fileName.hasSuffix(fileExtension) else { return nil }
        let digits = fileName.dropLast(fileExtension.count)
        guard digits.count == nameDigits, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }) else { return nil }
        return UInt64(digits)
    }

    /// The header of a segment starting at `firstSequence`.
    static func encodeHeader(firstSequence: UInt64) -> [UInt8] {
        var header = magic
        header.reserveCapacity(headerSize)
        appendLittleEndian(version, to: &header)
        appendLittleEndian(UInt32(0), to: &header)  // flags: none defined
        appendLittleEndian(firstSequence, to: &header)
        appendLittleEndian(CRC32C.checksum(header), to: &header)
        appendLittleEndian(UInt32(0), to: &header)  // reserved
        assert(header.count == headerSize)
        return header
    }

    /// Why a header is unusable.
    enum HeaderProblem: Error, Equatable {
        /// Fewer than ``headerSize`` bytes, or all zero: a header whose write did not complete.
        case incomplete
        /// Complete, but not a valid header.
        case invalid(String)
    }

    /// Decodes a header and returns its first sequence.
    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) -> Result<UInt64, HeaderProblem> {
        guard bytes.count >= headerSize, !bytes.prefix(headerSize).allSatisfy({ $0 == 0 }) else {
            return .failure(.incomplete)
        }
        guard bytes.prefix(magic.count).elementsEqual(magic) else {
            return .failure(.invalid("magic is not MEDLEYLG"))
        }
        let version = readLittleEndian(UInt32.self, bytes, at: 8)
        guard version == SegmentFormat.version else {
            return .failure(.invalid("format version \(version), this reader knows \(SegmentFormat.version)"))
        }
        let stored = readLittleEndian(UInt32.self, bytes, at: 24)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24]))
        guard stored == computed else {
            return .failure(.invalid("header CRC32C mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"))
        }
        return .success(readLittleEndian(UInt64.self, bytes, at: 16))
    }

    /// `[u32 length][u32 CRC32C]` for a payload.
    static func appendRecordHeader(payload: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        appendLittleEndian(UInt32(payload.count), to: &buffer)
        appendLittleEndian(CRC32C.checksum(payload), to: &buffer)
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    static func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        precondition(offset + MemoryLayout<T>.size <= bytes.count)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
