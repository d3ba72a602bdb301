import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Brings a log directory to a state the writer can append to: removes segments that were
/// never completely created, checks the newest sealed segments, and cuts the last segment
/// after its last valid record.
///
/// The rules, from `protocol/event-log.md`: only the end of the last segment can be torn by
/// a crash, because a segment is synced before the next one is created. So an invalid record
/// there is a torn tail and is cut, while an invalid record anywhere else is corruption and
/// opening stops with an error naming the segment and offset. Damage in the middle of the
/// last segment (valid records follow it, and they may be acknowledged) is not a torn tail:
/// the bytes from the damage on are saved beside the segment before the cut, and the log
/// says so at critical level, so that no acknowledged event disappears silently.
enum EventLogRecovery {
    /// Where the writer continues.
    struct Outcome {
        /// The last segment, or nil when the directory holds no segment.
        var lastSegment: SegmentDirectory.Segment?
        /// The end of the last valid record in the last segment.
        var endOffset: UInt64
        var report: RecoveryReport
    }

    static func recover(
        _ directory: SegmentDirectory,
        configuration: EventLogConfiguration,
        logger: Logger
    ) throws(EventLogError) -> Outcome {
        var removed: [String] = []
        for temporary in try directory.temporaryFiles() {
            try LogFileSystem.remove(temporary)
            removed.append(temporary)
            logger.warning("removed a segment that was still being created", metadata: ["file": "\(temporary)"])
        }

        var segments = try directory.segments()
        // A last segment without a complete header holds no record: remove it, and look again
        // at the one before, which is then the last.
        var lastScanner: SegmentScanner?
        while let last = segments.last {
            var scanner = try SegmentScanner(
                path: last.path, firstSequence: last.firstSequence,
                maxRecordBytes: configuration.maxRecordBytes, writable: true
            )
            let header = try scanner.readHeader()
            let fileSize = try scanner.file.size()
            switch header {
            case .success(let first):
                guard first == last.firstSequence else {
                    throw .invalidSegmentHeader(segment: last.path, reason: "header says first sequence \(first), the file name \(last.firstSequence)")
                }
                lastScanner = scanner
            case .failure(.incomplete) where fileSize <= UInt64(SegmentFormat.headerSize):
                try LogFileSystem.remove(last.path)
                removed.append(last.path)
                segments.removeLast()
                logger.warning("removed a segment with an incomplete header", metadata: ["segment": "\(last.path)"])
            case .failure(.incomplete):
                throw .invalidSegmentHeader(segment: last.path, reason: "header is incomplete but records follow it")
            case .failure(.invalid(let reason)):
                throw .invalidSegmentHeader(segment: last.path, reason: reason)
            }
            if lastScanner != nil { break }
        }
        if !removed.isEmpty { try LogFileSystem.syncDirectory(directory.path) }

        guard var scanner = lastScanner, let last = segments.last else {
            return Outcome(
                lastSegment: nil, endOffset: 0,
                report: RecoveryReport(
                    segmentCount: 0, lastSegment: nil, recordsKept: 0, bytesCut: 0, cutOffset: nil,
                    cutReason: nil, removedFiles: removed, nextSequence: 1
                )
            )
        }

        // Sealed segments: every record must be valid and the sequence must run on into the
        // next segment.
        let sealed = segments.dropLast()
        for (index, segment) in sealed.enumerated().suffix(configuration.verifiedSealedSegments) {
            let end = try verifySealed(segment, maxRecordBytes: configuration.maxRecordBytes)
            let next = segments[index + 1]
            if next.firstSequence != end {
                throw .sequenceGap(segment: next.path, expected: end, found: next.firstSequence)
            }
        }

        // The last segment: keep records up to the first invalid one, cut the rest.
        var offset = UInt64(SegmentFormat.headerSize)
        var sequence = last.firstSequence
        var defect: RecordDefect?
        scan: while true {
            switch try scanner.step(at: offset, expectedSequence: sequence) {
            case .record(_, let size, _):
                offset += UInt64(size)
                sequence += 1
            case .end:
                break scan
            case .defect(let found):
                defect = found
                break scan
            }
        }
        let size = try scanner.file.size()
        var report = RecoveryReport(
            segmentCount: segments.count, lastSegment: last.path, recordsKept: sequence - last.firstSequence,
            bytesCut: 0, cutOffset: nil, cutReason: nil, removedFiles: removed, nextSequence: sequence
        )
        // Zeros to the end of the file after the last record are the writer's space written
        // ahead: trimmed, not a torn tail.
        if size > offset, defect == .zeroLength, try isZero(scanner.file, from: offset, to: size) {
            try scanner.file.truncate(to: offset)
            try scanner.file.syncAll()
            report.zeroBytesTrimmed = size - offset
            logger.debug("trimmed the zeros written ahead of the event log's last record", metadata: [
                "segment": "\(last.path)", "offset": "\(offset)", "bytes": "\(size - offset)",
            ])
            return Outcome(lastSegment: last, endOffset: offset, report: report)
        }
        if size > offset, let following = try validRecord(after: offset, before: size, scanner: &scanner,
                                                          maxRecordBytes: configuration.maxRecordBytes) {
            let aside = "\(last.path).damaged-\(offset)"
            try copy(scanner.file, from: offset, to: size, into: aside)
            try LogFileSystem.syncDirectory(directory.path)
            report.movedAside = aside
            logger.critical(
                "the event log's last segment is damaged in the middle: valid records follow the damage; the bytes from the damage on were saved beside the segment and cut from it",
                metadata: [
                    "segment": "\(last.path)", "offset": "\(offset)", "next_valid_record_at": "\(following)",
                    "saved_to": "\(aside)", "bytes": "\(size - offset)", "records_kept": "\(sequence - last.firstSequence)",
                ]
            )
        }
        if size > offset {
            try scanner.file.truncate(to: offset)
            try scanner.file.syncAll()
            report.bytesCut = size - offset
            report.cutOffset = offset
            report.cutReason = defect
            logger.warning(
                "cut the torn tail of the event log",
                metadata: [
                    "segment": "\(last.path)", "offset": "\(offset)", "bytes": "\(size - offset)",
                    "reason": "\(defect.map(String.init(describing:)) ?? "unknown")",
                    "records_kept": "\(report.recordsKept)",
                ]
            )
        }
        return Outcome(lastSegment: last, endOffset: offset, report: report)
    }

