import MedleyProtocol
import MedleySystem
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an event log's records in sequence order, across segments: from a sequence number,
/// or those in a time window. The trainer reads logged events with it, and the service
/// rebuilds recent sessions with it at start-up.
///
/// Safe to use while a writer appends, in another thread or process: the reader returns
/// records up to the last complete one and then `nil`. A record still being written is not
/// there yet, not an error; call ``next()`` again later to continue after it. Every record is
/// validated like recovery does (length limit, CRC32C, payload, sequence). An invalid record
/// at the end of the last segment is treated as that tail: it is where the log ends until a
/// writer's recovery cuts it. An invalid record anywhere else throws
/// ``EventLogError/corruptRecord(segment:offset:defect:)``.
///
/// A reader is used from one thread; open one per thread.
public final class EventLogReader {
    /// One record and where it is.
    public struct Entry: Sendable, Equatable {
        public var record: Medley_V1_EventLogRecord
        public var position: Medley_V1_LogPosition
        /// The record's bytes as the log stores them (an `EventLogRecord` message): what a
        /// worker takes, forwarded without encoding the record again.
        public var bytes: [UInt8]
    }

    /// Which time a window applies to.
    public enum TimeField: Sendable, Equatable {
        /// `EventLogRecord.received_at_ms`: the service's clock when the event arrived.
        case receivedAt
        /// `SessionEvent.timestamp_ms`: the client's time of the event.
        case eventTimestamp
    }

    /// The log directory.
    public var directory: String { segmentDirectory.path }
    /// The sequence number of the next record ``next()`` returns, once it exists.
    public var nextSequence: UInt64 { max(expectedSequence, targetSequence) }

    private let segmentDirectory: SegmentDirectory
    private let maxRecordBytes: Int
    private var segments: [SegmentDirectory.Segment] = []
    private var segmentIndex: Int?
    private var scanner: SegmentScanner?
    private var offset: UInt64 = 0
    private var expectedSequence: UInt64 = 0
    /// Records before this are read (and validated) but not returned.
    private var targetSequence: UInt64 = 0
    /// Runs before the reader lists the directory for a later segment: lets a test put a
    /// writer's roll exactly inside that window.
    var beforeListingSegments: (() -> Void)?

    /// A reader positioned at the first record of the log. Nothing is read before the first
    /// ``next()``.
    public init(directory: String, maxRecordBytes: Int = SegmentFormat.defaultMaxRecordBytes) {
        self.segmentDirectory = SegmentDirectory(path: directory)
        self.maxRecordBytes = maxRecordBytes
    }

    /// Positions the reader so that ``next()`` returns the record with `sequence` (or the
    /// first record after it that exists, when older segments were deleted).
    public func seek(toSequence sequence: UInt64) throws(EventLogError) {
        segments = try segmentDirectory.segments()
        scanner = nil
        segmentIndex = nil
        targetSequence = sequence
        expectedSequence = 0
    }

    /// Positions the reader at the start of the newest segment whose first record was received
    /// at or before `receivedAtMs`, so that a following scan with
    /// ``next(in:by:)`` finds every record received from then on, reading only a segment's
    /// first record per segment to get there.
    ///
    /// It relies on `received_at_ms` rising with the sequence, which holds unless the
    /// service's clock stepped back by more than a segment's span; seek to sequence 0 for a
    /// scan that cannot miss anything.
    public func seek(toReceivedAtMs receivedAtMs: Int64) throws(EventLogError) {
        let segments = try segmentDirectory.segments()
        var start: UInt64 = 0
        for segment in segments.reversed() {
            var probe = try SegmentScanner(path: segment.path, firstSequence: segment.firstSequence, maxRecordBytes: maxRecordBytes)
            guard case .success = try probe.readHeader() else { continue }
            guard case .record(let record, _, _) = try probe.step(at: UInt64(SegmentFormat.headerSize), expectedSequence: segment.firstSequence) else {
                continue
            }
            if record.receivedAtMs <= receivedAtMs {
                start = segment.firstSequence
                break
            }
        }
        try seek(toSequence: start)
    }

