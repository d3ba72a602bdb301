import Foundation
import MedleyProtocol
import MedleySystem
import SystemPackage
import Testing

@testable import MedleyEventLog

/// The writer writes zeros ahead of its records, so that a sync overwrites blocks the file has;
/// segments still end at their last record once sealed or closed, a crash leaves nothing to
/// repair, and readers see records written over the zeros.
@Suite struct EventLogPreallocationTests {
    static func configuration(preallocation: Int = 64 << 10, segmentBytes: Int = 64 << 20) -> EventLogConfiguration {
        var configuration = EventLogConfiguration(maxSegmentBytes: segmentBytes)
        configuration.preallocationBytes = preallocation
        return configuration
    }

    static func size(_ path: String) throws -> Int { try fileBytes(path).count }

    @Test func zerosAreWrittenAheadAndCutOnClose() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration())
        let positions = try writer.append(makeEvents(0..<10), receivedAtMs: 1)
        try writer.sync()
        let path = directory.segmentPath(1)
        let bytes = try fileBytes(path)
        let dataEnd = Int(positions.last!.offset) + (try readAll(directory.log)).last!.bytes.count + SegmentFormat.recordHeaderSize
        #expect(bytes.count == dataEnd + (64 << 10))
        #expect(bytes[dataEnd...].allSatisfy { $0 == 0 })
        try writer.close()
        #expect(try Self.size(path) == dataEnd)
        #expect(try readAll(directory.log).map(\.record.event) == makeEvents(0..<10))
    }

    @Test func noZerosWhenTurnedOff() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration(preallocation: 0))
        _ = try writer.append(makeEvents(0..<10), receivedAtMs: 1)
        try writer.sync()
        let entries = try readAll(directory.log)
        #expect(try Self.size(directory.segmentPath(1)) == Int(entries.last!.position.offset) + SegmentFormat.recordHeaderSize + entries.last!.bytes.count)
        try writer.close()
    }

    /// A crash (the writer dropped without closing) leaves the zeros; reopening keeps every
    /// synced record and reports nothing cut.
    @Test func aCrashLeavesNothingToRepair() throws {
        let directory = try TemporaryDirectory()
        do {
            let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration())
            for batch in 0..<20 {
                _ = try writer.append(makeEvents(batch * 50..<batch * 50 + 50), receivedAtMs: Int64(batch))
                try writer.sync()
            }
        }
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration())
        #expect(writer.recoveryReport.recordsKept == 1000)
        #expect(writer.recoveryReport.bytesCut == 0 && !writer.recoveryReport.repairedAnything)
        #expect(writer.recoveryReport.zeroBytesTrimmed > 0)
        #expect(try writer.append([makeEvent(1000)], receivedAtMs: 99)[0].sequence == 1001)
        try writer.close()
        #expect(try readAll(directory.log).map(\.record.event) == makeEvents(0..<1001))
    }

    /// Sealed segments end at their last record, whatever was written ahead.
    @Test func sealedSegmentsEndAtTheirLastRecord() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration(preallocation: 4 << 10, segmentBytes: 8 << 10))
        for batch in 0..<40 {
            _ = try writer.append(makeEvents(batch * 20..<batch * 20 + 20), receivedAtMs: Int64(batch))
            try writer.sync()
        }
        let entries = try readAll(directory.log)
        #expect(entries.count == 800)
        let names = try directory.segmentNames()
        #expect(names.count > 3)
        let lastEntryOfSegment = Dictionary(grouping: entries, by: \.position.segment).mapValues { $0.last! }
        for name in names.dropLast() {
            let first = SegmentFormat.firstSequence(fileName: name)!
            let last = try #require(lastEntryOfSegment[first])
            let end = Int(last.position.offset) + SegmentFormat.recordHeaderSize + last.bytes.count
            #expect(try Self.size(directory.log + "/" + name) == end, "\(name)")
        }
        try writer.close()
    }

    /// A reader that reached the end of the records reads the zeros past them; records the
    /// writer then writes over those zeros, and the segment cut when it is sealed, are read
    /// as such, not as the zeros it read before or as damage.
    @Test func aReaderSeesRecordsWrittenOverTheZeros() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration(preallocation: 32 << 10, segmentBytes: 6 << 10))
        let reader = EventLogReader(directory: directory.log)
        try reader.seek(toSequence: 0)
        var read: [Medley_V1_SessionEvent] = []
        for batch in 0..<30 {
            _ = try writer.append(makeEvents(batch * 10..<batch * 10 + 10), receivedAtMs: Int64(batch))
            try writer.sync()
            while let entry = try reader.next() { read.append(entry.record.event) }
            #expect(read.count == batch * 10 + 10, "after batch \(batch)")
        }
        #expect(try directory.segmentNames().count > 2)
        #expect(read == makeEvents(0..<300))
        try writer.close()
    }

    /// Zeros that cannot be written (a disk too full for them) do not fail the records.
    @Test func recordsAreStoredWhenZerosCannotBeWritten() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: Self.configuration())
        writer.preallocationFault = .system(SystemCallError(operation: "write", path: "segment", errno: Errno(rawValue: ENOSPC)))
        let positions = try writer.append(makeEvents(0..<10), receivedAtMs: 1)
        try writer.sync()
        #expect(writer.statistics.failures == 0)
        let entries = try readAll(directory.log)
        #expect(entries.map(\.record.event) == makeEvents(0..<10))
        #expect(try Self.size(directory.segmentPath(1)) == Int(positions.last!.offset) + SegmentFormat.recordHeaderSize + entries.last!.bytes.count)
        try writer.close()
    }

    @Test func aNegativePreallocationIsRefused() throws {
        let directory = try TemporaryDirectory()
        let error = expectEventLogError {
            try EventLogWriter(directory: directory.log, configuration: Self.configuration(preallocation: -1))
        }
        guard case .invalidConfiguration = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
    }
}
