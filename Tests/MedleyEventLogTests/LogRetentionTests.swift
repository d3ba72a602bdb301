import Foundation
import MedleyProtocol
import Testing

@testable import MedleyEventLog

@Suite struct LogRetentionTests {
    /// A log in segments of about 3 records each.
    private func writeLog(_ directory: TemporaryDirectory, records: Int, retention: LogRetention = LogRetention()) throws -> EventLogWriter {
        var configuration = EventLogConfiguration(maxSegmentBytes: 300)
        configuration.retention = retention
        let writer = try EventLogWriter(directory: directory.log, configuration: configuration)
        for index in 0..<records { _ = try writer.append([makeEvent(index)], receivedAtMs: 10) }
        return writer
    }

    private func totalBytes(_ directory: TemporaryDirectory) throws -> UInt64 {
        try directory.segmentNames().reduce(0) { total, name in
            total + ((try FileManager.default.attributesOfItem(atPath: directory.log + "/" + name)[.size] as? UInt64) ?? 0)
        }
    }

    @Test func withoutAPolicyNothingIsDeleted() throws {
        let directory = try TemporaryDirectory()
        try writeLog(directory, records: 60).close()
        #expect(try readAll(directory.log).count == 60)
    }

    @Test func theSizeLimitDeletesTheOldestSegmentsAndKeepsTheRestContiguous() throws {
        let directory = try TemporaryDirectory()
        let writer = try writeLog(directory, records: 60, retention: LogRetention(maxBytes: 1000))
        try writer.close()
        #expect(try totalBytes(directory) <= 1000 + 300)
        let kept = try readAll(directory.log).map(\.record.sequence)
        #expect(!kept.isEmpty && kept.count < 60)
        #expect(kept == Array(kept.first!...60))
    }

    @Test func theAgeLimitDeletesSegmentsLastWrittenTooLongAgo() throws {
        let directory = try TemporaryDirectory()
        try writeLog(directory, records: 30).close()
        let names = try directory.segmentNames()
        #expect(names.count > 3)
        // The older half was written two hours ago.
        for name in names.prefix(names.count / 2) {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: directory.log + "/" + name)
        }
        var configuration = EventLogConfiguration(maxSegmentBytes: 300)
        configuration.retention = LogRetention(maxAgeMilliseconds: 3_600_000)
        let reopened = try EventLogWriter(directory: directory.log, configuration: configuration)
        try reopened.close()
        #expect(try directory.segmentNames() == Array(names.dropFirst(names.count / 2)))
    }

    @Test func aReaderInsideADeletedSegmentStopsWithAnErrorInsteadOfSkipping() throws {
        let directory = try TemporaryDirectory()
        let writer = try writeLog(directory, records: 6, retention: LogRetention(maxBytes: 1000))
        let reader = EventLogReader(directory: directory.log)
        let first = try #require(try reader.next())
        #expect(first.record.sequence == 1)
        for index in 6..<60 { _ = try writer.append([makeEvent(index)], receivedAtMs: 10) }
        try writer.close()
        #expect(!FileManager.default.fileExists(atPath: directory.segmentPath(1)))
        // The open segment is read to its end; then the reader refuses to jump the gap.
        var sequences: [UInt64] = [first.record.sequence]
        #expect(throws: EventLogError.self) {
            while let entry = try reader.next() { sequences.append(entry.record.sequence) }
        }
        #expect(sequences == Array(1...UInt64(sequences.count)))
        // A reader started now begins at the oldest kept record.
        let kept = try readAll(directory.log).map(\.record.sequence)
        #expect(kept.first! > UInt64(sequences.count) && kept.last == 60)
    }

    @Test func theLastSegmentIsNeverDeleted() throws {
        let directory = try TemporaryDirectory()
        let writer = try writeLog(directory, records: 30, retention: LogRetention(maxBytes: 1))
        try writer.close()
        #expect(try directory.segmentNames().count == 1)
        #expect(try readAll(directory.log).last?.record.sequence == 30)
    }
}
