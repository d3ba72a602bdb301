import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

@Suite struct EventLogWriterTests {
    @Test func roundTripAcrossSegmentRolls() throws {
        let directory = try TemporaryDirectory()
        let configuration = EventLogConfiguration(maxSegmentBytes: 600)
        let writer = try EventLogWriter(directory: directory.log, configuration: configuration)
        #expect(writer.nextSequence == 1)
        #expect(writer.lastSequence == 0)

        var positions: [Medley_V1_LogPosition] = []
        for batch in 0..<20 {
            positions += try writer.append(makeEvents(batch * 5..<batch * 5 + 5), receivedAtMs: 1_000 + Int64(batch))
            try writer.sync()
        }
        #expect(positions.map(\.sequence) == Array(1...100))
        #expect(writer.lastSequence == 100)
        #expect(writer.lastSyncedSequence == 100)
        try writer.close()

        let names = try directory.segmentNames()
        #expect(names.count > 5)
        #expect(names.first == "00000000000000000001.log")
        for name in names {
            let size = try fileBytes(directory.log + "/" + name).count
            #expect(size <= 600, "\(name) is \(size) bytes")
        }

        let entries = try readAll(directory.log)
        #expect(entries.count == 100)
        for (index, entry) in entries.enumerated() {
            #expect(entry.record.sequence == UInt64(index + 1))
            #expect(entry.record.event == makeEvent(index))
            #expect(entry.record.receivedAtMs == 1_000 + Int64(index / 5))
            #expect(entry.position == positions[index])
            // A position's segment is the first sequence of the file it is in.
            #expect(directory.segmentPath(entry.position.segment).hasSuffix(SegmentFormat.fileName(firstSequence: entry.position.segment)))
        }
    }

    @Test func sequenceContinuesAcrossReopen() throws {
        let directory = try TemporaryDirectory()
        let configuration = EventLogConfiguration(maxSegmentBytes: 400)
        for round in 0..<4 {
            let writer = try EventLogWriter(directory: directory.log, configuration: configuration)
            #expect(writer.nextSequence == UInt64(round * 7 + 1))
            #expect(writer.recoveryReport.bytesCut == 0)
            let positions = try writer.append(makeEvents(round * 7..<round * 7 + 7), receivedAtMs: 5)
            #expect(positions.map(\.sequence) == Array(UInt64(round * 7 + 1)...UInt64(round * 7 + 7)))
            try writer.close()
        }
        let entries = try readAll(directory.log)
        #expect(entries.map(\.record.sequence) == Array(1...28))
        #expect(entries.map(\.record.event) == makeEvents(0..<28))
    }

    @Test func syncedRecordsAreReadableWithoutClose() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        _ = try writer.append(makeEvents(0..<10), receivedAtMs: 1)
        try writer.sync()
        // No close: a crash now must not lose what sync() returned for.
        let entries = try readAll(directory.log)
        #expect(entries.count == 10)
        let reopenedElsewhere = try fileBytes(directory.segmentPath(1))
        #expect(reopenedElsewhere.count > SegmentFormat.headerSize)
        try writer.close()
    }

    /// A crash after a sync loses at most what was appended since: simulated by dropping the
    /// writer without closing it and cutting the segment to the synced length (what a
    /// machine crash may leave of unsynced data).
    @Test func crashKeepsEverythingSynced() throws {
        let directory = try TemporaryDirectory()
        var syncedLength: UInt64 = 0
        do {
            let writer = try EventLogWriter(directory: directory.log)
            _ = try writer.append(makeEvents(0..<10), receivedAtMs: 1)
            try writer.sync()
            let unsynced = try writer.append(makeEvents(10..<15), receivedAtMs: 2)
            syncedLength = unsynced[0].offset
            #expect(writer.lastSyncedSequence == 10)
        }
        try truncateFile(directory.segmentPath(1), to: Int(syncedLength) + 3)
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.recordsKept == 10)
        #expect(writer.recoveryReport.bytesCut == 3)
        #expect(try writer.append([makeEvent(10)], receivedAtMs: 3)[0].sequence == 11)
        try writer.close()
        #expect(try readAll(directory.log).map(\.record.event) == makeEvents(0..<11))
    }

    @Test func oneWritePerAppendCall() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        _ = try writer.append(makeEvents(0..<50), receivedAtMs: 1)
        #expect(writer.statistics.writes == 1)
        #expect(writer.statistics.records == 50)
        let results = writer.appendGroup([
            EventLogBatch(events: makeEvents(50..<60), receivedAtMs: 2),
            EventLogBatch(events: makeEvents(60..<70), receivedAtMs: 3),
        ])
        #expect(writer.statistics.writes == 2)
        #expect(try results[1].get().first?.sequence == 61)
        try writer.close()
    }

    @Test func oversizedEventFailsAloneAndTakesNoSequence() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(maxRecordBytes: 200))
        var huge = makeEvent(1)
        huge.itemID = String(repeating: "x", count: 500)
        let results = writer.appendGroup([
            EventLogBatch(events: [makeEvent(0)], receivedAtMs: 1),
            EventLogBatch(events: [makeEvent(1), huge], receivedAtMs: 1),
            EventLogBatch(events: [makeEvent(2)], receivedAtMs: 1),
        ])
        #expect(try results[0].get().map(\.sequence) == [1])
        guard case .failure(.recordTooLarge(_, 200)) = results[1] else {
            Issue.record("expected recordTooLarge, got \(results[1])")
            return
        }
        #expect(try results[2].get().map(\.sequence) == [2])
        try writer.close()
        #expect(try readAll(directory.log).map(\.record.event) == [makeEvent(0), makeEvent(2)])
    }

    @Test func secondWriterIsRefused() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        let error = expectEventLogError { try EventLogWriter(directory: directory.log) }
        #expect(error == .locked(path: directory.log))
        try writer.close()
        // The lock goes with the writer.
        let again = try EventLogWriter(directory: directory.log)
        try again.close()
    }

    @Test func closedWriterRefusesAppends() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        try writer.close()
        try writer.close()
        #expect(expectEventLogError { try writer.append([makeEvent(0)], receivedAtMs: 1) } == .closed)
    }

    @Test func invalidConfigurationIsRefused() throws {
        let directory = try TemporaryDirectory()
        let error = expectEventLogError {
            try EventLogWriter(directory: directory.log, configuration: EventLogConfiguration(maxSegmentBytes: 16))
        }
        guard case .invalidConfiguration = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
    }

    @Test func segmentHeaderLayout() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        try writer.close()
        let header = try fileBytes(directory.segmentPath(1))
        #expect(header.count == 32)
        #expect(Array(header[0..<8]) == Array("MEDLEYLG".utf8))
        #expect(Array(header[8..<12]) == [1, 0, 0, 0])
        #expect(Array(header[16..<24]) == [1, 0, 0, 0, 0, 0, 0, 0])
        let crc = header[24..<28].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(crc == CRC32C.checksum(Array(header[0..<24])))
    }
}
