import Logging
import MedleyProtocol
import MedleySystem
import SwiftProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends events to a log directory's segment files (`protocol/event-log.md`).
///
/// Opening recovers the log: a torn tail of the last segment is cut, corruption anywhere
/// else is refused (``recoveryReport`` says what was done). Appends are buffered per call and
/// written with one `pwrite`; ``sync()`` makes them durable. Acknowledge an appended event
/// only once the sync policy allows it: ``EventLogAppender`` does that for a service.
///
/// One writer per directory (a lock file enforces it across processes), used from one
/// thread. When a write or sync fails, the writer truncates the segment back to the end of
/// what was acknowledged and resumes there, so a failed group leaves no records that a later
/// group's sequence numbers would follow.
public final class EventLogWriter {
    /// Counters, for metrics and for tests that check how often the log syncs.
    public struct Statistics: Sendable, Equatable {
        /// Records appended since opening.
        public var records: UInt64 = 0
        /// `pwrite` calls that carried records.
        public var writes: UInt64 = 0
        /// Bytes those calls wrote.
        public var bytesWritten: UInt64 = 0
        /// Data syncs of segments (each group's sync, and the sync that seals a segment).
        public var syncs: UInt64 = 0
        /// How long the group syncs took (the `fdatasync` that acknowledgements wait for).
        public var syncLatency = Histogram.latencySeconds()
        /// Segments created since opening.
        public var segmentsCreated: UInt64 = 0
        /// Writes and syncs that failed; each one failed its whole group.
        public var failures: UInt64 = 0
        /// Times a failed write or sync was undone by truncating.
        public var repairs: UInt64 = 0
    }

    /// The log directory.
    public var directory: String { segments.path }
    public let configuration: EventLogConfiguration
    /// What opening found and repaired.
    public let recoveryReport: RecoveryReport
    /// The sequence number the next appended record gets.
    public private(set) var nextSequence: UInt64
    /// The sequence number of the last appended record; 0 while the log is empty.
    public var lastSequence: UInt64 { nextSequence - 1 }
    /// The sequence number of the last record made durable by a sync; 0 if none.
    public private(set) var lastSyncedSequence: UInt64
    public private(set) var statistics = Statistics()

    private let segments: SegmentDirectory
    private let logger: Logger
    private var lockFile: LogFile?
    private var segment: SegmentDirectory.Segment
    private var file: LogFile?
    /// End of the data written to the current segment.
    private var offset: UInt64
    /// The segment file's size: `offset`, plus the zeros written ahead of it.
    private var fileEnd: UInt64
    /// Set when writing zeros failed in the current segment.
    private var preallocationFailed = false
    /// Tests: writing zeros fails with this, as on a full disk.
    var preallocationFault: EventLogError?
    private static let zeros = [UInt8](repeating: 0, count: 256 << 10)
    /// What a failure rolls back to: the end of what may have been acknowledged.
    private var acknowledgedOffset: UInt64
    private var acknowledgedNextSequence: UInt64
    private var hasUnsyncedData = false
    /// A write or sync failed and truncating back has not succeeded yet.
    private var needsRepair = false
    private var failureLine = RepeatedLogLine()
    private var buffer: [UInt8] = []

    /// Opens the log in `directory`, creating the directory and the first segment if needed,
    /// and recovers it.
    ///
    /// - Throws: ``EventLogError/locked(path:)`` if another writer has it open,
    ///   ``EventLogError/corruptRecord(segment:offset:defect:)`` and the other corruption
    ///   errors when the log is damaged other than at its tail, and system-call errors.
    public init(
        directory: String,
        configuration: EventLogConfiguration = EventLogConfiguration(),
        logger: Logger = Logger(label: "medley.eventlog")
    ) throws(EventLogError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.segments = SegmentDirectory(path: directory)
        try LogFileSystem.createDirectory(segments.path)

        let lockPath = segments.path + "/LOCK"
        let lockFile = try LogFile(path: lockPath, flags: O_RDWR | O_CREAT)
        guard try lockFile.tryLockExclusive() else { throw .locked(path: segments.path) }
        self.lockFile = lockFile

        let outcome = try EventLogRecovery.recover(segments, configuration: configuration, logger: logger)
        self.recoveryReport = outcome.report
        self.nextSequence = outcome.report.nextSequence
        if let last = outcome.lastSegment {
            segment = last
            offset = outcome.endOffset
            file = try LogFile(path: last.path, flags: O_WRONLY)
            // What recovery found may be only in the page cache (a process crash under
            // `.never`); new records must not be durable before the ones they follow.
            try file?.syncData()
        } else {
            segment = SegmentDirectory.Segment(firstSequence: nextSequence, path: segments.segmentPath(firstSequence: nextSequence))
            offset = UInt64(SegmentFormat.headerSize)
            file = nil
        }
        // Recovery cut the segment at its last record.
        fileEnd = offset
        acknowledgedOffset = offset
        acknowledgedNextSequence = nextSequence
        lastSyncedSequence = nextSequence - 1
        if file == nil { try createSegment(firstSequence: nextSequence) }
        applyRetention()
        logger.info("opened event log", metadata: [
            "directory": "\(segments.path)", "segments": "\(outcome.report.segmentCount)", "next_sequence": "\(nextSequence)",
        ])
    }