    /// The offset of the first intact record (checksum and protobuf valid, whatever its
    /// sequence) after the damage at `offset`, or nil. A record following the damaged one
    /// starts at most one header and one largest payload after it, so the search stops there.
    private static func validRecord(after offset: UInt64, before size: UInt64, scanner: inout SegmentScanner,
                                    maxRecordBytes: Int) throws(EventLogError) -> UInt64? {
        let limit = min(size, offset + UInt64(SegmentFormat.recordHeaderSize + maxRecordBytes) + 1)
        var position = offset + 1
        while position < limit {
            switch try scanner.step(at: position, expectedSequence: 0) {
            case .record, .defect(.unexpectedSequence): return position
            case .end, .defect: position += 1
            }
        }
        return nil
    }

    /// Whether `file`'s bytes `begin..<end` are all zero.
    private static func isZero(_ file: LogFile, from begin: UInt64, to end: UInt64) throws(EventLogError) -> Bool {
        try readChunks(of: file, from: begin, to: end) { chunk, _ throws(EventLogError) in chunk.allSatisfy { $0 == 0 } }
    }

    /// Copies `file`'s bytes `begin..<end` into a new file at `path`, synced.
    private static func copy(_ file: LogFile, from begin: UInt64, to end: UInt64, into path: String) throws(EventLogError) {
        let target = try LogFile(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        _ = try readChunks(of: file, from: begin, to: end) { chunk, position throws(EventLogError) in
            try target.write(Array(chunk), at: position - begin)
            return true
        }
        try target.syncAll()
    }

    /// Reads `file`'s bytes `begin..<end` in chunks, handing each to `body` with its offset
    /// until `body` returns false; returns whether every byte was read.
    private static func readChunks(
        of file: LogFile, from begin: UInt64, to end: UInt64,
        _ body: (ArraySlice<UInt8>, UInt64) throws(EventLogError) -> Bool
    ) throws(EventLogError) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var position = begin
        while position < end {
            let wanted = Int(min(UInt64(buffer.count), end - position))
            let read = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(EventLogError) in try file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]), at: position) }
            }.get()
            guard read > 0 else { return false }
            guard try body(buffer[0..<read], position) else { return false }
            position += UInt64(read)
        }
        return true
    }

    /// Reads a sealed segment through; returns the sequence after its last record.
    private static func verifySealed(_ segment: SegmentDirectory.Segment, maxRecordBytes: Int) throws(EventLogError) -> UInt64 {
        var scanner = try SegmentScanner(path: segment.path, firstSequence: segment.firstSequence, maxRecordBytes: maxRecordBytes)
        switch try scanner.readHeader() {
        case .success(let first) where first == segment.firstSequence: break
        case .success(let first):
            throw .invalidSegmentHeader(segment: segment.path, reason: "header says first sequence \(first), the file name \(segment.firstSequence)")
        case .failure(.incomplete): throw .invalidSegmentHeader(segment: segment.path, reason: "header is incomplete in a sealed segment")
        case .failure(.invalid(let reason)): throw .invalidSegmentHeader(segment: segment.path, reason: reason)
        }
        var offset = UInt64(SegmentFormat.headerSize)
        var sequence = segment.firstSequence
        while true {
            switch try scanner.step(at: offset, expectedSequence: sequence) {
            case .record(_, let size, _):
                offset += UInt64(size)
                sequence += 1
            case .end:
                return sequence
            case .defect(let defect):
                throw .corruptRecord(segment: segment.path, offset: offset, defect: defect)
            }
        }
    }
}