    /// The next record, or nil at the current end of the log.
    public func next() throws(EventLogError) -> Entry? {
        while true {
            if scanner == nil {
                guard try openSegment() else { return nil }
            }
            switch try scanner!.step(at: offset, expectedSequence: expectedSequence) {
            case .record(let record, let size, let payload):
                let position = Medley_V1_LogPosition.with {
                    $0.sequence = expectedSequence
                    $0.segment = segments[segmentIndex!].firstSequence
                    $0.offset = offset
                }
                offset += UInt64(size)
                expectedSequence += 1
                if record.sequence < targetSequence { continue }
                return Entry(record: record, position: position, bytes: payload)
            case .end, .defect:
                // Where this segment's records stop is the log's end until a later segment
                // seals it. The writer completes a segment's records before it creates the
                // next, so once a later one is seen, look once more: records written in
                // between are read, a clean end moves on, and anything else is a damaged
                // record in the middle of the log. Either way the file is read again: what
                // the window holds past the last record may have changed since.
                scanner!.forgetReadAhead()
                guard try laterSegmentExists() else { return nil }
                switch try scanner!.step(at: offset, expectedSequence: expectedSequence) {
                case .record: continue
                case .end: try advanceToNextSegment()
                case .defect(let defect): throw .corruptRecord(segment: segments[segmentIndex!].path, offset: offset, defect: defect)
                }
            }
        }
    }

    /// The next record whose time (by `field`) is in `window`, skipping others; nil at the
    /// current end of the log.
    public func next(in window: Range<Int64>, by field: TimeField = .receivedAt) throws(EventLogError) -> Entry? {
        while let entry = try next() {
            let time = switch field {
            case .receivedAt: entry.record.receivedAtMs
            case .eventTimestamp: entry.record.event.timestampMs
            }
            if window.contains(time) { return entry }
        }
        return nil
    }

    // MARK: - Segments

    /// Opens the segment to read next; false when there is none yet.
    private func openSegment() throws(EventLogError) -> Bool {
        if segmentIndex == nil {
            if segments.isEmpty { segments = try segmentDirectory.segments() }
            guard let index = SegmentDirectory.index(of: targetSequence, in: segments) else { return false }
            segmentIndex = index
            expectedSequence = segments[index].firstSequence
        }
        let segment = segments[segmentIndex!]
        var opened = try SegmentScanner(path: segment.path, firstSequence: segment.firstSequence, maxRecordBytes: maxRecordBytes)
        switch try opened.readHeader() {
        case .success(let first) where first == segment.firstSequence:
            break
        case .success(let first):
            throw .invalidSegmentHeader(segment: segment.path, reason: "header says first sequence \(first), the file name \(segment.firstSequence)")
        case .failure(.incomplete):
            // Only the newest segment can lack its header, after a crash; recovery removes it.
            if try laterSegmentExists() {
                throw .invalidSegmentHeader(segment: segment.path, reason: "header is incomplete in a sealed segment")
            }
            return false
        case .failure(.invalid(let reason)):
            throw .invalidSegmentHeader(segment: segment.path, reason: reason)
        }
        scanner = opened
        offset = UInt64(SegmentFormat.headerSize)
        return true
    }

    /// At the end of a sealed segment (a later one exists): moves to the next one.
    private func advanceToNextSegment() throws(EventLogError) {
        let index = segmentIndex!
        let next = segments[index + 1]
        if next.firstSequence != expectedSequence {
            throw .sequenceGap(segment: next.path, expected: expectedSequence, found: next.firstSequence)
        }
        segmentIndex = index + 1
        scanner = nil
    }

    /// Whether a segment after the current one exists, listing the directory again if the
    /// known list ends here: the writer may have rolled since.
    private func laterSegmentExists() throws(EventLogError) -> Bool {
        guard let index = segmentIndex else { return false }
        if index + 1 < segments.count { return true }
        beforeListingSegments?()
        let current = segments[index]
        segments = try segmentDirectory.segments()
        guard let refreshed = segments.firstIndex(of: current) else {
            throw .system(SystemCallError(operation: "read", path: current.path, errno: Errno(rawValue: ENOENT)))
        }
        segmentIndex = refreshed
        return refreshed + 1 < segments.count
    }
}

@available(*, unavailable)
extension EventLogReader: Sendable {}