    /// Appends `events` as consecutive records with one write, and returns their positions.
    ///
    /// The records are not durable until ``sync()`` returns (or the policy is `.never` and
    /// the process, not the machine, is what may crash).
    public func append(_ events: [Medley_V1_SessionEvent], receivedAtMs: Int64) throws(EventLogError) -> [Medley_V1_LogPosition] {
        try appendGroup([EventLogBatch(events: events, receivedAtMs: receivedAtMs)])[0].get()
    }

    /// Appends several batches with one write (more only when a segment rolls between them).
    ///
    /// A batch with an event that cannot be encoded or is over the record limit fails alone
    /// and takes no sequence numbers; a failed write fails every batch and the writer rolls
    /// back to the end of what was acknowledged.
    public func appendGroup(_ batches: [EventLogBatch]) -> [Result<[Medley_V1_LogPosition], EventLogError>] {
        appendGroupKeepingRecords(batches).map { $0.map(\.positions) }
    }

    /// A batch as it was appended: its positions and its records as written (`EventLogRecord`
    /// protobuf), in order.
    struct AppendedBatch {
        var positions: [Medley_V1_LogPosition]
        var records: WrittenRecords
    }

    /// ``appendGroup(_:)``, keeping each batch's records as written, for those who forward
    /// them (the service's workers take the very bytes the log holds).
    func appendGroupKeepingRecords(_ batches: [EventLogBatch]) -> [Result<AppendedBatch, EventLogError>] {
        guard file != nil else { return batches.map { _ in .failure(.closed) } }
        let groupFirstSequence = nextSequence
        do throws(EventLogError) {
            if needsRepair { try repair() }
            var results: [Result<AppendedBatch, EventLogError>] = []
            results.reserveCapacity(batches.count)
            buffer.removeAll(keepingCapacity: true)
            for batch in batches {
                let payloads: WrittenRecords
                do {
                    payloads = try encode(batch, firstSequence: nextSequence)
                } catch {
                    results.append(.failure(error))
                    continue
                }
                var positions: [Medley_V1_LogPosition] = []
                positions.reserveCapacity(payloads.count)
                for index in 0..<payloads.count {
                    let payload = payloads[index]
                    let recordSize = UInt64(SegmentFormat.recordHeaderSize + payload.count)
                    var recordOffset = offset + UInt64(buffer.count)
                    if recordOffset > UInt64(SegmentFormat.headerSize), recordOffset + recordSize > UInt64(configuration.maxSegmentBytes) {
                        try flush()
                        try roll()
                        recordOffset = offset
                    }
                    payload.withUnsafeBytes { SegmentFormat.appendRecordHeader(payload: $0, to: &buffer) }
                    buffer.append(contentsOf: payload)
                    positions.append(.with {
                        $0.sequence = nextSequence
                        $0.segment = segment.firstSequence
                        $0.offset = recordOffset
                    })
                    nextSequence += 1
                }
                results.append(.success(AppendedBatch(positions: positions, records: payloads)))
            }
            try flush()
            statistics.records += nextSequence - groupFirstSequence
            if configuration.syncPolicy == .never { markAcknowledged() }
            return results
        } catch {
            fail(error)
            return batches.map { _ in .failure(error) }
        }
    }

