import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

@Suite struct EventLogRecoveryTests {
    /// A closed log with one segment holding records 1...3; returns the segment's bytes and
    /// the offset of record 3.
    private func threeRecordLog(_ directory: TemporaryDirectory) throws -> (bytes: [UInt8], lastOffset: Int) {
        let writer = try EventLogWriter(directory: directory.log)
        _ = try writer.append(makeEvents(0..<2), receivedAtMs: 10)
        let last = try writer.append([makeEvent(2)], receivedAtMs: 11)
        try writer.close()
        return (try fileBytes(directory.segmentPath(1)), Int(last[0].offset))
    }

    /// Opens the log, checks that records 1...2 (and 3 when `keepsThird`) survived, appends
    /// one more and checks it continues the sequence.
    private func expectRecovered(_ directory: TemporaryDirectory, keptRecords: UInt64, cut: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.recordsKept == keptRecords, sourceLocation: sourceLocation)
        #expect(writer.recoveryReport.bytesCut == UInt64(cut), sourceLocation: sourceLocation)
        #expect(writer.nextSequence == keptRecords + 1, sourceLocation: sourceLocation)
        let appended = try writer.append([makeEvent(99)], receivedAtMs: 12)
        #expect(appended[0].sequence == keptRecords + 1, sourceLocation: sourceLocation)
        try writer.close()
        let events = try readAll(directory.log).map(\.record.event)
        #expect(events == makeEvents(0..<Int(keptRecords)) + [makeEvent(99)], sourceLocation: sourceLocation)
    }

    @Test func tornTailAtEveryByteOfTheLastRecord() throws {
        let (bytes, lastOffset) = try threeRecordLog(try TemporaryDirectory())
        for cut in lastOffset + 1..<bytes.count {
            let directory = try TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: directory.log, withIntermediateDirectories: true)
            try writeFile(directory.segmentPath(1), Array(bytes[0..<cut]))
            try expectRecovered(directory, keptRecords: 2, cut: cut - lastOffset)
        }
    }

    @Test func bitFlipInLastPayloadIsCut() throws {
        let directory = try TemporaryDirectory()
        var (bytes, lastOffset) = try threeRecordLog(directory)
        bytes[lastOffset + SegmentFormat.recordHeaderSize + 3] ^= 0x10
        try writeFile(directory.segmentPath(1), bytes)
        let writer = try EventLogWriter(directory: directory.log)
        guard case .checksumMismatch = writer.recoveryReport.cutReason else {
            Issue.record("expected a checksum mismatch, got \(String(describing: writer.recoveryReport.cutReason))")
            return
        }
        #expect(writer.recoveryReport.cutOffset == UInt64(lastOffset))
        try writer.close()
        try expectRecovered(directory, keptRecords: 2, cut: 0)
    }

    @Test func damageInTheMiddleOfTheLastSegmentSavesWhatFollowsAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        let writer = try EventLogWriter(directory: directory.log)
        var offsets: [Int] = []
        for index in 0..<300 { offsets.append(Int(try writer.append([makeEvent(index)], receivedAtMs: 10)[0].offset)) }
        try writer.close()
        var bytes = try fileBytes(directory.segmentPath(1))
        // One flipped bit in record 151 of 300; records 152...300 were acknowledged.
        bytes[offsets[150] + SegmentFormat.recordHeaderSize + 2] ^= 0x04
        try writeFile(directory.segmentPath(1), bytes)

        let reopened = try EventLogWriter(directory: directory.log)
        let report = reopened.recoveryReport
        #expect(report.recordsKept == 150)
        #expect(report.cutOffset == UInt64(offsets[150]))
        let aside = try #require(report.movedAside)
        #expect(try fileBytes(aside) == Array(bytes[offsets[150]...]))
        try reopened.close()
        // The saved bytes are not a segment: the log still opens and reads.
        #expect(try readAll(directory.log).count == 150)
    }

    @Test func aTornTailIsNotSavedAside() throws {
        let directory = try TemporaryDirectory()
        let (bytes, lastOffset) = try threeRecordLog(directory)
        try writeFile(directory.segmentPath(1), Array(bytes[0..<(lastOffset + 5)]))
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.movedAside == nil)
        #expect(writer.recoveryReport.bytesCut == 5)
        try writer.close()
    }

    @Test func garbageAfterTheLastRecordIsCut() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        try appendToFile(directory.segmentPath(1), [UInt8](repeating: 0xAB, count: 37))
        try expectRecovered(directory, keptRecords: 3, cut: 37)
    }

    /// Zeros to the end of the file are the space the writer writes ahead of its records: trimmed,
    /// not reported as a torn tail.
    @Test func zeroFilledTailIsTrimmedNotCut() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        let length = try fileBytes(directory.segmentPath(1)).count
        try appendToFile(directory.segmentPath(1), [UInt8](repeating: 0, count: 300_000))
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.zeroBytesTrimmed == 300_000)
        #expect(writer.recoveryReport.bytesCut == 0 && writer.recoveryReport.cutReason == nil)
        #expect(!writer.recoveryReport.repairedAnything)
        try writer.close()
        #expect(try fileBytes(directory.segmentPath(1)).count == length)
        try expectRecovered(directory, keptRecords: 3, cut: 0)
    }

    /// Zeros followed by anything else are damage, as before.
    @Test func zerosBeforeOtherBytesAreCut() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        try appendToFile(directory.segmentPath(1), [UInt8](repeating: 0, count: 4096) + [0xAB])
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.cutReason == .zeroLength)
        #expect(writer.recoveryReport.bytesCut == 4097 && writer.recoveryReport.zeroBytesTrimmed == 0)
        try writer.close()
        try expectRecovered(directory, keptRecords: 3, cut: 0)
    }

    @Test func oversizedLengthIsCutWithoutAllocating() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        // A length of almost 2 GiB: refused from the header alone, nothing read or allocated.
        try appendToFile(directory.segmentPath(1), [0xF0, 0xFF, 0xFF, 0x7F, 1, 2, 3, 4, 5, 6, 7, 8])
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.cutReason == .oversized(length: 0x7FFF_FFF0, limit: SegmentFormat.defaultMaxRecordBytes))
        try writer.close()
        try expectRecovered(directory, keptRecords: 3, cut: 0)
    }

    @Test func recordWithTheWrongSequenceIsCut() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        let stray = Medley_V1_EventLogRecord.with {
            $0.sequence = 7
            $0.receivedAtMs = 1
            $0.event = makeEvent(7)
        }
        let payload: [UInt8] = try stray.serializedBytes()
        var bytes: [UInt8] = []
        payload.withUnsafeBytes { SegmentFormat.appendRecordHeader(payload: $0, to: &bytes) }
        try appendToFile(directory.segmentPath(1), bytes + payload)
        let writer = try EventLogWriter(directory: directory.log)
        #expect(writer.recoveryReport.cutReason == .unexpectedSequence(expected: 4, found: 7))
        try writer.close()
        try expectRecovered(directory, keptRecords: 3, cut: 0)
    }

    @Test func corruptSealedSegmentIsRefused() throws {
        let directory = try TemporaryDirectory()
        let configuration = EventLogConfiguration(maxSegmentBytes: 300)
        let writer = try EventLogWriter(directory: directory.log, configuration: configuration)
        var positions: [Medley_V1_LogPosition] = []
        for index in 0..<20 { positions += try writer.append([makeEvent(index)], receivedAtMs: 1) }
        try writer.close()
        let segments = Array(Set(positions.map(\.segment))).sorted()
        #expect(segments.count >= 3)

        // A record in the middle of the segment before the last one.
        let sealed = segments[segments.count - 2]
        let victim = positions.filter { $0.segment == sealed }.dropFirst().first!
        let path = directory.segmentPath(sealed)
        var bytes = try fileBytes(path)
        bytes[Int(victim.offset) + SegmentFormat.recordHeaderSize + 1] ^= 0x01
        try writeFile(path, bytes)

        let error = expectEventLogError { try EventLogWriter(directory: directory.log, configuration: configuration) }
        guard case .corruptRecord(let segment, let offset, .checksumMismatch) = error else {
            Issue.record("expected a corrupt record, got \(String(describing: error))")
            return
        }
        #expect(segment == path)
        #expect(offset == victim.offset)
        #expect(error!.description.contains(path) && error!.description.contains("offset \(victim.offset)"))

        // A reader stops at it too, after the records before it.
        let reader = EventLogReader(directory: directory.log)
        var read = 0
        let readerError = expectEventLogError {
            while try reader.next() != nil { read += 1 }
        }
        #expect(readerError == error)
        #expect(read == Int(victim.sequence) - 1)
    }

    @Test func emptyAndTornHeaderSegments() throws {
        let directory = try TemporaryDirectory()
        // A new log is one header-only segment, and reopens as it is.
        try EventLogWriter(directory: directory.log).close()
        let reopened = try EventLogWriter(directory: directory.log)
        #expect(reopened.nextSequence == 1)
        #expect(!reopened.recoveryReport.repairedAnything)
        _ = try reopened.append(makeEvents(0..<4), receivedAtMs: 1)
        try reopened.close()

        // A crash while creating segment 5: a partial header under the final name, and a
        // leftover temporary file.
        let header = SegmentFormat.encodeHeader(firstSequence: 5)
        try writeFile(directory.segmentPath(5), Array(header[0..<10]))
        try writeFile(directory.segmentPath(9) + ".tmp", header)
        let writer = try EventLogWriter(directory: directory.log)
        #expect(Set(writer.recoveryReport.removedFiles) == [directory.segmentPath(5), directory.segmentPath(9) + ".tmp"])
        #expect(writer.nextSequence == 5)
        #expect(try writer.append([makeEvent(4)], receivedAtMs: 2)[0].sequence == 5)
        try writer.close()
        #expect(try directory.segmentNames() == [SegmentFormat.fileName(firstSequence: 1)])
        #expect(try readAll(directory.log).map(\.record.event) == makeEvents(0..<5))
    }

    @Test func invalidHeaderIsRefused() throws {
        let directory = try TemporaryDirectory()
        _ = try threeRecordLog(directory)
        let path = directory.segmentPath(1)
        var bytes = try fileBytes(path)
        bytes[0] = UInt8(ascii: "X")
        try writeFile(path, bytes)
        let error = expectEventLogError { try EventLogWriter(directory: directory.log) }
        guard case .invalidSegmentHeader(path, _) = error else {
            Issue.record("expected invalidSegmentHeader, got \(String(describing: error))")
            return
        }
    }
}
