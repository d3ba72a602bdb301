import MedleySystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a record at some offset of a segment is not a valid record.
public enum RecordDefect: Equatable, Sendable, CustomStringConvertible {
    /// The record header or payload runs past the end of the file.
    case truncated(needed: UInt64, available: UInt64)
    /// The length field is 0, which no encoded record has (a zero-filled region, typically).
    case zeroLength
    /// The length field is over the maximum record size.
    case oversized(length: UInt32, limit: Int)
    /// The payload's CRC32C is not the one stored in the record header.
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// The payload does not parse as `EventLogRecord`.
    case unparseable(String)
    /// The record's sequence number is not the next one.
    case unexpectedSequence(expected: UInt64, found: UInt64)

    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "record needs \(needed) bytes, only \(available) remain in the file"
        case .zeroLength: "record length is 0"
        case .oversized(let length, let limit): "record length \(length) exceeds the limit of \(limit) bytes"
        case .checksumMismatch(let stored, let computed):
            "CRC32C mismatch: stored 0x\(String(stored, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case .unparseable(let reason): "payload is not an EventLogRecord: \(reason)"
        case .unexpectedSequence(let expected, let found): "sequence \(found) where \(expected) was expected"
        }
    }
}

/// Everything that can go wrong in the event log, with the file it concerns.
public enum EventLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed.
    case system(SystemCallError)
    /// A record that is not the log's torn tail is invalid: in a sealed segment, or in the
    /// middle of the log. Opening refuses such a log rather than drop what follows.
    case corruptRecord(segment: String, offset: UInt64, defect: RecordDefect)
    /// A segment's header is invalid (magic, version, checksum, or a first sequence that does
    /// not match the file name).
    case invalidSegmentHeader(segment: String, reason: String)
    /// Sequence numbers are not contiguous from one segment to the next.
    case sequenceGap(segment: String, expected: UInt64, found: UInt64)
    /// An encoded record would exceed the maximum record size.
    case recordTooLarge(size: Int, limit: Int)
    /// An event could not be encoded as protobuf.
    case encodingFailed(String)
    /// Another writer holds the log directory's lock.
    case locked(path: String)
    /// The writer or appender was closed.
    case closed
    /// A configuration value is out of range.
    case invalidConfiguration(String)

    /// The C library's text for the error number, when there is one.
    public var systemMessage: String? {
        guard case .system(let error) = self else { return nil }
        return String(cString: strerror(error.errno.rawValue))
    }

    public var description: String {
        switch self {
        case .system(let error): error.description
        case .corruptRecord(let segment, let offset, let defect):
            "corrupt record in segment \(segment) at offset \(offset): \(defect)"
        case .invalidSegmentHeader(let segment, let reason):
            "invalid segment header in \(segment): \(reason)"
        case .sequenceGap(let segment, let expected, let found):
            "segment \(segment) starts at sequence \(found), expected \(expected)"
        case .recordTooLarge(let size, let limit):
            "event log record of \(size) bytes exceeds the limit of \(limit) bytes"
        case .encodingFailed(let reason): "could not encode event log record: \(reason)"
        case .locked(let path): "event log \(path) is locked by another writer"
        case .closed: "event log is closed"
        case .invalidConfiguration(let reason): "invalid event log configuration: \(reason)"
        }
    }
}