    /// Makes everything appended durable: one `fdatasync` of the current segment (earlier
    /// segments were synced when they were sealed). Does nothing when nothing is unsynced.
    public func sync() throws(EventLogError) {
        guard let file else { throw .closed }
        if needsRepair { try repair() }
        guard hasUnsyncedData else { return }
        let started = ContinuousClock.now
        do throws(EventLogError) {
            try file.syncData()
            statistics.syncLatency.record(started.duration(to: .now))
        } catch {
            // After a failed fsync the kernel may have dropped the dirty pages: what the file
            // holds past the last good sync is unknown, so it is cut and written again.
            fail(error)
            throw error
        }
        statistics.syncs += 1
        hasUnsyncedData = false
        lastSyncedSequence = nextSequence - 1
        markAcknowledged()
    }

    /// Syncs what is unsynced and closes the files. The writer cannot be used afterwards;
    /// closing twice does nothing.
    public func close() throws(EventLogError) {
        guard file != nil else { return }
        defer {
            file = nil
            lockFile = nil
        }
        if !needsRepair {
            try sync()
            try trimPreallocation()
        }
    }

    // MARK: - Internals

    private func encode(_ batch: EventLogBatch, firstSequence: UInt64) throws(EventLogError) -> WrittenRecords {
        var payloads = WrittenRecords()
        // About a record's size with short ids; the buffer grows past it when needed.
        payloads.reserveCapacity(records: batch.events.count, bytes: batch.events.count * 96)
        for (index, event) in batch.events.enumerated() {
            let size: Int
            do {
                size = try payloads.append { out in
                    try EventLogRecordEncoding.append(
                        sequence: firstSequence + UInt64(index), receivedAtMs: batch.receivedAtMs, event: event,
                        receipt: index == batch.events.count - 1 ? batch.receipt : nil, to: &out)
                }
            } catch {
                throw .encodingFailed(String(describing: error))
            }
            if size > configuration.maxRecordBytes {
                throw .recordTooLarge(size: size, limit: configuration.maxRecordBytes)
            }
        }
        return payloads
    }

    /// Writes the buffered records at the end of the current segment.
    private func flush() throws(EventLogError) {
        guard !buffer.isEmpty, let file else { return }
        try file.write(buffer, at: offset)
        offset += UInt64(buffer.count)
        if offset > fileEnd { fileEnd = offset }
        if fileEnd - offset < UInt64(configuration.preallocationBytes) / 2, !preallocationFailed {
            do {
                try preallocate(file)
            } catch {
                // Zeros are an optimisation: a disk too full for them may still take records.
                // The segment goes on without them; a new one tries again.
                try file.truncate(to: offset)
                fileEnd = offset
                preallocationFailed = true
                logger.warning("event log could not write zeros ahead of its records; syncs cost more until the next segment",
                               metadata: ["segment": "\(segment.path)", "error": "\(error)"])
            }
        }
        statistics.writes += 1
        statistics.bytesWritten += UInt64(buffer.count)
        hasUnsyncedData = true
        buffer.removeAll(keepingCapacity: true)
    }

    /// Everything written so far may now be acknowledged: a failure no longer undoes it.
    private func markAcknowledged() {
        acknowledgedOffset = offset
        acknowledgedNextSequence = nextSequence
    }

    /// Seals the current segment (synced, whatever the policy, so that only the last segment
    /// can ever have a torn tail) and continues in a new one.
    private func roll() throws(EventLogError) {
        // A sealed segment ends at its last record: readers take anything after it as damage.
        try trimPreallocation()
        if hasUnsyncedData {
            try file?.syncData()
            statistics.syncs += 1
            hasUnsyncedData = false
            lastSyncedSequence = nextSequence - 1
        }
        markAcknowledged()
        try createSegment(firstSequence: nextSequence)
        applyRetention()
    }

    /// Deletes the segments the retention policy lets go. A failure here costs disk space,
    /// not events: it is logged and the next roll tries again.
    private func applyRetention() {
        do {
            let removed = try configuration.retention.apply(to: segments, nowMs: wallClockMilliseconds())
            if let newest = removed.last {
                logger.info("event log retention deleted old segments", metadata: ["segments": "\(removed.count)", "newest_deleted": "\(newest)"])
            }
        } catch {
            logger.warning("event log retention could not delete old segments", metadata: ["error": "\(error)"])
        }
    }

