import MedleyProtocol
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads one segment's records front to back and validates each: length within the limit,
/// CRC32C, payload parses, sequence is the expected one. Recovery and ``EventLogReader``
/// share it, so both judge a record the same way.
///
/// Reads go through a read-ahead window, so small records cost no system call each. The
/// window never grows past the record limit plus a fixed read-ahead, whatever a length field
/// says.
struct SegmentScanner {
    /// What lies at an offset.
    enum Step {
        /// A valid record; the next one starts at `offset + size`.
        /// The record, its size on disk (header included) and its payload as stored.
        case record(Medley_V1_EventLogRecord, size: Int, payload: [UInt8])
        /// No byte at all: the offset is the end of the file.
        case end
        /// Bytes that are not a valid record.
        case defect(RecordDefect)
    }

    let file: LogFile
    let firstSequence: UInt64
    let maxRecordBytes: Int
    private var window: [UInt8] = []
    private var windowOffset: UInt64 = 0
    private var windowCount = 0
    private static let readAhead = 256 * 1024

    init(path: String, firstSequence: UInt64, maxRecordBytes: Int, writable: Bool = false) throws(EventLogError) {
        self.file = try LogFile(path: path, flags: writable ? O_RDWR : O_RDONLY)
        self.firstSequence = firstSequence
        self.maxRecordBytes = maxRecordBytes
    }

    var path: String { file.path }

    /// Reads the header; `.incomplete` when the file is shorter than a header or the header
    /// bytes are all zero.
    mutating func readHeader() throws(EventLogError) -> Result<UInt64, SegmentFormat.HeaderProblem> {
        let available = try fill(at: 0, count: SegmentFormat.headerSize)
        return window.withUnsafeBytes { bytes in
            SegmentFormat.decodeHeader(UnsafeRawBufferPointer(rebasing: bytes[0..<available]))
        }
    }

    /// Reads the record at `offset`, which must carry `expectedSequence`.
    mutating func step(at offset: UInt64, expectedSequence: UInt64) throws(EventLogError) -> Step {
        let headerSize = SegmentFormat.recordHeaderSize
        let available = try fill(at: offset, count: headerSize)
        if available == 0 { return .end }
        if available < headerSize {
            return .defect(.truncated(needed: UInt64(headerSize), available: UInt64(available)))
        }
        let start = Int(offset - windowOffset)
        let (length, storedCRC) = window.withUnsafeBytes { bytes in
            (SegmentFormat.readLittleEndian(UInt32.self, bytes, at: start),
             SegmentFormat.readLittleEndian(UInt32.self, bytes, at: start + 4))
        }
        if length == 0 { return .defect(.zeroLength) }
        // Checked before anything is read or allocated for the payload.
        if Int(length) > maxRecordBytes { return .defect(.oversized(length: length, limit: maxRecordBytes)) }
        let size = headerSize + Int(length)
        let complete = try fill(at: offset, count: size)
        if complete < size { return .defect(.truncated(needed: UInt64(size), available: UInt64(complete))) }
        let payloadStart = Int(offset - windowOffset) + headerSize
        let computedCRC = window.withUnsafeBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<payloadStart + Int(length)]))
        }
        if computedCRC != storedCRC { return .defect(.checksumMismatch(stored: storedCRC, computed: computedCRC)) }
        let record: Medley_V1_EventLogRecord
        let payload = Array(window[payloadStart..<payloadStart + Int(length)])
        do {
            record = try Medley_V1_EventLogRecord(serializedBytes: payload)
        } catch {
            return .defect(.unparseable(String(describing: error)))
        }
        if record.sequence != expectedSequence {
            return .defect(.unexpectedSequence(expected: expectedSequence, found: record.sequence))
        }
        return .record(record, size: size, payload: payload)
    }

    /// Drops the read-ahead, so the next step reads the file again: bytes past the last record
    /// may change under a reader (the writer writes zeros ahead of its records, then writes
    /// records over them, and cuts what is left when it seals the segment).
    mutating func forgetReadAhead() {
        windowCount = 0
    }

    /// Makes the window hold `[offset, offset + count)` as far as the file has it; returns
    /// how many of those bytes it holds. Re-reads whenever the window falls short, so a file
    /// that grows is seen growing.
    private mutating func fill(at offset: UInt64, count: Int) throws(EventLogError) -> Int {
        if offset >= windowOffset, offset + UInt64(count) <= windowOffset + UInt64(windowCount) {
            return count
        }
        let wanted = max(count, Self.readAhead)
        if window.count < wanted { window = [UInt8](repeating: 0, count: wanted) }
        let file = self.file
        let read = try window.withUnsafeMutableBytes { bytes in
            Result { () throws(EventLogError) -> Int in
                try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<wanted]), at: offset)
            }
        }.get()
        windowOffset = offset
        windowCount = read
        return min(read, count)
    }
}