    /// Creates a segment holding only its header: written and synced under a temporary name,
    /// renamed, then the directory synced, so a segment file name never stands for a torn
    /// header and the new name survives a crash.
    private func createSegment(firstSequence: UInt64) throws(EventLogError) {
        let path = segments.segmentPath(firstSequence: firstSequence)
        let temporary = path + SegmentDirectory.temporarySuffix
        let opened: LogFile
        do throws(EventLogError) {
            let created = try LogFile(path: temporary, flags: O_WRONLY | O_CREAT | O_TRUNC)
            try created.write(SegmentFormat.encodeHeader(firstSequence: firstSequence), at: 0)
            try created.syncAll()
            try LogFileSystem.move(temporary, to: path)
            try LogFileSystem.syncDirectory(segments.path)
            opened = try LogFile(path: path, flags: O_WRONLY)
        } catch {
            // The writer stays on the sealed segment; a new segment left behind would make
            // it look like the end of the log to recovery, so it goes too.
            _ = unlink(temporary)
            if file != nil { _ = unlink(path) }
            throw error
        }
        file = opened
        segment = SegmentDirectory.Segment(firstSequence: firstSequence, path: path)
        offset = UInt64(SegmentFormat.headerSize)
        fileEnd = offset
        preallocationFailed = false
        acknowledgedOffset = offset
        acknowledgedNextSequence = nextSequence
        statistics.segmentsCreated += 1
        logger.debug("created event log segment", metadata: ["segment": "\(path)"])
    }

    /// Writes `preallocationBytes` of zeros after the last record, at most to the segment's
    /// size limit. They reach the disk with the group's sync (which then commits the file's
    /// new size once), and the syncs after it overwrite blocks the file has.
    private func preallocate(_ file: LogFile) throws(EventLogError) {
        if let preallocationFault { throw preallocationFault }
        let limit = max(UInt64(configuration.maxSegmentBytes), offset)
        let target = min(offset + UInt64(configuration.preallocationBytes), limit)
        guard target > fileEnd else { return }
        let chunk = Self.zeros.count
        while fileEnd < target {
            let count = Int(min(UInt64(chunk), target - fileEnd))
            let at = fileEnd
            try Self.zeros.withUnsafeBytes { zeros in
                Result { () throws(EventLogError) in try file.write(UnsafeRawBufferPointer(rebasing: zeros[0..<count]), at: at) }
            }.get()
            fileEnd += UInt64(count)
        }
        hasUnsyncedData = true
    }

    /// Cuts the zeros written ahead of the last record, and syncs the file's new size.
    private func trimPreallocation() throws(EventLogError) {
        guard let file, fileEnd > offset else { return }
        try file.truncate(to: offset)
        try file.syncAll()
        fileEnd = offset
    }

    /// Records a failed write or sync and tries to undo it at once.
    private func fail(_ error: EventLogError) {
        buffer.removeAll(keepingCapacity: true)
        needsRepair = true
        statistics.failures += 1
        // A full disk fails every batch: one line per interval says so, with the count.
        let notLogged = failureLine.admit()
        if let notLogged {
            logger.error("event log write failed; rolling back the unacknowledged records", metadata: [
                "segment": "\(segment.path)", "error": "\(error)", "failures_not_logged": "\(notLogged)",
            ])
        }
        do {
            try repair(quietly: notLogged == nil)
        } catch {
            if notLogged != nil { logger.error("event log could not roll back yet; will retry", metadata: ["error": "\(error)"]) }
        }
    }

    /// Re-opens the current segment and truncates it to the end of what was acknowledged,
    /// so the next records continue the sequence right after the last acknowledged one.
    private func repair(quietly: Bool = false) throws(EventLogError) {
        let reopened = try LogFile(path: segment.path, flags: O_WRONLY)
        try reopened.truncate(to: acknowledgedOffset)
        try reopened.syncAll()
        file = reopened
        offset = acknowledgedOffset
        fileEnd = acknowledgedOffset
        nextSequence = acknowledgedNextSequence
        hasUnsyncedData = false
        needsRepair = false
        statistics.repairs += 1
        guard !quietly else { return }
        logger.warning("event log rolled back to the last acknowledged record", metadata: [
            "segment": "\(segment.path)", "offset": "\(offset)", "next_sequence": "\(nextSequence)",
        ])
    }
}

@available(*, unavailable)
extension EventLogWriter: Sendable {}
